"""One contract, two implementations: every test runs against the in-memory ``FakeGateway`` and
against ``SdkGateway`` on the real Label Studio server (marked ``label_studio``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.fakes import FakeGateway
from workbench.labelstudio import gateway as gateway_module
from workbench.labelstudio.gateway import SdkGateway
from workbench.labelstudio.server import ServerInfo
from workbench.labelstudio.types import Gateway, LabelStudioError, LsAnnotation, LsTask, Prediction

LABEL_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="toxicity" toName="text" choice="single">
    <Choice value="toxic"/><Choice value="not_toxic"/>
  </Choices>
</View>"""
PASSWORD = "correct-horse-battery-9"

Skip = Callable[[int, str], object]  # (task id, user token): press the UI's Skip button


def choice(value: str) -> list[dict[str, Any]]:
    return [{"from_name": "toxicity", "to_name": "text", "type": "choices", "value": {"choices": [value]}}]


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.label_studio)])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def gateway(kind: str, request: pytest.FixtureRequest) -> Iterator[Gateway]:
    if kind == "fake":
        yield FakeGateway()
        return
    info: ServerInfo = request.getfixturevalue("label_studio")
    real = SdkGateway(info.url, info.token)
    yield real
    real.close()


@pytest.fixture
def skip(gateway: Gateway, request: pytest.FixtureRequest) -> Skip:
    """Skipping is done in the UI, not through the Gateway; tests need it to make cancelled
    annotations."""
    if isinstance(gateway, FakeGateway):
        fake = gateway
        return lambda task_id, token: fake.skip_task(task_id=task_id, user_token=token)
    info: ServerInfo = request.getfixturevalue("label_studio")

    def press_skip(task_id: int, token: str) -> None:
        response = httpx.post(
            f"{info.url}/api/tasks/{task_id}/annotations/",
            json={"result": [], "was_cancelled": True, "lead_time": 1.0},
            headers={"Authorization": f"Token {token}"},
        )
        response.raise_for_status()

    return press_skip


@pytest.fixture
def make_project(gateway: Gateway) -> Iterator[Callable[..., int]]:
    """Creates projects with unique titles; deletes them after the test."""
    created: list[int] = []

    def make(maximum_annotations: int = 1) -> int:
        title = f"contract-{uuid.uuid4().hex[:12]}"
        project_id = gateway.create_project(
            title=title, label_config=LABEL_CONFIG, maximum_annotations=maximum_annotations
        )
        created.append(project_id)
        return project_id

    yield make
    for project_id in created:
        gateway.delete_project(project_id=project_id)


@pytest.fixture(scope="session")
def real_annotators() -> list[tuple[int, str]]:
    """Users of the real server, shared by the tests: signing up and logging in cost seconds
    (password hashing), and since every test has its own project a user brings no state along."""
    return []


@pytest.fixture
def make_annotator(
    gateway: Gateway, kind: str, real_annotators: list[tuple[int, str]]
) -> Callable[[], tuple[int, str]]:
    """An annotator with nothing done in this test's projects: returns (user id, API token)."""
    made = 0

    def make() -> tuple[int, str]:
        nonlocal made
        made += 1
        if kind == "real" and made <= len(real_annotators):
            return real_annotators[made - 1]
        email = f"annotator-{uuid.uuid4().hex[:12]}@example.com"
        user = gateway.create_user(email=email, password=PASSWORD, first_name="Ann", last_name="Otator")
        annotator = (user.id, gateway.user_token(email=email, password=PASSWORD))
        if kind == "real":
            real_annotators.append(annotator)
        return annotator

    return make


def import_items(gateway: Gateway, project_id: int, count: int) -> list[int]:
    return gateway.import_tasks(
        project_id=project_id, tasks=[{"text": f"comment {i}", "item_id": i} for i in range(count)]
    )


def label_all(gateway: Gateway, project_id: int, token: str, value: str = "toxic") -> list[int]:
    """Label the user's whole queue like "Label All Tasks"; returns the served item ids in order."""
    served: list[int] = []
    while (task := gateway.next_task(project_id=project_id, user_token=token)) is not None:
        served.append(task.data["item_id"])
        gateway.submit_annotation(task_id=task.id, result=choice(value), lead_time=2.5, user_token=token)
        if len(served) > 50:
            raise AssertionError("the queue never ends")
    return served


