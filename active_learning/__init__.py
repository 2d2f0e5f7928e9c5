"""Pure active-learning library for the annotation workbench.

Plain Python over numpy / scikit-learn / modAL / cleanlab: it never imports Django, DRF, Celery,
the Label Studio SDK, ``workbench`` or ``exports``. Results are *positions* into the arrays the
caller passed in; the caller maps them back to its own ids. Every random choice takes an explicit
``numpy.random.Generator``. torch / sentence-transformers load lazily on the first real encode.
"""

from .annotators import activelab_scores, annotation_counts, human_disagreement, majority_labels
from .cache import EmbeddingCache, FileEmbeddingCache, MemoryEmbeddingCache, content_keys
from .classifiers import LogisticClassifier, MultiLabelClassifier, PreferenceModel, Task, make_model
from .embed import embed, embed_counted
from .errors import ActiveLearningError, InvalidInputError, NotEnoughLabelsError, UnknownNameError
from .featurizers import (
    DEFAULT_MODEL,
    Featurizer,
    HashedFeaturizer,
    SentenceTransformerFeaturizer,
    get_featurizer,
)
from .metrics import ThresholdChoice, binary_metrics, choose_threshold, multilabel_metrics, preference_metrics
from .round_inputs import LabeledSet, Pool, RoundOptions, ValidationSlice, check_round_data, check_validation
from .rounds import (
    Evaluation,
    Fitted,
    Queried,
    RoundResult,
    bootstrap_committee_proba,
    evaluate_model,
    fit_and_predict,
    pool_view,
    query_pool,
    run_round,
)
from .scores import (
    entropy_scores,
    kl_max_scores,
    least_confidence_scores,
    margin_scores,
    multilabel_committee_scores,
    multilabel_scores,
    vote_entropy_scores,
)
from .selection import diverse_top_k, kcenter_top_k, kmeans_top_k, top_k
from .strategies import PoolView, Selection, Strategy, diversify, get_strategy, query, strategy_names
from .vote_queue import DEFAULT_GOLD_SHARE, gold_mixed_top_k, is_confident, split_vote_scores, vote_margin

__all__ = [
    "DEFAULT_GOLD_SHARE",
    "gold_mixed_top_k",
    "is_confident",
    "split_vote_scores",
    "vote_margin",
    "ActiveLearningError",
    "DEFAULT_MODEL",
    "EmbeddingCache",
    "Evaluation",
    "Featurizer",
    "FileEmbeddingCache",
    "Fitted",
    "HashedFeaturizer",
    "InvalidInputError",
    "LabeledSet",
    "LogisticClassifier",
    "MemoryEmbeddingCache",
    "MultiLabelClassifier",
    "NotEnoughLabelsError",
    "Pool",
    "PoolView",
    "PreferenceModel",
    "Queried",
    "RoundOptions",
    "RoundResult",
    "Selection",
    "SentenceTransformerFeaturizer",
    "Strategy",
    "Task",
    "ThresholdChoice",
    "UnknownNameError",
    "ValidationSlice",
    "activelab_scores",
    "annotation_counts",
    "binary_metrics",
    "bootstrap_committee_proba",
    "check_round_data",
    "check_validation",
    "choose_threshold",
    "content_keys",
    "diverse_top_k",
    "diversify",
    "embed",
    "embed_counted",
    "entropy_scores",
    "evaluate_model",
    "fit_and_predict",
    "get_featurizer",
    "get_strategy",
    "human_disagreement",
    "kcenter_top_k",
    "kl_max_scores",
    "kmeans_top_k",
    "least_confidence_scores",
    "majority_labels",
    "make_model",
    "margin_scores",
    "multilabel_committee_scores",
    "multilabel_metrics",
    "multilabel_scores",
    "pool_view",
    "preference_metrics",
    "query",
    "query_pool",
    "run_round",
    "strategy_names",
    "top_k",
    "vote_entropy_scores",
]
