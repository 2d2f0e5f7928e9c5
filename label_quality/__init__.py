"""Label quality for the annotation workbench: agreement, consensus, label issues, gold.

A pure library over numpy / pandas / scikit-learn / statsmodels / krippendorff /
cleanlab. It knows arrays only (never Django, Celery or Label Studio); the app builds
the arrays from its database and maps the returned positions back to its ids.

Conventions (details in :mod:`label_quality.ratings`):

* ratings: ``(n_items, n_annotators)`` float array of category codes, **NaN = missing**;
  multi-label ``(n_items, n_annotators, n_labels)`` of 0/1/NaN;
  preference codes 0 = A, 1 = B, 2 = tie.
* scores: higher = better (more agreement, more likely correct, better annotator).
* randomness: an explicit ``numpy.random.Generator`` argument, never global state.
"""

from label_quality.agreement import (
    AgreementSummary,
    AnnotatorAgreement,
    PairwiseKappa,
    agreement_summary,
    annotator_agreement_with_consensus,
    annotator_blind,
    cohen_kappa_pairwise,
    fleiss_kappa,
    fleiss_kappa_from_counts,
    krippendorff_alpha,
    krippendorff_alpha_from_counts,
    multi_rated_counts,
    multilabel_agreement,
    per_label,
    percent_agreement,
    percent_agreement_from_counts,
)
from label_quality.consensus import (
    ConsensusResult,
    consensus_from_labels,
    crowdlab,
    majority_vote,
    multilabel_consensus,
    vote_fraction_pred_probs,
)
from label_quality.gold import GoldReport, gold_report
from label_quality.issues import (
    LabelIssues,
    MultilabelIssues,
    default_classifier,
    find_label_issues,
    find_multilabel_issues,
    find_preference_issues,
    label_issues_from_features,
    out_of_fold_pred_probs,
    out_of_fold_pred_probs_multilabel,
)
from label_quality.pipelines import (
    ABSENT_CLASS_PROB,
    MultilabelOutOfFold,
    OutOfFold,
    label_set_gold_report,
    out_of_fold_per_label,
    out_of_fold_where_trainable,
)
from label_quality.preference import (
    LENGTH_RATIO_EDGES,
    POSITION_ALPHA,
    GroupShare,
    NearIdentical,
    PositionBias,
    RatioBin,
    Share,
    agreement_by_length_ratio,
    longer_chosen,
    near_identical_pairs,
    normalized_text,
    position_bias,
    wilson_share,
)
from label_quality.ratings import (
    JIGSAW_LABELS,
    PREFERENCE_A,
    PREFERENCE_B,
    PREFERENCE_CATEGORIES,
    PREFERENCE_TIE,
    RatingMatrix,
    multilabel_ratings_from_long,
    ratings_from_long,
)
from label_quality.relabel import RelabelOrder, relabel_order
from label_quality.trends import (
    ConfidenceInterval,
    TrendPoint,
    agreement_trend,
    bootstrap_ci,
    iso_week,
)

__all__ = [
    "RelabelOrder",
    "relabel_order",
    "ABSENT_CLASS_PROB",
    "MultilabelOutOfFold",
    "OutOfFold",
    "label_set_gold_report",
    "out_of_fold_per_label",
    "out_of_fold_where_trainable",
    "LENGTH_RATIO_EDGES",
    "POSITION_ALPHA",
    "GroupShare",
    "NearIdentical",
    "PositionBias",
    "RatioBin",
    "Share",
    "agreement_by_length_ratio",
    "longer_chosen",
    "near_identical_pairs",
    "normalized_text",
    "position_bias",
    "wilson_share",
    "JIGSAW_LABELS",
    "PREFERENCE_A",
    "PREFERENCE_B",
    "PREFERENCE_CATEGORIES",
    "PREFERENCE_TIE",
    "AgreementSummary",
    "AnnotatorAgreement",
    "ConfidenceInterval",
    "ConsensusResult",
    "GoldReport",
    "LabelIssues",
    "MultilabelIssues",
    "PairwiseKappa",
    "RatingMatrix",
    "TrendPoint",
    "agreement_summary",
    "agreement_trend",
    "annotator_agreement_with_consensus",
    "annotator_blind",
    "bootstrap_ci",
    "cohen_kappa_pairwise",
    "crowdlab",
    "default_classifier",
    "find_label_issues",
    "find_multilabel_issues",
    "find_preference_issues",
    "fleiss_kappa",
    "fleiss_kappa_from_counts",
    "krippendorff_alpha_from_counts",
    "multi_rated_counts",
    "percent_agreement_from_counts",
    "gold_report",
    "iso_week",
    "krippendorff_alpha",
    "label_issues_from_features",
    "consensus_from_labels",
    "majority_vote",
    "multilabel_agreement",
    "multilabel_consensus",
    "multilabel_ratings_from_long",
    "out_of_fold_pred_probs",
    "out_of_fold_pred_probs_multilabel",
    "per_label",
    "percent_agreement",
    "ratings_from_long",
    "vote_fraction_pred_probs",
]
