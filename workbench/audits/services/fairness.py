"""Fairness of a round's model on its validation slice (the held-out gold items) per identity
group, and the round's model card."""

from __future__ import annotations

from typing import Any

import numpy as np
from django.db import transaction

import audits
from workbench.audits import reports, selectors
from workbench.audits.models import FairnessAudit
from workbench.audits.services.identity import identity_ensure, lexicon_of, rule_of
from workbench.errors import ValidationFailed
from workbench.projects import kinds
from workbench.projects.models import Item
from workbench.rounds.models import Round

N_RESAMPLES = 200
BLANK = "<identity>"  # what a matched identity term becomes when pairing swapped texts


def _toxic_scores(round_: Round) -> tuple[list[int], list[float], list[int], float]:
    """Labels (1 = toxic), P(toxic), item ids of the validation slice, and the round's threshold
    for "toxic" (0.5 when the round chose none)."""
    kind = kinds.Kind(round_.project.kind)
    stored = round_.validation_scores
    if kind is kinds.Kind.PREFERENCE:
        raise ValidationFailed(
            "A fairness audit needs a toxicity project; preference rounds have no toxic score."
        )
    if round_.status != Round.Status.DONE or not stored:
        raise ValidationFailed(
            f"Round {round_.number} stored no validation scores (it trained no model or had no gold items "
            "in its validation slice); nothing to audit."
        )
    if "item_ids" not in stored:
        raise ValidationFailed(
            f"Round {round_.number} ran before rounds stored their validation items; run a new round."
        )
    threshold: Any = round_.threshold or {}
    if kind is kinds.Kind.TOXICITY_MULTILABEL:
        column = stored["labels"].index("toxic")
        y = [int(row[column]) for row in stored["y"]]
        p = [float(row[column]) for row in stored["p"]]
        chosen = (threshold.get("toxic") or {}).get("threshold")
    else:
        y = [int(v) for v in stored["y"]]
        p = [float(v) for v in stored["p"]]
        chosen = threshold.get("threshold")
    return y, p, list(stored["item_ids"]), float(chosen) if chosen is not None else 0.5


def fairness_audit_run(*, round_: Round, n_resamples: int = N_RESAMPLES) -> FairnessAudit:
    """Audit the round's model per identity group (bootstrap seeded by the round) and render its
    model card; running it again replaces the round's audit."""
    project = round_.project
    y, p, item_ids, threshold = _toxic_scores(round_)
    identity_ensure(project=project, item_ids=item_ids)
    config = selectors.audit_settings_get(project=project)
    groups = selectors.groups_of(project=project, item_ids=item_ids)
    names = sorted({g for item_groups in groups.values() for g in item_groups})
    masks = {name: np.array([name in groups.get(i, ()) for i in item_ids], dtype=bool) for name in names}
    try:
        report = audits.fairness_audit(
            y,
            p,
            masks,
            threshold=threshold,
            rng=np.random.default_rng(round_.seed),
            n_resamples=n_resamples,
            min_count=config.min_count,
        )
    except ValueError as exc:
        raise ValidationFailed(f"Round {round_.number}: {exc}") from exc
    counterfactual = _counterfactual(round_, item_ids, p, lexicon_of(config))
    card = audits.render_model_card(_card_input(round_, report, rule_of(config), counterfactual))
    with transaction.atomic():
        audit, _ = FairnessAudit.objects.update_or_create(
            round=round_,
            defaults={
                "project": project,
                "report": {
                    **reports.fairness(report),
                    "groups_from": rule_of(config),
                    "counterfactual": counterfactual,
                },
                "model_card": card,
                "n_items": len(item_ids),
            },
        )
    return audit


