"""The label-side audit over the project's counted answers (:mod:`workbench.votes`)."""

from __future__ import annotations

import numpy as np
from django.contrib.auth.models import User

import audits
from workbench import votes
from workbench.audits import reports, selectors
from workbench.audits.models import LabelAudit
from workbench.audits.services.identity import identity_ensure
from workbench.errors import ValidationFailed
from workbench.projects import kinds
from workbench.projects.kinds import Label
from workbench.projects.models import Project


def _toxic(spec: kinds.KindSpec, label: Label) -> float:
    return float("toxic" in label) if spec.multiple else float(label == "toxic")


def label_audit_run(*, project: Project) -> LabelAudit:
    """Per identity group: rating and consensus prevalence of "toxic", Krippendorff's α, and each
    annotator's toxic rate on mentions of the group against their peers (flagged with evidence)."""
    spec = kinds.spec_of(project.kind)
    if spec.kind is kinds.Kind.PREFERENCE:
        raise ValidationFailed(
            "A label-side audit needs a toxicity project (it audits who calls what toxic)."
        )
    counted = votes.counted_answers(project=project, spec=spec)
    if not counted:
        raise ValidationFailed(f"Project '{project.name}' has no counted answers yet; nothing to audit.")
    item_ids = sorted(counted)
    identity_ensure(project=project, item_ids=item_ids)
    ls_users = sorted({a.ls_user_id for answers in counted.values() for a in answers})
    column = {u: j for j, u in enumerate(ls_users)}
    user_of = {a.ls_user_id: a.annotator_id for answers in counted.values() for a in answers}
    emails = dict(User.objects.filter(id__in=[u for u in user_of.values() if u]).values_list("id", "email"))
    names = [emails.get(user_of[u] or -1) or f"ls-user-{u}" for u in ls_users]
    ratings = np.full((len(item_ids), len(ls_users)), np.nan)
    consensus = np.full(len(item_ids), np.nan)
    for row, item_id in enumerate(item_ids):
        for answer in counted[item_id]:
            ratings[row, column[answer.ls_user_id]] = _toxic(spec, answer.label)
        decided = votes.consensus(spec, [a.label for a in counted[item_id]])
        if decided is not None:
            consensus[row] = _toxic(spec, decided)
    config = selectors.audit_settings_get(project=project)
    groups = selectors.groups_of(project=project, item_ids=item_ids)
    group_names = sorted({g for item_groups in groups.values() for g in item_groups})
    masks = {g: np.array([g in groups.get(i, ()) for i in item_ids], dtype=bool) for g in group_names}
    try:
        report = audits.label_audit(
            ratings, masks, annotators=names, labels=consensus, min_items=config.min_count
        )
    except ValueError as exc:
        raise ValidationFailed(f"Label audit of '{project.name}': {exc}") from exc
    body = reports.clean(report)
    body["flagged"] = [reports.clean(t) for t in report.flagged]
    return LabelAudit.objects.create(
        project=project, report=body, n_items=len(item_ids), n_flagged=len(report.flagged)
    )
