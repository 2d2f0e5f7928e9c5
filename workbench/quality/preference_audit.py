"""Bias audits of a preference project's labels, for its quality run (numbers in
``label_quality.preference``; this module only gathers the inputs and shapes the JSON).

- position: per annotator, the rate of choosing the first-shown response (the item's recorded
  ``sides``) with an exact binomial test against one half; a rate the test rejects flags the
  annotator (``quality_compute`` adds the flag);
- length: how often the chosen response is the longer one (characters), with a Wilson interval:
  overall on the consensus labels, per annotator on their own answers, per value of each source
  column of the item metadata (``source_split``, ...);
- agreement within bins of the length ratio (longer / shorter), on items with two or more votes;
- tie rate per annotator.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import label_quality as lq
from workbench import votes
from workbench.projects.models import Item
from workbench.projects.sides import chose_first_shown
from workbench.quality.analysis import num
from workbench.quality.ratings import ProjectRatings

# A metadata column is a source column to audit by when it holds strings with few distinct
# values (a subset, a split, a vendor), not free text or ids.
MAX_GROUPS = 20


def _share(share: lq.Share) -> dict[str, Any]:
    return {
        "k": share.k,
        "n": share.n,
        "share": num(share.share),
        "ci_low": num(share.ci_low),
        "ci_high": num(share.ci_high),
    }


def _lengths(data: dict[str, Any], label: Any) -> tuple[int, int] | None:
    """(chosen, rejected) lengths for a decided answer; None for a tie."""
    a, b = len(str(data.get("response_a", ""))), len(str(data.get("response_b", "")))
    if label == "A":
        return a, b
    if label == "B":
        return b, a
    return None


def source_columns(metadata: list[dict[str, Any]]) -> list[str]:
    """Metadata keys whose values are short labels shared by many items."""
    values: dict[str, set[str]] = defaultdict(set)
    for row in metadata:
        for key, value in row.items():
            if isinstance(value, str):
                values[key].add(value)
    return sorted(k for k, v in values.items() if 1 <= len(v) <= MAX_GROUPS and len(v) < len(metadata))


def preference_audit(
    ratings: ProjectRatings, *, consensus: list[dict[str, Any]], alpha: float = lq.POSITION_ALPHA
) -> dict[str, Any]:
    """The audits as JSON (for the run summary); ``consensus`` is the analysis' per item rows."""
    spec = ratings.spec
    item_ids = ratings.item_ids
    rows = {
        item_id: (data, metadata, sides)
        for item_id, data, metadata, sides in Item.objects.filter(id__in=item_ids).values_list(
            "id", "data", "metadata", "sides"
        )
    }
    annotators = ratings.annotator_ids
    first = dict.fromkeys(annotators, 0)
    sided = dict.fromkeys(annotators, 0)
    ties = dict.fromkeys(annotators, 0)
    answers = dict.fromkeys(annotators, 0)
    own_lengths: dict[int, tuple[list[int], list[int]]] = {a: ([], []) for a in annotators}
    for (item_id, ls_user), (label, _) in ratings.given.items():
        data, _, sides = rows[item_id]
        answers[ls_user] += 1
        ties[ls_user] += label == "tie"
        picked_first = chose_first_shown(str(label), sides)
        if picked_first is not None:
            sided[ls_user] += 1
            first[ls_user] += picked_first
        lengths = _lengths(data, label)
        if lengths is not None:
            own_lengths[ls_user][0].append(lengths[0])
            own_lengths[ls_user][1].append(lengths[1])
    bias = lq.position_bias([first[a] for a in annotators], [sided[a] for a in annotators], alpha=alpha)
    per_annotator = []
    for n, ls_user in enumerate(annotators):
        longer, _ = lq.longer_chosen(*own_lengths[ls_user])
        per_annotator.append(
            {
                "ls_user_id": ls_user,
                "n_answers": answers[ls_user],
                "first_shown": {
                    "k": int(bias.n_first[n]),
                    "n": int(bias.n[n]),
                    "share": num(bias.rate[n]),
                    "ci_low": num(bias.ci_low[n]),
                    "ci_high": num(bias.ci_high[n]),
                    "p_value": num(bias.p_value[n]),
                    "flagged": bool(bias.flagged[n]),
                },
                "longer_chosen": _share(longer),
                "ties": _share(lq.wilson_share(ties[ls_user], answers[ls_user])),
            }
        )

    chosen_len, rejected_len, decided_meta = [], [], []
    for item_id, row in zip(item_ids, consensus, strict=True):
        data, metadata, _ = rows[item_id]
        lengths = _lengths(data, row["label"])
        if lengths is not None:
            chosen_len.append(lengths[0])
            rejected_len.append(lengths[1])
            decided_meta.append(metadata or {})
    overall, _ = lq.longer_chosen(chosen_len, rejected_len)
    by_source = {}
    for column in source_columns(decided_meta):
        groups = [str(m.get(column, "(none)")) for m in decided_meta]
        _, per_group = lq.longer_chosen(chosen_len, rejected_len, groups=groups)
        by_source[column] = [{"value": str(g.group), **_share(g.share)} for g in per_group]

    multi = [(i, v) for i, v in zip(item_ids, ratings.votes, strict=True) if len(v) >= 2]
    bins = lq.agreement_by_length_ratio(
        [len(str(rows[i][0].get("response_a", ""))) for i, _ in multi],
        [len(str(rows[i][0].get("response_b", ""))) for i, _ in multi],
        [votes.agreement(spec, v) or 0.0 for _, v in multi],
    )
    return {
        "alpha": alpha,
        "position": {
            "n_items_with_sides": sum(1 for i in item_ids if rows[i][2]),
            "n_flagged": int(bias.flagged.sum()),
        },
        "annotators": per_annotator,
        "longer_chosen": {"overall": _share(overall), "by_source": by_source},
        "agreement_by_length_ratio": [
            {
                "low": b.low,
                "high": num(b.high),
                "n_items": b.n_items,
                "mean_agreement": num(b.mean_agreement),
            }
            for b in bins
        ],
    }


def position_flag(row: dict[str, Any]) -> str | None:
    """The annotator-table flag for one annotator row of :func:`preference_audit`."""
    first = row["first_shown"]
    if not first["flagged"]:
        return None
    return (
        f"picks the first-shown response in {first['k']} of {first['n']} answers "
        f"(binomial p = {first['p_value']:.2g})"
    )