def listed(gateway: Gateway, project_id: int) -> list[LsAnnotation]:
    return list(gateway.iter_annotations(project_id=project_id))


# --- import and queue order -------------------------------------------------------------------


def test_import_returns_new_task_ids_in_item_order(
    gateway: Gateway, make_project: Callable[..., int]
) -> None:
    project_id = make_project()
    task_ids = import_items(gateway, project_id, 5)
    assert len(task_ids) == 5
    assert task_ids == sorted(task_ids)
    assert len(set(task_ids)) == 5


def test_import_sends_large_imports_in_batches(
    gateway: Gateway,
    make_project: Callable[..., int],
    make_annotator: Callable[[], tuple[int, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gateway_module, "BATCH_SIZE", 2)
    project_id = make_project()
    task_ids = import_items(gateway, project_id, 5)
    assert len(task_ids) == 5 and task_ids == sorted(task_ids)
    _, token = make_annotator()
    task = gateway.next_task(project_id=project_id, user_token=token)
    assert task is not None and task.id == task_ids[0] and task.data["item_id"] == 0


def test_tasks_keep_a_data_field_of_their_own(
    gateway: Gateway, make_project: Callable[..., int], make_annotator: Callable[[], tuple[int, str]]
) -> None:
    project_id = make_project()
    gateway.import_tasks(project_id=project_id, tasks=[{"text": "x", "item_id": 7, "data": "kept"}])
    _, token = make_annotator()
    task = gateway.next_task(project_id=project_id, user_token=token)
    assert task is not None and task.data == {"text": "x", "item_id": 7, "data": "kept"}


def test_queue_serves_tasks_in_import_order_then_ends(
    gateway: Gateway, make_project: Callable[..., int], make_annotator: Callable[[], tuple[int, str]]
) -> None:
    project_id = make_project()
    import_items(gateway, project_id, 4)
    _, token = make_annotator()
    assert label_all(gateway, project_id, token) == [0, 1, 2, 3]
    assert gateway.next_task(project_id=project_id, user_token=token) is None


def test_next_task_returns_the_same_task_until_it_is_submitted(
    gateway: Gateway, make_project: Callable[..., int], make_annotator: Callable[[], tuple[int, str]]
) -> None:
    project_id = make_project()
    import_items(gateway, project_id, 3)
    _, token = make_annotator()
    first = gateway.next_task(project_id=project_id, user_token=token)
    again = gateway.next_task(project_id=project_id, user_token=token)
    assert first is not None and again == first


def test_a_task_held_by_one_user_is_not_served_to_another(
    gateway: Gateway, make_project: Callable[..., int], make_annotator: Callable[[], tuple[int, str]]
) -> None:
    project_id = make_project()
    import_items(gateway, project_id, 2)
    (_, first_token), (_, second_token) = make_annotator(), make_annotator()
    held = gateway.next_task(project_id=project_id, user_token=first_token)
    other = gateway.next_task(project_id=project_id, user_token=second_token)
    assert held is not None and other is not None and held.id != other.id


def test_queue_serves_lowest_prediction_score_first(
    gateway: Gateway, make_project: Callable[..., int], make_annotator: Callable[[], tuple[int, str]]
) -> None:
    project_id = make_project()
    task_ids = import_items(gateway, project_id, 6)
    scores = [0.5, 0.1, 0.9, 0.3, 0.7, 0.2]
    gateway.create_predictions(
        project_id=project_id,
        predictions=[
            Prediction(task_id=t, score=s, result=choice("toxic"))
            for t, s in zip(task_ids, scores, strict=True)
        ],
        model_version="margin-v1",
    )
    gateway.set_queue_order(project_id=project_id, model_version="margin-v1")
    _, token = make_annotator()

    served = []
    for _ in range(3):
        task = gateway.next_task(project_id=project_id, user_token=token)
        assert task is not None
        served.append(task.data["item_id"])
        gateway.submit_annotation(task_id=task.id, result=choice("toxic"), lead_time=1.0, user_token=token)
    assert served == [1, 5, 3]  # scores 0.1, 0.2, 0.3

    gateway.set_queue_order(project_id=project_id, model_version=None)
    assert label_all(gateway, project_id, token) == [0, 2, 4]


def test_queue_order_refuses_a_model_version_without_predictions(
    gateway: Gateway, make_project: Callable[..., int]
) -> None:
    project_id = make_project()
    import_items(gateway, project_id, 2)
    with pytest.raises(LabelStudioError) as error:
        gateway.set_queue_order(project_id=project_id, model_version="never-predicted")
    assert error.value.permanent


# --- overlap ------------------------------------------------------------------------------


def test_overlap_serves_each_task_to_two_different_users_only(
    gateway: Gateway, make_project: Callable[..., int], make_annotator: Callable[[], tuple[int, str]]
) -> None:
    project_id = make_project(maximum_annotations=2)
    import_items(gateway, project_id, 3)
    (first_id, first), (second_id, second), (_, third) = make_annotator(), make_annotator(), make_annotator()

    assert label_all(gateway, project_id, first) == [0, 1, 2]
    # Label Studio serves the second annotator the started tasks in random order.
    assert sorted(label_all(gateway, project_id, second, value="not_toxic")) == [0, 1, 2]
    assert gateway.next_task(project_id=project_id, user_token=third) is None

    done = listed(gateway, project_id)
    assert len(done) == 6
    by_item: dict[int, set[int]] = {}
    for annotation in done:
        by_item.setdefault(annotation.task_data["item_id"], set()).add(annotation.completed_by)
    assert by_item == {0: {first_id, second_id}, 1: {first_id, second_id}, 2: {first_id, second_id}}


def test_overlap_serves_tasks_others_started_first(
    gateway: Gateway, make_project: Callable[..., int], make_annotator: Callable[[], tuple[int, str]]
) -> None:
    project_id = make_project(maximum_annotations=2)
    import_items(gateway, project_id, 4)
    (_, first), (_, second) = make_annotator(), make_annotator()
    task = gateway.next_task(project_id=project_id, user_token=first)
    assert task is not None
    gateway.submit_annotation(task_id=task.id, result=choice("toxic"), lead_time=1.0, user_token=first)
    assert gateway.next_task(project_id=project_id, user_token=second) == task


def test_skips_do_not_count_towards_overlap(
    gateway: Gateway,
    make_project: Callable[..., int],
    make_annotator: Callable[[], tuple[int, str]],
    skip: Skip,
) -> None:
    project_id = make_project()
    import_items(gateway, project_id, 1)
    (skipper_id, skipper), (_, labeler) = make_annotator(), make_annotator()
    task = gateway.next_task(project_id=project_id, user_token=skipper)
    assert task is not None
    skip(task.id, skipper)

    assert gateway.next_task(project_id=project_id, user_token=skipper) is None
    assert label_all(gateway, project_id, labeler) == [0]
    skipped, labeled = sorted(listed(gateway, project_id), key=lambda a: a.id)
    assert skipped.was_cancelled and skipped.completed_by == skipper_id and skipped.result == []
    assert not labeled.was_cancelled


# --- annotations ----------------------------------------------------------------------------


def test_submitted_annotations_are_listed_with_their_task_data(
    gateway: Gateway, make_project: Callable[..., int], make_annotator: Callable[[], tuple[int, str]]
) -> None:
    project_id = make_project()
    task_ids = import_items(gateway, project_id, 2)
    user_id, token = make_annotator()
    task = gateway.next_task(project_id=project_id, user_token=token)
    assert task is not None
    submitted = gateway.submit_annotation(
        task_id=task.id, result=choice("toxic"), lead_time=4.25, user_token=token
    )
    assert submitted.task_id == task_ids[0]
    assert submitted.completed_by == user_id
    assert submitted.result == choice("toxic")
    assert submitted.lead_time == pytest.approx(4.25)
    assert not submitted.was_cancelled
    assert submitted.created_at is not None and submitted.created_at.tzinfo is not None

    (found,) = listed(gateway, project_id)
    assert found.id == submitted.id
    assert found.task_id == task.id and found.completed_by == user_id
    assert found.result == choice("toxic") and found.lead_time == pytest.approx(4.25)
    assert found.task_data == {"text": "comment 0", "item_id": 0}


def test_updated_annotations_are_listed_with_the_new_result(
    gateway: Gateway, make_project: Callable[..., int], make_annotator: Callable[[], tuple[int, str]]
) -> None:
    project_id = make_project()
    import_items(gateway, project_id, 1)
    user_id, token = make_annotator()
    label_all(gateway, project_id, token, value="toxic")
    (annotation,) = listed(gateway, project_id)

    gateway.update_annotation(annotation_id=annotation.id, result=choice("not_toxic"))

    (updated,) = listed(gateway, project_id)
    assert updated.id == annotation.id and updated.completed_by == user_id
    assert updated.result == choice("not_toxic")
    assert updated.updated_at is not None and annotation.updated_at is not None
    assert updated.updated_at >= annotation.updated_at


def test_deleted_annotations_are_no_longer_listed(
    gateway: Gateway, make_project: Callable[..., int], make_annotator: Callable[[], tuple[int, str]]
) -> None:
    project_id = make_project()
    import_items(gateway, project_id, 2)
    _, token = make_annotator()
    label_all(gateway, project_id, token)
    first, second = sorted(listed(gateway, project_id), key=lambda a: a.id)

    gateway.delete_annotation(annotation_id=first.id)
    gateway.delete_annotation(annotation_id=first.id)  # a retried delete is harmless

    assert [a.id for a in listed(gateway, project_id)] == [second.id]


def test_an_annotation_is_read_back_by_id_with_its_task_and_project_until_deleted(
    gateway: Gateway, make_project: Callable[..., int], make_annotator: Callable[[], tuple[int, str]]
) -> None:
    project_id = make_project()
    task_ids = import_items(gateway, project_id, 2)
    user_id, token = make_annotator()
    task = gateway.next_task(project_id=project_id, user_token=token)
    assert task is not None
    submitted = gateway.submit_annotation(
        task_id=task.id, result=choice("toxic"), lead_time=2.5, user_token=token
    )
    gateway.update_annotation(annotation_id=submitted.id, result=choice("not_toxic"))

    found = gateway.get_annotation(annotation_id=submitted.id)
    assert found is not None
    assert (found.id, found.task_id, found.project_id, found.completed_by) == (
        submitted.id,
        task_ids[0],
        project_id,
        user_id,
    )
    assert found.result == choice("not_toxic") and found.task_data == {"text": "comment 0", "item_id": 0}
    assert found.lead_time == pytest.approx(2.5) and found.updated_at is not None

    gateway.delete_annotation(annotation_id=submitted.id)
    assert gateway.get_annotation(annotation_id=submitted.id) is None


def test_tasks_are_listed_with_their_data_in_id_order(
    gateway: Gateway, make_project: Callable[..., int]
) -> None:
    project_id = make_project()
    task_ids = import_items(gateway, project_id, 3)
    listed_tasks = list(gateway.iter_tasks(project_id=project_id))
    assert [t.id for t in listed_tasks] == task_ids
    assert [t.data["item_id"] for t in listed_tasks] == [0, 1, 2]


def test_a_project_without_annotations_lists_none(gateway: Gateway, make_project: Callable[..., int]) -> None:
    project_id = make_project()
    import_items(gateway, project_id, 3)
    assert listed(gateway, project_id) == []


# --- users ---------------------------------------------------------------------------------


def test_created_users_can_log_in_and_creating_them_again_is_harmless(gateway: Gateway) -> None:
    email = f"Mixed.Case-{uuid.uuid4().hex[:8]}@Example.com"
    user = gateway.create_user(email=email, password=PASSWORD, first_name="Ann", last_name="Otator")
    again = gateway.create_user(email=email, password=PASSWORD, first_name="Ann", last_name="Otator")
    assert again == user and user.email == email.lower()

    token = gateway.user_token(email=email, password=PASSWORD)
    assert token and token == gateway.user_token(email=email.lower(), password=PASSWORD)


def test_a_wrong_password_is_refused_for_good(gateway: Gateway) -> None:
    email = f"annotator-{uuid.uuid4().hex[:12]}@example.com"
    gateway.create_user(email=email, password=PASSWORD, first_name="A", last_name="B")
    with pytest.raises(LabelStudioError) as error:
        gateway.user_token(email=email, password="not-the-password")
    assert error.value.permanent
    with pytest.raises(LabelStudioError) as error:
        gateway.create_user(email=email, password="not-the-password", first_name="A", last_name="B")
    assert error.value.permanent


# --- webhooks and errors ------------------------------------------------------------------


def test_webhooks_can_be_registered_and_toggled(gateway: Gateway, make_project: Callable[..., int]) -> None:
    project_id = make_project()
    webhook_id = gateway.register_webhook(
        project_id=project_id, url="http://127.0.0.1:9/hooks/label-studio", secret="s3cret"
    )
    assert webhook_id > 0
    gateway.set_webhook_active(webhook_id=webhook_id, active=False)
    gateway.set_webhook_active(webhook_id=webhook_id, active=True)


def test_asking_about_a_missing_project_is_a_permanent_error(
    gateway: Gateway, make_project: Callable[..., int], make_annotator: Callable[[], tuple[int, str]]
) -> None:
    project_id = make_project()
    gateway.delete_project(project_id=project_id)
    gateway.delete_project(project_id=project_id)  # a retried delete is harmless
    _, token = make_annotator()
    with pytest.raises(LabelStudioError) as error:
        gateway.next_task(project_id=project_id, user_token=token)
    assert error.value.permanent and error.value.status == 404
    with pytest.raises(LabelStudioError) as error:
        gateway.import_tasks(project_id=project_id, tasks=[{"text": "x", "item_id": 1}])
    assert error.value.permanent


# --- the real server only -------------------------------------------------------------------


@pytest.mark.label_studio
def test_created_users_belong_to_the_organisation_and_see_its_projects(label_studio: ServerInfo) -> None:
    gateway = SdkGateway(label_studio.url, label_studio.token)
    project_id = gateway.create_project(
        title=f"contract-{uuid.uuid4().hex[:12]}", label_config=LABEL_CONFIG, maximum_annotations=1
    )
    try:
        email = f"annotator-{uuid.uuid4().hex[:12]}@example.com"
        user = gateway.create_user(email=email, password=PASSWORD, first_name="Ann", last_name="Otator")
        headers = {"Authorization": f"Token {gateway.user_token(email=email, password=PASSWORD)}"}
        me = httpx.get(f"{label_studio.url}/api/current-user/whoami", headers=headers).json()
        projects = httpx.get(f"{label_studio.url}/api/projects", headers=headers).json()["results"]
    finally:
        gateway.delete_project(project_id=project_id)
    assert me["id"] == user.id and me["active_organization"] is not None
    assert (me["first_name"], me["last_name"]) == ("Ann", "Otator")
    assert project_id in [p["id"] for p in projects]


def test_an_unreachable_server_is_a_transient_error() -> None:
    gateway = SdkGateway("http://127.0.0.1:9", "any-token", timeout=5)
    with pytest.raises(LabelStudioError) as error:
        gateway.create_project(title="x", label_config=LABEL_CONFIG, maximum_annotations=1)
    assert not error.value.permanent


@pytest.mark.label_studio
def test_a_wrong_api_key_is_a_permanent_error(label_studio: ServerInfo) -> None:
    gateway = SdkGateway(label_studio.url, "0" * 40)
    with pytest.raises(LabelStudioError) as error:
        gateway.create_project(title="x", label_config=LABEL_CONFIG, maximum_annotations=1)
    assert error.value.permanent and error.value.status == 401


def test_a_prediction_scored_outside_0_1_is_silently_dropped(
    gateway: Gateway, make_project: Callable[..., int], make_annotator: Callable[[], tuple[int, str]]
) -> None:
    """Label Studio answers 201 and keeps nothing, so the task is served after every predicted
    one instead of first (lowest score first): scores must be scaled into [0, 1]."""
    project_id = make_project()
    out_of_range, in_range = import_items(gateway, project_id, 2)
    gateway.create_predictions(
        project_id=project_id,
        predictions=[
            Prediction(task_id=out_of_range, score=-0.5, result=choice("toxic")),
            Prediction(task_id=in_range, score=0.5, result=choice("toxic")),
        ],
        model_version="scores-v1",
    )
    gateway.set_queue_order(project_id=project_id, model_version="scores-v1")
    _, token = make_annotator()
    assert label_all(gateway, project_id, token) == [1, 0]


# --- guidelines: instructions and task data -------------------------------------------------


def test_updated_task_data_is_listed_and_served_with_the_new_data(
    gateway: Gateway, make_project: Callable[..., int], make_annotator: Callable[[], tuple[int, str]]
) -> None:
    project_id = make_project()
    task_ids = import_items(gateway, project_id, 3)
    gateway.update_task_data(
        tasks=[LsTask(id=task_ids[1], data={"text": "item 1", "item_id": 1, "guideline_version": 2})]
    )
    listed_tasks = {t.id: t.data for t in gateway.iter_tasks(project_id=project_id)}
    assert listed_tasks[task_ids[1]]["guideline_version"] == 2
    assert "guideline_version" not in listed_tasks[task_ids[0]]
    _, token = make_annotator()
    label_all(gateway, project_id, token)
    stamped = {a.task_id: a.task_data.get("guideline_version") for a in listed(gateway, project_id)}
    assert stamped == {task_ids[0]: None, task_ids[1]: 2, task_ids[2]: None}


def test_updating_a_missing_task_is_a_permanent_error(gateway: Gateway) -> None:
    with pytest.raises(LabelStudioError) as error:
        gateway.update_task_data(tasks=[LsTask(id=987654321, data={"text": "x"})])
    assert error.value.permanent


@pytest.mark.label_studio
def test_instructions_are_set_and_shown(label_studio: ServerInfo) -> None:
    gateway = SdkGateway(label_studio.url, label_studio.token)
    project_id = gateway.create_project(
        title=f"contract-{uuid.uuid4().hex[:12]}", label_config=LABEL_CONFIG, maximum_annotations=1
    )
    try:
        gateway.set_instructions(project_id=project_id, html="<h1>Policy v2</h1><p>Insults count.</p>")
        headers = {"Authorization": f"Token {label_studio.token}"}
        project = httpx.get(f"{label_studio.url}/api/projects/{project_id}/", headers=headers).json()
    finally:
        gateway.delete_project(project_id=project_id)
    assert project["expert_instruction"] == "<h1>Policy v2</h1><p>Insults count.</p>"
    assert project["show_instruction"] is True


def test_fake_instructions_are_set_and_shown() -> None:
    fake = FakeGateway()
    project_id = fake.create_project(title="t", label_config=LABEL_CONFIG, maximum_annotations=1)
    fake.set_instructions(project_id=project_id, html="<p>v1</p>")
    assert (fake.projects[project_id].instructions, fake.projects[project_id].show_instruction) == (
        "<p>v1</p>",
        True,
    )


# --- what incremental reconciliation reads ---------------------------------------------------


def test_changed_tasks_annotations_by_task_and_counts_follow_label_studio(
    gateway: Gateway,
    make_project: Callable[..., int],
    make_annotator: Callable[[], tuple[int, str]],
    skip: Skip,
) -> None:
    import time

    project_id = make_project()
    task_ids = import_items(gateway, project_id, 4)
    _, token = make_annotator()
    time.sleep(1.1)  # the real mark has whole seconds: what follows happens after it
    mark = gateway.change_mark(project_id=project_id)
    assert mark is not None
    assert list(gateway.iter_changed_tasks(project_id=project_id, since=mark)) == []

    done = gateway.submit_annotation(
        task_id=task_ids[1], result=choice("toxic"), lead_time=1.0, user_token=token
    )
    skip(task_ids[2], token)
    changed = list(gateway.iter_changed_tasks(project_id=project_id, since=mark))
    assert [(t.id, t.annotations, t.data["item_id"]) for t in changed] == [
        (task_ids[1], 1, 1),
        (task_ids[2], 1, 2),
    ]
    assert all(t.updated_at > mark for t in changed)
    assert gateway.count_annotations(project_id=project_id) == 2

    read = list(
        gateway.iter_task_annotations(project_id=project_id, task_ids=[task_ids[0], task_ids[1], task_ids[2]])
    )
    assert sorted((a.task_id, a.was_cancelled) for a in read) == [(task_ids[1], False), (task_ids[2], True)]
    assert all(a.task_data["item_id"] in (1, 2) for a in read)

    time.sleep(1.1)
    later = gateway.change_mark(project_id=project_id)
    assert later is not None
    gateway.delete_annotation(annotation_id=done.id)
    (bumped,) = gateway.iter_changed_tasks(project_id=project_id, since=later)
    assert (bumped.id, bumped.annotations) == (task_ids[1], 0)
    assert gateway.count_annotations(project_id=project_id) == 1
