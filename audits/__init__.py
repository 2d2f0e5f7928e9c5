"""Safety audits for the annotation workbench: identity groups, fairness, labels, drift, model cards.

A pure library over numpy / scipy / scikit-learn / pandas / krippendorff. It knows arrays only
(never Django, Celery or Label Studio) and none of the other workbench libraries; the app builds
the arrays and maps returned positions back to its ids. Randomness comes only from an explicit
``numpy.random.Generator``. A statistic with too few data to be shown is an
:class:`~audits.results.InsufficientData` carrying the counts, not a number.
"""

from audits.counterfactual import CounterfactualReport, PairGap, counterfactual_gaps
from audits.drift import (
    BOTH_SHIFTED,
    INPUTS_SHIFTED,
    LABELS_SHIFTED,
    NO_SHIFT,
    ClassifierTest,
    DriftReport,
    DriftThresholds,
    GroupRateShift,
    LabelShift,
    LengthShift,
    classifier_two_sample_test,
    drift_report,
)
from audits.fairness import (
    BIAS_METRICS,
    GROUP_METRICS,
    FairnessReport,
    GroupFairness,
    bnsp_auc,
    bpsn_auc,
    fairness_audit,
    generalized_mean,
    roc_auc,
    subgroup_auc,
)
from audits.features import hashed_tfidf_pair
from audits.identity import (
    GroupAssignment,
    Lexicon,
    default_lexicon,
    groups_from_columns,
    groups_from_labels,
    groups_from_text,
    lexicon_from_mapping,
    load_lexicon_document,
)
from audits.labels import AnnotatorGroupTest, GroupLabelStats, LabelAuditReport, label_audit
from audits.model_card import DatasetDescription, ModelCardInput, render_model_card
from audits.results import Estimate, InsufficientData, Interval, MetricResult

__all__ = [
    "BIAS_METRICS",
    "BOTH_SHIFTED",
    "GROUP_METRICS",
    "INPUTS_SHIFTED",
    "LABELS_SHIFTED",
    "NO_SHIFT",
    "AnnotatorGroupTest",
    "ClassifierTest",
    "CounterfactualReport",
    "DatasetDescription",
    "DriftReport",
    "DriftThresholds",
    "Estimate",
    "FairnessReport",
    "GroupAssignment",
    "GroupFairness",
    "GroupLabelStats",
    "GroupRateShift",
    "InsufficientData",
    "Interval",
    "LabelAuditReport",
    "LabelShift",
    "LengthShift",
    "Lexicon",
    "MetricResult",
    "ModelCardInput",
    "PairGap",
    "bnsp_auc",
    "bpsn_auc",
    "classifier_two_sample_test",
    "counterfactual_gaps",
    "default_lexicon",
    "drift_report",
    "fairness_audit",
    "generalized_mean",
    "groups_from_columns",
    "groups_from_labels",
    "groups_from_text",
    "hashed_tfidf_pair",
    "label_audit",
    "lexicon_from_mapping",
    "load_lexicon_document",
    "render_model_card",
    "roc_auc",
    "subgroup_auc",
]