def _counterfactual(
    round_: Round, item_ids: list[int], scores: list[float], lexicon: audits.Lexicon
) -> dict[str, Any]:
    """Score gaps of the identity-swapped pairs among the validation items: items whose text is
    the same once every lexicon term is blanked out, with different terms. Each pair is the first
    such item (by id) against each other one."""
    spec = kinds.spec_of(round_.project.kind)
    pattern = lexicon.pattern()
    texts = dict(Item.objects.filter(id__in=item_ids).values_list("id", "data"))
    by_template: dict[str, list[tuple[int, float, tuple[str, ...]]]] = {}
    for item_id, score in zip(item_ids, scores, strict=True):
        text = " ".join(spec.texts(texts[item_id]))
        terms = tuple(" ".join(m.group(1).lower().split()) for m in pattern.finditer(text))
        if terms:
            template = " ".join(pattern.sub(BLANK, text).lower().split())
            by_template.setdefault(template, []).append((item_id, score, terms))
    pairs = [
        (first, other)
        for members in by_template.values()
        for first in members[:1]
        for other in members[1:]
        if other[2] != first[2]
    ]
    lexicon_name = f"{lexicon.name} {lexicon.version}"
    if not pairs:
        return {"n_pairs": 0, "lexicon": lexicon_name, "reason": "no identity-swapped pairs among the items"}
    gaps = audits.counterfactual_gaps([a[1] for a, _ in pairs], [b[1] for _, b in pairs], top_k=10)
    body: dict[str, Any] = reports.clean(gaps)
    body["quantiles"] = {f"{q:g}": v for q, v in gaps.quantiles.items()}
    body["share_above"] = {f"{t:g}": v for t, v in gaps.share_above.items()}
    body["largest"] = [
        {
            "item_a": pairs[g.position][0][0],
            "item_b": pairs[g.position][1][0],
            "terms_a": list(pairs[g.position][0][2]),
            "terms_b": list(pairs[g.position][1][2]),
            "score_a": g.score_a,
            "score_b": g.score_b,
            "gap": g.gap,
        }
        for g in gaps.largest
    ]
    body["lexicon"] = lexicon_name
    return body


def _card_input(
    round_: Round, report: audits.FairnessReport, rule: str, counterfactual: dict[str, Any]
) -> audits.ModelCardInput:
    project = round_.project
    metrics = {k: float(v) for k, v in round_.metrics.items() if isinstance(v, int | float)}
    featurizer = str(round_.parameters.get("featurizer", "unknown featurizer"))
    finished = round_.finished_at.strftime("%Y-%m-%d") if round_.finished_at else "not finished"
    return audits.ModelCardInput(
        model_name=f"{project.name} toxicity classifier",
        version=round_.model_version,
        date=finished,
        model_type=f"logistic regression on {featurizer} features (active-learning round {round_.number}, "
        f"strategy {round_.strategy})",
        developers=f"the {project.name} project on the annotation workbench",
        intended_use=[
            "Ranking this project's unlabeled items for annotation (active learning).",
            "Pre-screening comments like the project's own for human review.",
        ],
        out_of_scope_use=[
            "Automated moderation decisions without human review.",
            "Text unlike the project's items (other languages, platforms or time periods).",
        ],
        validation_metrics=metrics,
        cost_threshold=report.threshold,
        evaluation_data=audits.DatasetDescription(
            name="validation slice",
            n_items=report.n_items,
            description="Items with a gold label held out of training by the round's content-hash split; "
            f"identity groups from {rule}.",
        ),
        training_data=audits.DatasetDescription(
            name="annotated items",
            n_items=int(round_.training_size or 0),
            description="Items outside the validation slice with a majority label of the project's "
            "annotators.",
        ),
        fairness=report,
        ethical_considerations=[
            "Toxicity models are known to score innocuous mentions of identity groups as toxic "
            "(low BPSN AUC); read the table per group before use.",
            "Identity groups matched by a word list miss implicit mentions and misread ambiguous words.",
        ],
        caveats=[
            (
                f"Counterfactual consistency over {counterfactual['n_pairs']} identity-swapped "
                "validation pairs: "
                f"median |score gap| {counterfactual['quantiles']['0.5']:.3f}, 90th percentile "
                f"{counterfactual['quantiles']['0.9']:.3f}, largest {counterfactual['quantiles']['1']:.3f}."
            )
            if counterfactual["n_pairs"]
            else "No identity-swapped pairs among the validation items: counterfactual consistency "
            "not measured.",
            f"Cost weights: false positive {round_.parameters.get('cost_fp', 1.0)}, "
            f"false negative {round_.parameters.get('cost_fn', 1.0)}.",
        ],
        extra_details={"Seed": str(round_.seed), "Training labels": str(round_.training_size or 0)},
    )
