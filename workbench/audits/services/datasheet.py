"""What a release's datasheet says of the safety audits: the model card of the round the release
came from, the newest label-side audit and the drift verdict of the newest import. Plain text
for ``exports.DatasheetInfo.extra_sections`` (the exports library knows no audits)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from workbench.audits import selectors
from workbench.projects.models import Project
from workbench.rounds.models import Round


def _number(metric: dict[str, object]) -> str:
    value = metric.get("value")
    return f"{value:.3f}" if isinstance(value, float) else "too few items"


def _model_card(project: Project, round_id: int | None) -> str:
    round_ = Round.objects.filter(project=project, id=round_id).first() if round_id else None
    if round_ is None:
        return "No round preceded this release, so no model card."
    page = settings.PUBLIC_URL.rstrip("/") + reverse("audits:round", args=[project.id, round_.id])
    card = settings.PUBLIC_URL.rstrip("/") + reverse("audits:model_card", args=[project.id, round_.id])
    audit = selectors.fairness_get(round_=round_)
    if audit is None:
        return (
            f"Round {round_.number} ({round_.model_version}) has no fairness audit yet; its page ({page}) "
            "runs it and then offers the model card."
        )
    report = audit.report
    return (
        f"Model card of round {round_.number} ({round_.model_version}): {card} (fairness page: {page}). "
        f"On its {report['n_items']} validation items: overall AUC {_number(report['overall_auc'])}, "
        f"final bias metric {_number(report['final_metric'])} over {len(report['groups'])} identity groups."
    )


def _labels(project: Project) -> str:
    audit = selectors.label_audit_latest(project=project)
    if audit is None:
        return "No label-side audit was run (`manage.py audit_labels`)."
    lines = [
        f"Audit of {audit.n_items} items ({audit.created_at:%Y-%m-%d}): {audit.n_flagged} (annotator, group) "
        "pair(s) flagged against their peers."
    ]
    for test in audit.report["flagged"]:
        lines.append(
            f"- {test['annotator']} on {test['group']} ({test['direction']}): {test['k_group']} of "
            f"{test['n_group']} on mentions against {test['k_other']} of {test['n_other']} elsewhere "
            f"(q {test['q_value']:.2g})"
        )
    return "\n".join(lines)


def _drift(project: Project) -> str:
    check = selectors.drift_of_last_import(project=project)
    if check is None:
        return "The newest import has not been checked for drift."
    if check.status != "done":
        return f"The newest import ({check.side_b}) was not tested: {check.reason}."
    return (
        f"Newest import ({check.side_b}, {check.n_b} items) against {check.side_a} ({check.n_a} items): "
        f"**{check.verdict}** ({check.reason}; features: {check.features})."
    )


def release_audit_sections(*, project: Project, round_id: int | None) -> list[tuple[str, str]]:
    return [
        ("Model card", _model_card(project, round_id)),
        ("Label-side audit", _labels(project)),
        ("Drift", _drift(project)),
    ]
