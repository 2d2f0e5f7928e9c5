"""The current model's view of a project's labeled items, for relabel campaigns: a score per
item (selection by score range) and how likely its old label changes (the campaign's order).

Why not the latest round's stored scores: a round scores its pool (unlabeled items) and its
validation slice, while a campaign is about labeled items, the round's own training data; a
model scoring the items it was fitted to agrees with their old labels and cannot say which to
doubt. So: the classifier and features the label-quality analysis uses (logistic regression
over the rounds' embedding cache), trained, when enough items are labeled under the current
guideline version (``MIN_CURRENT``, both classes), on those only (the current policy; the items
it scores are never among them), else out of fold (``label_quality.out_of_fold_where_trainable``)
on the project's labels as they stand, each item scored by a model that never saw its label.
``bench/policy_shift.py`` measures both against a random order.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

import label_quality as lq
from workbench.projects.kinds import KindSpec, Label
from workbench.projects.models import Item
from workbench.quality.features import item_features

N_FOLDS = 5
# Items labeled under the current version, and of each class, before a model of the current
# policy alone orders the campaign.
MIN_CURRENT = 50
MIN_CURRENT_PER_CLASS = 5


@dataclass(frozen=True)
class ModelScores:
    """Per labeled item id: ``score`` (the expected training target: binary P(toxic),
    preference P(A preferred) + P(tie) / 2) and ``change`` (1 - P(its label)). ``note`` says
    what scored them."""

    score: dict[int, float]
    change: dict[int, float]
    note: str


def model_scores(
    *, spec: KindSpec, labels: Mapping[int, Label], current: Collection[int], seed: int
) -> ModelScores | str:
    """Scores of the items in ``labels`` (item id -> the label to train on and to doubt) that
    are not in ``current`` (the items labeled under the current version), or why there are
    none (a sentence)."""
    if spec.multiple:
        return f"{spec.kind} labels are sets of categories; model scores need a single-choice kind"
    ids = sorted(labels)
    codes = np.array([spec.code(str(labels[i])) for i in ids], dtype=np.int64)
    if len(set(codes.tolist())) < 2:
        return "the labeled items hold fewer than two classes, so no model can be trained"
    data = dict(Item.objects.filter(id__in=ids).values_list("id", "data"))
    X = item_features(spec.kind, [data[i] for i in ids])
    now = np.array([i in current for i in ids], dtype=bool)
    per_class = np.bincount(codes[now], minlength=len(spec.codes))
    if now.sum() >= MIN_CURRENT and np.sort(per_class)[-2] >= MIN_CURRENT_PER_CLASS:
        model = lq.default_classifier().fit(X[now], codes[now])
        probs: NDArray[np.float64] = np.zeros((len(ids), len(spec.codes)))
        probs[:, model.classes_] = model.predict_proba(X)
        note = f"logistic regression on the {int(now.sum())} items labeled under the current version"
    else:
        oof = lq.out_of_fold_where_trainable(
            X, codes, len(spec.codes), rng=np.random.default_rng(seed), n_folds=N_FOLDS
        )
        if oof.pred_probs is None:
            return f"no model could be trained ({oof.skipped})"
        probs = oof.pred_probs
        note = f"out-of-fold logistic regression ({oof.n_folds} folds) over {len(ids)} labeled items"
    target = np.array([dict(spec.targets)[name] for name in spec.codes], dtype=np.float64)
    order = lq.relabel_order(codes, probs)
    expected = probs @ target
    keep = [n for n, i in enumerate(ids) if i not in current]
    return ModelScores(
        score={ids[n]: float(expected[n]) for n in keep},
        change={ids[n]: float(order.change[n]) for n in keep},
        note=note,
    )
