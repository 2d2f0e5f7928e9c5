"""The review loop: a label issue goes back to annotators as a new Label Studio task for the
same item, and the answers settle it.

Why a new task: Label Studio's Community edition never serves a user the same task twice and
has no per-task overlap setting, so a review cannot reopen the original task. The review task
carries the same ``item_id`` in its data, so its annotations map back to the item like any
other; an annotator's newest answer on an item is the one that counts, so the review updates
the consensus at the next computation, which also settles the review and writes the trail.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from workbench import votes
from workbench.accounts.models import Account
from workbench.errors import Conflict, upstream_error
from workbench.labelstudio import connection
from workbench.labelstudio.types import LabelStudioError
from workbench.projects import kinds
from workbench.projects.models import Project
from workbench.projects.services import task_data
from workbench.quality.models import ItemConsensus, LabelChange, LabelIssue
from workbench.quality.ratings import ProjectRatings


def label_issue_send_to_review(*, issue: LabelIssue, user: User | None) -> LabelIssue:
    """Put the item in front of ``annotators_per_item`` annotators again (a new task)."""
    project = issue.project
    now = timezone.now()
    with transaction.atomic():
        claimed = LabelIssue.objects.filter(id=issue.id, status=LabelIssue.Status.OPEN).update(
            status=LabelIssue.Status.IN_REVIEW,
            review_requested_by=user if user is not None and user.pk else None,
            review_requested_at=now,
            review_needed=project.annotators_per_item,
        )
    if not claimed:
        issue.refresh_from_db()
        raise Conflict(f"Label issue {issue.id} is {issue.status}; only an open issue can go to review.")
    from workbench.guidelines.selectors import current_version  # late: guidelines builds on quality's apps

    data = task_data(issue.item, guideline_version=current_version(project))  # reviewed under today's policy
    try:
        (task_id,) = connection.get_gateway().import_tasks(
            project_id=project.ls_id(), tasks=[{**data, "review_of_issue": issue.id}]
        )
    except LabelStudioError as exc:
        LabelIssue.objects.filter(id=issue.id).update(
            status=LabelIssue.Status.OPEN, review_requested_by=None, review_requested_at=None
        )
        raise upstream_error(exc, "Label Studio refused the review task") from exc
    with transaction.atomic():
        LabelIssue.objects.filter(id=issue.id).update(review_ls_task_id=task_id)
        LabelChange.objects.create(
            project=project,
            item=issue.item,
            issue=issue,
            kind=LabelChange.Kind.REVIEW_REQUESTED,
            changed_by=user if user is not None and user.pk else None,
            old_label=issue.given_label,
            note=f"Label Studio task {task_id}; {project.annotators_per_item} answer(s) needed",
            at=now,
        )
    issue.refresh_from_db()
    return issue


def consensus_changed(*, project: Project, item_id: int, old: Any, new: Any, what: str) -> None:
    """Record a change of the item's ``what`` ("crowdlab" or "majority_vote") label (inside the
    computation's transaction)."""
    issue = LabelIssue.objects.filter(item_id=item_id, status=LabelIssue.Status.IN_REVIEW).first()
    LabelChange.objects.create(
        project=project,
        item_id=item_id,
        issue=issue,
        kind=LabelChange.Kind.CONSENSUS_CHANGED,
        old_label=old,
        new_label=new,
        note=f"{what} label, " + ("after review" if issue else "recomputed from the annotations"),
        at=timezone.now(),
    )


def reviews_settle(*, project: Project, ratings: ProjectRatings) -> int:
    """Settle every review that has its answers (inside the computation's transaction, after
    the consensus was stored). Returns how many were settled."""
    settled = 0
    users = dict(Account.objects.values_list("ls_user_id", "user_id"))
    for issue in LabelIssue.objects.filter(project=project, status=LabelIssue.Status.IN_REVIEW):
        if issue.review_requested_at is None:  # set together with IN_REVIEW; never None here
            continue
        answers = [
            (ls_user, label, created)
            for (item_id, ls_user), (label, created) in ratings.given.items()
            if item_id == issue.item_id and created is not None and created >= issue.review_requested_at
        ]
        if len(answers) < issue.review_needed:
            continue
        before = votes.counted_answers(
            project=project,
            spec=kinds.spec_of(project.kind),
            item_ids=[issue.item_id],
            made_before=issue.review_requested_at,
        ).get(issue.item_id, [])
        earlier_of = {a.ls_user_id: a.label for a in before}
        for ls_user, label, created in sorted(answers, key=lambda a: a[2]):
            earlier = earlier_of.get(ls_user)
            LabelChange.objects.create(
                project=project,
                item_id=issue.item_id,
                issue=issue,
                kind=LabelChange.Kind.REVIEW_ANSWER,
                changed_by_id=users.get(ls_user),
                old_label=earlier,
                new_label=label,
                note=f"Label Studio user {ls_user}",
                at=created,
            )
        # The issue was raised on the annotators' majority label; judge the review on it too.
        outcome = (
            ItemConsensus.objects.filter(item_id=issue.item_id)
            .values_list("majority_label", flat=True)
            .first()
        )
        issue.outcome_label = outcome
        issue.status = (
            LabelIssue.Status.RELABELED if outcome != issue.given_label else LabelIssue.Status.CONFIRMED
        )
        issue.resolved_at = timezone.now()
        issue.save(update_fields=["outcome_label", "status", "resolved_at"])
        settled += 1
    return settled
