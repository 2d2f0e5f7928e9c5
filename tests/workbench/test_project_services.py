import pytest

from tests import factories
from workbench.errors import Conflict, ValidationFailed
from workbench.projects import kinds
from workbench.projects.models import Item, ItemImport
from workbench.projects.services import items_import, items_push, project_create

pytestmark = pytest.mark.django_db


def test_creating_a_project_creates_its_label_studio_project_and_webhook(fake_gateway, settings) -> None:  # type: ignore[no-untyped-def]
    owner = factories.user()
    project = factories.project("toxicity_multilabel", owner=owner, annotators_per_item=3)
    ls = fake_gateway.projects[project.ls_project_id]
    assert ls.label_config == kinds.interface("toxicity_multilabel").xml
    assert ls.maximum_annotations == 3
    assert project.label_config_sha256 == kinds.interface("toxicity_multilabel").sha256
    (webhook,) = [w for w in fake_gateway.webhooks.values() if w.project_id == project.ls_project_id]
    assert webhook.url == settings.PUBLIC_URL + "/webhooks/label-studio/"
    assert webhook.secret == settings.WEBHOOK_SECRET
    assert list(project.members.all()) == [owner]


def test_a_project_name_is_unique(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    with pytest.raises(Conflict):
        project_create(name=project.name, kind="preference")
    assert len(fake_gateway.projects) == 1


def test_an_import_with_one_bad_row_imports_nothing(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    content = b"text,label\nfine,non-toxic\nalso fine,toxic\nbroken,maybe\n"
    with pytest.raises(ValidationFailed) as info:
        items_import(project=project, source="pool.csv", content=content)
    assert info.value.extra["errors"] == [
        {
            "file": "pool.csv",
            "row": 3,
            "field": "label",
            "message": "unknown label 'maybe'; valid: toxic, non-toxic",
        }
    ]
    assert "pool.csv: row 3, field 'label'" in info.value.message
    assert Item.objects.count() == 0
    assert ItemImport.objects.count() == 0


def test_duplicates_within_a_file_and_against_the_pool_are_skipped_and_counted(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    first = items_import(project=project, source="a.csv", content=b"text\nhello\nworld\n hello \n")
    assert (first.rows, first.created, first.duplicates, first.duplicate_rows) == (3, 2, 1, [3])
    second = items_import(project=project, source="b.csv", content=b"text\nworld\nnew one\n")
    assert (second.created, second.duplicates, second.duplicate_rows) == (1, 1, [1])
    assert Item.objects.filter(project=project).count() == 3


def test_an_external_id_reused_for_other_content_is_refused(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    items_import(project=project, source="a.csv", content=b"external_id,text\nx1,hello\n")
    with pytest.raises(ValidationFailed, match="'x1' is already used"):
        items_import(project=project, source="b.csv", content=b"external_id,text\nx2,fresh\nx1,other\n")
    assert Item.objects.filter(project=project).count() == 1


def test_pushing_sends_items_in_order_and_records_their_task_ids(fake_gateway) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    factories.toxicity_items(project, 5)
    assert items_push(project=project, limit=3) == 3
    assert items_push(project=project) == 2
    assert items_push(project=project) == 0
    items = list(Item.objects.filter(project=project).order_by("id"))
    tasks = fake_gateway.tasks
    for item in items:
        assert tasks[item.ls_task_id].data == {"text": item.data["text"], "item_id": item.id}
    assert [i.ls_task_id for i in items] == sorted(i.ls_task_id for i in items)
