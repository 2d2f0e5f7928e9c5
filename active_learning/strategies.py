"""The strategy registry: each strategy = a pure score function + a selection function.

``score(view, rng) -> (n,)`` gives every pool item a priority (higher = label sooner) and
``select(scores, k, rng, view) -> (k,)`` returns positions into the pool. Both consume only the
given ``numpy.random.Generator``, so a stored seed replays a selection exactly.

Names (see :func:`strategy_names`); ``<name>+kmeans`` / ``<name>+kcenter`` wraps any of them with
a diversity-aware selector.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .annotators import activelab_scores
from .classifiers import Task
from .errors import InvalidInputError, UnknownNameError
from .scores import (
    DISAGREEMENT,
    UNCERTAINTY,
    Aggregate,
    multilabel_committee_scores,
    multilabel_scores,
)
from .selection import (
    DIVERSITY_METHODS,
    Diversity,
    check_scores,
    diverse_top_k,
    nearest_labeled_distance,
    top_k,
)
from .validation import check_k, check_rng
from .vote_queue import (
    DEFAULT_CONFIDENT_MARGIN,
    DEFAULT_GOLD_SHARE,
    DEFAULT_PROMPT_SIMILARITY,
    gold_mixed_top_k,
    split_vote_scores,
)

# Profanity / insult / threat words: a deliberately small default lexicon for cold-start seeding;
# projects pass their own ``keywords`` (identity terms are left out so the seed is not biased
# towards flagging identity mentions).
DEFAULT_KEYWORDS: tuple[str, ...] = (
    "fuck",
    "shit",
    "bitch",
    "cunt",
    "dick",
    "asshole",
    "bastard",
    "idiot",
    "stupid",
    "moron",
    "dumb",
    "loser",
    "suck",
    "pathetic",
    "shut up",
    "kill",
    "die",
    "murder",
    "rape",
    "hate",
)

FIELD_SHAPES = {
    "proba": "proba (n, n_classes) or per-label proba (n, n_labels)",
    "committee_proba": "committee_proba (n_members, n, n_classes|n_labels)",
    "features": "features (n, d)",
    "texts": "texts (n,)",
    "annotations": "annotations (n, n_annotators)",
    "vote_counts": "vote_counts (n, n_classes)",
    "prompt_features": "prompt_features (n, d)",
}


@dataclass(frozen=True)
class PoolView:
    """Everything a strategy may look at for a pool of ``n`` items (unused fields stay None).

    proba: (n, c) class probabilities, or (n, L) per-label positive probabilities for multilabel.
    committee_proba: (m, n, c) or (m, n, L). features: (n, d). labeled_features: (n_labeled, d).
    texts: n strings. annotations: (n, n_annotators) class ids with NaN gaps.
    vote_counts: (n, c) counted votes per class (preference: per direction A / B / tie).
    prompt_features: (n, d) embedding of what an item asks (a pair's prompt). gold: (n,) bool,
    items with a gold label. min_annotations / max_annotations: the overlap every item gets and
    the cap on annotations per item (``split_votes``: follow-ups up to the cap).
    """

    n: int
    task: Task = "binary"
    proba: NDArray[np.float64] | None = None
    committee_proba: NDArray[np.float64] | None = None
    features: Any = None
    labeled_features: Any = None
    texts: Sequence[str] | None = None
    annotations: NDArray[np.float64] | None = None
    multilabel_aggregate: Aggregate = "max"
    max_annotations: int | None = None
    keywords: Sequence[str] = DEFAULT_KEYWORDS
    vote_counts: NDArray[np.float64] | None = None
    prompt_features: Any = None
    gold: NDArray[np.bool_] | None = None
    gold_share: float = DEFAULT_GOLD_SHARE
    min_annotations: int | None = None
    confident_margin: int = DEFAULT_CONFIDENT_MARGIN
    prompt_similarity: float = DEFAULT_PROMPT_SIMILARITY


ScoreFn = Callable[[PoolView, np.random.Generator], NDArray[np.float64]]
SelectFn = Callable[[NDArray[np.float64], int, np.random.Generator, PoolView], NDArray[np.intp]]


@dataclass(frozen=True)
class Selection:
    """positions: (k,) pool positions, best first; scores: (n,) priority of every pool item."""

    positions: NDArray[np.intp]
    scores: NDArray[np.float64]


ALL_TASKS: frozenset[Task] = frozenset({"binary", "multiclass", "multilabel", "preference"})
SINGLE_LABEL: frozenset[Task] = frozenset({"binary", "multiclass"})


@dataclass(frozen=True)
class Strategy:
    name: str
    description: str
    score_fn: ScoreFn
    requires: frozenset[str] = frozenset()
    tasks: frozenset[Task] = ALL_TASKS
    diversity: Diversity | None = None
    candidate_factor: float = 10.0
    needs_model: bool = field(default=False)
    # A selector of its own (used unless the strategy is made diverse with ``diversify``).
    select_fn: SelectFn | None = None

    def check(self, view: PoolView) -> None:
        """Raise if ``view`` lacks an input this strategy needs or has the wrong task."""
        if view.task not in self.tasks:
            raise InvalidInputError(
                f"strategy {self.name!r} does not support task {view.task!r} (supports {sorted(self.tasks)})"
            )
        for name in sorted(self.requires):
            value = getattr(view, name)
            if value is None:
                raise InvalidInputError(
                    f"strategy {self.name!r} needs {FIELD_SHAPES[name]}; it was not given"
                )
            shape = np.shape(value) if name != "texts" else (len(value),)
            axis = 1 if name == "committee_proba" else 0
            if len(shape) <= axis or shape[axis] != view.n:
                raise InvalidInputError(f"{name} has shape {shape}; the pool has n={view.n} (axis {axis})")

    def score(self, view: PoolView, rng: np.random.Generator) -> NDArray[np.float64]:
        """Priority per pool item, shape (n,); higher = label sooner; -inf = ineligible."""
        self.check(view)
        check_rng(rng)
        return check_scores(self.score_fn(view, rng), view.n)

    def select(
        self, scores: NDArray[np.float64], k: int, rng: np.random.Generator, view: PoolView
    ) -> NDArray[np.intp]:
        """k positions from scores (n,) -> (k,)."""
        if self.diversity is None and self.select_fn is not None:
            return self.select_fn(scores, k, rng, view)
        if self.diversity is None:
            return top_k(scores, k, rng=rng)
        return diverse_top_k(
            scores,
            view.features,
            k,
            rng=rng,
            method=self.diversity,
            candidate_factor=self.candidate_factor,
            labeled_features=view.labeled_features,
        )

    def query(self, view: PoolView, k: int, rng: np.random.Generator) -> Selection:
        """Score the pool and select k positions."""
        check_k(k, view.n)
        scores = self.score(view, rng)
        return Selection(self.select(scores, k, rng, view), scores)


def _require(value: Any) -> Any:
    if value is None:  # guarded by Strategy.check; keeps mypy honest about Optional fields
        raise InvalidInputError("missing strategy input")
    return value


def _random(view: PoolView, rng: np.random.Generator) -> NDArray[np.float64]:
    return rng.random(view.n)


def _keyword(view: PoolView, rng: np.random.Generator) -> NDArray[np.float64]:
    texts = _require(view.texts)
    if not view.keywords:
        raise InvalidInputError("keyword seeding needs at least one keyword")
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(k) for k in view.keywords) + r")", re.IGNORECASE)
    hits = np.array([len(pattern.findall(t)) for t in texts], dtype=np.float64)
    jitter = rng.random(view.n)
    # Interleave keyword hits (most hits first) with random non-hits so the seed has both classes.
    hit_idx = np.nonzero(hits > 0)[0]
    hit_idx = hit_idx[np.lexsort((jitter[hit_idx], -hits[hit_idx]))]
    non_idx = np.nonzero(hits == 0)[0]
    non_idx = non_idx[np.argsort(jitter[non_idx], kind="stable")]
    slot = np.empty(view.n, dtype=np.float64)
    slot[hit_idx] = 2.0 * np.arange(hit_idx.shape[0])
    slot[non_idx] = 2.0 * np.arange(non_idx.shape[0]) + 1.0
    return 1.0 - slot / (2.0 * view.n)


def _uncertainty(measure: str) -> ScoreFn:
    fn = UNCERTAINTY[measure]

    def score(view: PoolView, rng: np.random.Generator) -> NDArray[np.float64]:
        proba = _require(view.proba)
        if view.task == "multilabel":
            return multilabel_scores(proba, measure, view.multilabel_aggregate)
        return fn(proba)

    return score


def _disagreement(measure: str) -> ScoreFn:
    fn = DISAGREEMENT[measure]

    def score(view: PoolView, rng: np.random.Generator) -> NDArray[np.float64]:
        committee = _require(view.committee_proba)
        if view.task == "multilabel":
            return multilabel_committee_scores(committee, measure, view.multilabel_aggregate)
        return fn(committee)

    return score


def _activelab(view: PoolView, rng: np.random.Generator) -> NDArray[np.float64]:
    return activelab_scores(
        _require(view.annotations), _require(view.proba), max_annotations=view.max_annotations
    )


def _coreset(view: PoolView, rng: np.random.Generator) -> NDArray[np.float64]:
    if view.labeled_features is None or len(view.labeled_features) == 0:
        return rng.random(view.n)
    return nearest_labeled_distance(view.features, view.labeled_features)


def _split_votes(view: PoolView, rng: np.random.Generator) -> NDArray[np.float64]:
    return split_vote_scores(
        _require(view.vote_counts),
        rng,
        min_annotations=view.min_annotations,
        max_annotations=view.max_annotations,
        confident_margin=view.confident_margin,
    )


def _gold_and_distinct_prompts(
    scores: NDArray[np.float64], k: int, rng: np.random.Generator, view: PoolView
) -> NDArray[np.intp]:
    return gold_mixed_top_k(
        scores,
        k,
        rng=rng,
        prompt_features=_require(view.prompt_features),
        gold=view.gold,
        gold_share=view.gold_share,
        prompt_similarity=view.prompt_similarity,
    )


def diversify(
    strategy: Strategy, method: Diversity = "kmeans", *, candidate_factor: float = 10.0
) -> Strategy:
    """Wrap a strategy so its batch is diverse in feature space (``<name>+<method>``)."""
    if method not in DIVERSITY_METHODS:
        raise UnknownNameError("diversity method", str(method), list(DIVERSITY_METHODS))
    base = strategy.name.split("+")[0]
    return replace(
        strategy,
        name=f"{base}+{method}",
        description=(
            f"{strategy.description}; batch made diverse with {method} over the top {candidate_factor:g}k"
        ),
        requires=strategy.requires | {"features"},
        diversity=method,
        candidate_factor=candidate_factor,
    )


def _build() -> dict[str, Strategy]:
    base = [
        Strategy("random", "uniform random priority (baseline)", _random),
        Strategy(
            "seed_keyword",
            "cold start: keyword/regex hits (most hits first) interleaved with random items",
            _keyword,
            requires=frozenset({"texts"}),
        ),
        Strategy(
            "least_confidence",
            "1 - max class probability (modAL classifier_uncertainty)",
            _uncertainty("least_confidence"),
            requires=frozenset({"proba"}),
            needs_model=True,
        ),
        Strategy(
            "margin",
            "1 - (p1 - p2) (modAL classifier_margin)",
            _uncertainty("margin"),
            requires=frozenset({"proba"}),
            needs_model=True,
        ),
        Strategy(
            "entropy",
            "predictive entropy (modAL classifier_entropy)",
            _uncertainty("entropy"),
            requires=frozenset({"proba"}),
            needs_model=True,
        ),
        Strategy(
            "vote_entropy",
            "entropy of a bootstrap committee's votes (modAL vote_entropy)",
            _disagreement("vote_entropy"),
            requires=frozenset({"committee_proba"}),
            needs_model=True,
        ),
        Strategy(
            "kl_max",
            "max KL(member || consensus) over a bootstrap committee (modAL KL_max_disagreement)",
            _disagreement("kl_max"),
            requires=frozenset({"committee_proba"}),
            needs_model=True,
        ),
        Strategy(
            "activelab",
            "ActiveLab (cleanlab): relabel items whose annotators conflict vs label new items",
            _activelab,
            requires=frozenset({"proba", "annotations"}),
            tasks=SINGLE_LABEL,
            needs_model=True,
        ),
        Strategy(
            "coreset",
            "greedy k-center on features: far from the labeled set and from each other",
            _coreset,
            requires=frozenset({"features"}),
            diversity="kcenter",
            candidate_factor=20.0,
        ),
        Strategy(
            "split_votes",
            "no model: split votes get more annotators (up to the cap), then started, then new items; "
            "a gold share and distinct prompts per batch",
            _split_votes,
            requires=frozenset({"vote_counts", "prompt_features"}),
            tasks=frozenset({"binary", "multiclass", "preference"}),
            select_fn=_gold_and_distinct_prompts,
        ),
    ]
    registry = {s.name: s for s in base}
    stratified = replace(
        diversify(registry["random"], "kmeans", candidate_factor=50.0),
        name="seed_stratified",
        description="cold start: random items stratified over k-means clusters of the features",
    )
    for s in (stratified, diversify(registry["margin"], "kmeans"), diversify(registry["margin"], "kcenter")):
        registry[s.name] = s
    return registry


STRATEGIES: dict[str, Strategy] = _build()


def strategy_names() -> list[str]:
    """Registered strategy names, sorted."""
    return sorted(STRATEGIES)


def cold_start_names() -> list[str]:
    """Strategies that work without a trained model."""
    return sorted(name for name, s in STRATEGIES.items() if not s.needs_model)


def get_strategy(name: str) -> Strategy:
    """Registered strategy by name, or ``<registered>+kmeans|kcenter``; unknown names raise
    :class:`UnknownNameError` listing the valid ones."""
    if name in STRATEGIES:
        return STRATEGIES[name]
    base, plus, method = name.partition("+")
    for m in DIVERSITY_METHODS:
        if plus and base in STRATEGIES and method == m:
            return diversify(STRATEGIES[base], m)
    valid = strategy_names() + [f"<name>+{m}" for m in DIVERSITY_METHODS]
    raise UnknownNameError("strategy", name, valid)


def query(
    strategy: str | Strategy,
    view: PoolView,
    k: int,
    rng: np.random.Generator,
) -> Selection:
    """Convenience: resolve ``strategy`` by name and run it. Returns positions (k,) and scores (n,)."""
    s = get_strategy(strategy) if isinstance(strategy, str) else strategy
    return s.query(view, k, rng)
