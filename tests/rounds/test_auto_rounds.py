"""A project can start a round every N new annotations, from wherever annotations arrive."""

from __future__ import annotations

import pytest

from tests import factories
from tests.rounds.helpers import toxicity_pool
from tests.workbench.test_annotation_sync import event_payload, label_in_label_studio
from workbench.annotations.models import Annotation
from workbench.annotations.services import annotations_reconcile, webhook_event_process, webhook_event_receive
from workbench.projects.services import items_push
from workbench.rounds.models import Round
from workbench.rounds.services import round_config_update

pytestmark = pytest.mark.django_db


def deliver(payload, capture) -> None:  # type: ignore[no-untyped-def]
    with capture(execute=True):
        event = webhook_event_receive(payload=payload)
        webhook_event_process(event_id=event.id)


def test_every_n_new_annotations_start_one_round_and_redelivery_starts_none(
    fake_gateway,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    project = factories.project()
    items = toxicity_pool(project, 40)
    items_push(project=project, limit=20)
    round_config_update(
        project=project, auto_round_every=5, strategy="margin", batch_size=5, validation_percent=0
    )
    pushed = [i.__class__.objects.get(id=i.id) for i in items[:11]]
    # Labeled in Label Studio; the workbench hears of it only through the webhooks below.
    labeled = [label_in_label_studio(fake_gateway, i, i.gold) for i in pushed]
    payloads = [
        event_payload("ANNOTATION_CREATED", i, annotation_id=ls.id, label=i.gold)
        for i, ls in zip(pushed, labeled, strict=True)
    ]
    for payload in payloads[:4]:
        deliver(payload, django_capture_on_commit_callbacks)
    assert not Round.objects.filter(project=project).exists()

    deliver(payloads[4], django_capture_on_commit_callbacks)
    (round_,) = Round.objects.filter(project=project)
    assert (round_.trigger, round_.status, round_.annotation_count) == ("auto", "done", 5)
    assert round_.training_size == 5

    for payload in payloads[:5]:  # webhooks delivered again: nothing new, no new round
        deliver(payload, django_capture_on_commit_callbacks)
    assert Round.objects.filter(project=project).count() == 1

    for payload in payloads[5:10]:
        deliver(payload, django_capture_on_commit_callbacks)
    assert list(Round.objects.filter(project=project).values_list("number", "annotation_count")) == [
        (2, 10),
        (1, 5),
    ]


def test_reconciliation_starts_a_due_round_too(fake_gateway, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from workbench.projects import kinds

    project = factories.project()
    items = toxicity_pool(project, 20)
    items_push(project=project, limit=10)
    round_config_update(project=project, auto_round_every=3, strategy="seed_keyword", validation_percent=0)
    fake_gateway.create_user(email="a@x.test", password="pw", first_name="A", last_name="A")
    token = fake_gateway.user_token(email="a@x.test", password="pw")
    interface = kinds.interface(project.kind)
    for item in items[:3]:
        item.refresh_from_db()
        fake_gateway.submit_annotation(
            task_id=item.ls_task_id, result=interface.result_for(item.gold), lead_time=1.0, user_token=token
        )
    with django_capture_on_commit_callbacks(execute=True):
        annotations_reconcile(project=project)
    (round_,) = Round.objects.filter(project=project)
    assert (round_.trigger, round_.status) == ("auto", "done")


def test_without_the_setting_no_round_starts(fake_gateway, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    items = toxicity_pool(project, 5)
    items_push(project=project)
    for item in items:
        item.refresh_from_db()
        ls = label_in_label_studio(fake_gateway, item, item.gold)
        deliver(
            event_payload("ANNOTATION_CREATED", item, annotation_id=ls.id, label=item.gold),
            django_capture_on_commit_callbacks,
        )
    assert Annotation.objects.filter(project=project).count() == len(items)
    assert not Round.objects.exists()
