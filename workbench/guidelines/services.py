"""Publishing a guideline version: record it (immutable), make it what annotators see in Label
Studio, and stamp the open tasks with it so every later answer carries the version in force."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from markdown_it import MarkdownIt

from workbench.errors import ValidationFailed, upstream_error
from workbench.guidelines.campaigns import campaign_open
from workbench.guidelines.models import GuidelineVersion
from workbench.guidelines.selection import Selection, selection_check
from workbench.labelstudio import connection
from workbench.labelstudio.types import LabelStudioError, LsTask
from workbench.projects.kinds import spec_of
from workbench.projects.models import Item, Project
from workbench.projects.services import task_data

MAX_TEXT_CHARS = 100_000
NOTE_CHARS = GuidelineVersion._meta.get_field("note").max_length or 500


def guideline_html(text: str) -> str:
    """The Markdown as the HTML Label Studio shows. Raw HTML in the text is escaped, not passed
    through: the instructions are rendered in every annotator's browser."""
    return str(MarkdownIt("commonmark", {"html": False}).render(text))


def guideline_publish(
    *,
    project: Project,
    text: str,
    note: str,
    author: User | None,
    relabel: Selection | None = None,
) -> GuidelineVersion:
    """Publish the next version: Label Studio's instructions become its text, and the data of the
    project's tasks not yet fully labeled carry its number; with a relabel selection, also open a
    relabel campaign under it (``campaigns.campaign_open``). All or nothing here: if Label Studio
    refuses or the selection is bad or finds nothing, no version is recorded (tasks re-stamped
    before the failure carry a number that the retried publish gives again)."""
    if relabel is not None and relabel.given():
        selection_check(project=project, spec=spec_of(project.kind), selection=relabel)
    if not text.strip():
        raise ValidationFailed("text: the guideline is empty.", extra={"fields": {"text": ["empty"]}})
    if len(text) > MAX_TEXT_CHARS:
        raise ValidationFailed(
            f"text: at most {MAX_TEXT_CHARS} characters; got {len(text)}.",
            extra={"fields": {"text": [f"at most {MAX_TEXT_CHARS} characters"]}},
        )
    if not note.strip() or len(note) > NOTE_CHARS:
        raise ValidationFailed(
            f"note: say what changed, in 1 to {NOTE_CHARS} characters; got {len(note.strip())}.",
            extra={"fields": {"note": [f"1 to {NOTE_CHARS} characters"]}},
        )
    gateway = connection.get_gateway()
    ls_project_id = project.ls_id()
    name = ""
    if author is not None and author.pk:
        name = author.email or author.get_username()
    with transaction.atomic():
        # The project row lock orders concurrent publishes; the unique constraint backs it up.
        Project.objects.select_for_update().filter(id=project.id).first()
        last = GuidelineVersion.objects.filter(project=project).order_by("-version").first()
        number = (last.version if last is not None else 0) + 1
        open_items = list(_open_items(project))
        version = GuidelineVersion.objects.create(
            project=project,
            version=number,
            text=text,
            note=note.strip(),
            author=author if author is not None and author.pk else None,
            author_name=name or "system",
            published_at=timezone.now(),
            tasks_updated=len(open_items),
        )
        try:
            gateway.set_instructions(project_id=ls_project_id, html=guideline_html(text))
            gateway.update_task_data(
                tasks=[
                    LsTask(id=item.ls_task_id, data=task_data(item, guideline_version=number))
                    for item in open_items
                    if item.ls_task_id is not None
                ]
            )
        except LabelStudioError as exc:
            raise upstream_error(exc, f"Label Studio refused guideline v{number}") from exc
        if relabel is not None and relabel.given():
            campaign_open(version=version, selection=relabel, created_by=author)
    return version


def _open_items(project: Project) -> list[Item]:
    """Pushed items with fewer counted (not skipped) answers than the project asks for: the
    tasks Label Studio may still serve."""
    return list(
        Item.objects.filter(project=project, ls_task_id__isnull=False)
        .annotate(done=Count("annotations", filter=Q(annotations__was_cancelled=False)))
        .filter(done__lt=project.annotators_per_item)
        .order_by("id")
    )
