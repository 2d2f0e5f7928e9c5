"""Admins add annotators in the Django admin too; the Label Studio account comes with it."""

import pytest
from django.contrib.auth import get_user_model

from tests import factories
from workbench.accounts.models import Account, Role

pytestmark = pytest.mark.django_db


def test_adding_an_annotator_in_the_admin_creates_their_label_studio_login(fake_gateway, client) -> None:  # type: ignore[no-untyped-def]
    admin = get_user_model().objects.create_superuser("root@example.test", "root@example.test", "pw")
    project = factories.project()
    client.force_login(admin)
    response = client.post(
        "/admin/accounts/account/add/",
        {"email": "new@example.test", "first_name": "New", "last_name": "Person", "projects": [project.id]},
        follow=True,
    )
    assert response.status_code == 200
    account = Account.objects.get(user__email="new@example.test")
    assert account.role == Role.ANNOTATOR
    assert account.ls_user_id == fake_gateway.users["new@example.test"].user.id
    assert list(account.user.projects.all()) == [project]
    (message,) = [str(m) for m in response.context["messages"] if "password" in str(m)]
    password = message.split("with the password ")[1].split(" ")[0]
    assert fake_gateway.user_token(email="new@example.test", password=password)
    assert "http://label-studio.test" in message
