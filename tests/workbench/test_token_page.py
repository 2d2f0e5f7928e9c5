"""The token page in a real headless Chromium: an ML engineer signs in, reads their token,
replaces it, and the old one stops working."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from workbench.accounts.models import Role
from workbench.accounts.services import token_get, user_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def works(token: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get("/api/me/").status_code == 200


def test_an_ml_engineer_reads_and_replaces_their_token_in_the_browser(browser_page, live_server) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    user = user_create(email="engineer@example.test", role=Role.ML_ENGINEER, password="engineer-pass")
    old = token_get(user=user)
    page = browser_page
    page.goto(f"{live_server.url}/account/token/")
    assert "/quality/login/" in page.url
    page.fill("input[name=username]", "engineer@example.test")
    page.fill("input[name=password]", "engineer-pass")
    page.click("#login button")
    page.wait_for_url(f"{live_server.url}/account/token/")
    assert page.locator("#token").inner_text() == old
    assert "ML engineer" in page.locator("main").inner_text()

    page.click("#rotate button")
    page.wait_for_selector(".messages")
    new = page.locator("#token").inner_text()
    assert new != old and new == token_get(user=user)
    assert "the old one no longer works" in page.locator(".messages").inner_text()
    assert not works(old)
    assert works(new)
