"""``manage.py demo_setup`` against the real Label Studio and PostgreSQL: the whole loop runs
(three annotators per item, simulated annotations, rounds, agreement, a release), the human
annotator can still label by hand, and a second run changes nothing."""

from __future__ import annotations

import io
import json
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from workbench.annotations.models import Annotation
from workbench.annotations.services import annotations_reconcile
from workbench.labelstudio.types import Gateway
from workbench.projects import kinds
from workbench.projects.management.commands import demo_setup
from workbench.projects.models import Item, Project
from workbench.quality.models import QualityRun
from workbench.releases.models import Release
from workbench.rounds.models import Round

pytestmark = [pytest.mark.label_studio, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(monkeypatch, settings, tmp_path: Path, live_server):  # type: ignore[no-untyped-def]
    """The demo under names of its own: the test Label Studio is shared and keeps its users."""
    tag = uuid.uuid4().hex[:8]
    monkeypatch.setattr(demo_setup, "DEMO_PROJECT", f"Demo test {tag}")
    monkeypatch.setattr(demo_setup, "ANNOTATOR_EMAIL", f"demo-annotator-{tag}@workbench.local")
    settings.VAR_DIR = tmp_path / "var"
    settings.RELEASES_DIR = tmp_path / "releases"
    settings.EMBEDDINGS_DIR = tmp_path / "embeddings"
    settings.WORKBENCH_FEATURIZER = "hashed"
    settings.PUBLIC_URL = live_server.url  # webhooks reach this test's server
    return tag


def run_demo() -> str:
    out = io.StringIO()
    call_command("demo_setup", stdout=out)
    return out.getvalue()


def counts(project: Project) -> dict[str, int]:
    return {
        "projects": Project.objects.count(),
        "users": get_user_model().objects.count(),
        "items": Item.objects.filter(project=project).count(),
        "rounds": Round.objects.filter(project=project).count(),
        "annotations": Annotation.objects.filter(project=project).count(),
        "quality_runs": QualityRun.objects.filter(project=project).count(),
        "releases": Release.objects.filter(project=project).count(),
        "pushed": Item.objects.filter(project=project, ls_task_id__isnull=False).count(),
    }


def test_the_demo_runs_the_whole_loop_and_a_second_run_reuses_it(real_gateway: Gateway, demo: str) -> None:
    printed = run_demo()
    project = Project.objects.get(name=demo_setup.DEMO_PROJECT)
    try:
        assert project.annotators_per_item == 3
        per_item = Counter(
            Annotation.objects.filter(project=project, was_cancelled=False).values_list("item_id", flat=True)
        )
        assert max(per_item.values()) == 3 and sum(1 for n in per_item.values() if n == 3) >= 20
        authors = set(Annotation.objects.filter(project=project).values_list("annotator__email", flat=True))
        assert authors == {f"sim-annotator-{i}@workbench.local" for i in (1, 2, 3)}

        rounds = list(Round.objects.filter(project=project).order_by("number"))
        assert [(r.number, r.status, r.strategy) for r in rounds] == [
            (1, "done", "seed_keyword"),
            (2, "done", "margin"),
            (3, "done", "margin"),
        ]
        assert rounds[2].training_size and rounds[2].training_size > rounds[1].training_size
        assert "f1" in rounds[2].metrics and rounds[2].validation_scores is not None
        assert rounds[2].selections.count() == 12

        run = QualityRun.objects.get(project=project)
        assert run.status == "done"
        assert run.summary["n_items_multi_rated"] >= 20
        assert run.summary["statistics"]["krippendorff_alpha"]["value"] is not None

        release = Release.objects.get(project=project)
        assert release.status == "published" and release.record_count, release.error
        assert release.record_count + sum(release.excluded.values()) == 60, release.excluded
        assert release.last_round_id == rounds[2].id

        for url in (
            f"/quality/projects/{project.id}/",
            f"/rounds/projects/{project.id}/",
            f"/releases/projects/{project.id}/1/",
            "/quality/login/",
        ):
            assert url in printed, url
        assert demo_setup.ANNOTATOR_EMAIL in printed

        before = counts(project)
        again = run_demo()
        assert counts(project) == before
        assert f"/rounds/projects/{project.id}/" in again and "Round 1" not in again

        # The human annotator labels by hand (as Label Studio's UI does) next to the simulated ones.
        known = json.loads((Path(demo_setup.settings.VAR_DIR) / "demo-credentials.json").read_text())
        token = real_gateway.user_token(
            email=demo_setup.ANNOTATOR_EMAIL, password=known["annotator_password"]
        )
        task = real_gateway.next_task(project_id=project.ls_project_id, user_token=token)
        assert task is not None
        item = Item.objects.get(id=task.data["item_id"])
        assert item.id not in per_item or per_item[item.id] < 3
        real_gateway.submit_annotation(
            task_id=task.id,
            result=kinds.interface(project.kind).result_for(item.gold),
            lead_time=3.0,
            user_token=token,
        )
        annotations_reconcile(project=project)
        mine = Annotation.objects.get(project=project, annotator__email=demo_setup.ANNOTATOR_EMAIL)
        assert mine.item_id == item.id and mine.label == item.gold
    finally:
        real_gateway.delete_project(project_id=project.ls_project_id)
