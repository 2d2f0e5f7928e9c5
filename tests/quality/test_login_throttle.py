"""Issue 13, defect 9: failed sign-ins on /quality/login/ are throttled (Django's cache counts
them per e-mail and address, and per address)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client

from workbench.accounts.models import Role
from workbench.accounts.services import user_create

pytestmark = pytest.mark.django_db
URL = "/quality/login/"


@pytest.fixture(autouse=True)
def _empty_cache(settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    settings.LOGIN_FAILURES_PER_ACCOUNT = 5
    settings.LOGIN_FAILURES_PER_ADDRESS = 50
    cache.clear()
    yield
    cache.clear()


def sign_in(email: str, password: str, address: str = "10.0.0.1") -> int:
    response = Client(REMOTE_ADDR=address).post(URL, {"username": email, "password": password})
    return response.status_code


def test_five_wrong_passwords_block_the_account_from_that_address_even_with_the_right_one() -> None:
    user_create(email="boss@example.test", role=Role.ADMIN, password="s3cret-pass")
    assert [sign_in("boss@example.test", "wrong") for _ in range(5)] == [200] * 5  # the form again
    response = Client(REMOTE_ADDR="10.0.0.1").post(
        URL, {"username": "boss@example.test", "password": "s3cret-pass"}
    )
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    # The same account from elsewhere, and another account from here, still sign in.
    assert sign_in("boss@example.test", "s3cret-pass", address="10.0.0.2") == 302
    user_create(email="other@example.test", role=Role.ADMIN, password="0ther-pass")
    assert sign_in("other@example.test", "0ther-pass") == 302


def test_a_success_clears_the_count() -> None:
    user_create(email="boss@example.test", role=Role.ADMIN, password="s3cret-pass")
    for _ in range(4):
        sign_in("boss@example.test", "wrong")
    assert sign_in("boss@example.test", "s3cret-pass") == 302
    for _ in range(4):
        sign_in("boss@example.test", "wrong")
    assert sign_in("boss@example.test", "s3cret-pass") == 302


def test_many_e_mails_tried_from_one_address_block_that_address(settings) -> None:  # type: ignore[no-untyped-def]
    settings.LOGIN_FAILURES_PER_ADDRESS = 3
    user_create(email="boss@example.test", role=Role.ADMIN, password="s3cret-pass")
    for n in range(3):
        assert sign_in(f"guess{n}@example.test", "wrong") == 200
    assert sign_in("boss@example.test", "s3cret-pass") == 429
    assert sign_in("boss@example.test", "s3cret-pass", address="10.0.0.9") == 302
