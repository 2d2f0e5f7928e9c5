import pytest
from django.contrib.auth import get_user_model

from tests import factories
from tests.rounds.helpers import toxicity_pool
from workbench.rounds.services import round_config_update, round_start

pytestmark = pytest.mark.django_db


def test_the_admin_lists_rounds_and_round_settings(
    fake_gateway, client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    project = factories.project()
    toxicity_pool(project, 10)
    round_config_update(project=project, auto_round_every=10)
    with django_capture_on_commit_callbacks(execute=True):
        round_ = round_start(project=project, trigger="api", strategy="random", batch_size=2)
    admin = get_user_model().objects.create_superuser("root", "root@example.test", "pw")
    client.force_login(admin)
    assert client.get("/admin/rounds/round/").status_code == 200
    assert client.get(f"/admin/rounds/round/{round_.id}/change/").status_code == 200
    assert client.get("/admin/rounds/roundconfig/").status_code == 200
    assert client.get(f"/admin/rounds/roundconfig/{project.id}/change/").status_code == 200
