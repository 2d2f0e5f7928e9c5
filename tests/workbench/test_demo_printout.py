"""The demo prints an ML engineer's token and a pull line that work as printed: the token
authenticates a member of the demo project, and the pasted line pulls a release over HTTP."""

from __future__ import annotations

import os
import re
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from workbench.projects.models import Project

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def demo_setup() -> str:
    out = StringIO()
    call_command("demo_setup", stdout=out)
    return out.getvalue()


def test_the_printed_token_and_pull_line_work(fake_gateway, live_server, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.PUBLIC_URL = live_server.url
    settings.VAR_DIR = tmp_path / "var"
    settings.RELEASES_DIR = tmp_path / "releases"
    first = demo_setup()
    again = demo_setup()  # idempotent: the same engineer and token

    token = re.search(r"An ML engineer's API token:\s+(\w+)", first)
    assert token, first
    assert re.search(r"An ML engineer's API token:\s+(\w+)", again).group(1) == token.group(1)  # type: ignore[union-attr]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.group(1)}")
    assert client.get("/api/me/").json()["role"] == "ml_engineer"
    project = Project.objects.get(name="Demo: toxicity (binary)")
    assert client.get(f"/api/projects/{project.id}/").status_code == 200
    signin = re.search(r"sign in as (\S+) / (\S+) at (\S+)/account/token/", first)
    assert signin and signin.group(3) == live_server.url
    assert APIClient().login(username=signin.group(1), password=signin.group(2))

    # The demo's loop published release 1 ...
    assert client.get(f"/api/projects/{project.id}/releases/1/").json()["status"] == "published"

    # ... and the printed pull line, pasted as it is, downloads and verifies it.
    printed = first.split("Pull the newest release of the demo project (once one is published):\n", 1)[1]
    command = " ".join(line.strip().rstrip("\\") for line in printed.strip().splitlines()[:2])
    assert command.startswith(".venv/bin/python -m workbench_client pull --url ")
    # Run where the user runs it (the checkout, with its .venv), writing data/ under tmp_path.
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    result = subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, env={**os.environ}, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    pulled = tmp_path / "data" / "v1"
    assert (pulled / "manifest.json").exists()
    assert list((pulled / "jsonl").glob("*.jsonl"))
