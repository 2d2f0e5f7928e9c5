"""The README stays true: every setting, command, kind and API path that exists is documented."""

import re
from pathlib import Path

import pytest
from django.core.management import get_commands
from django.urls import get_resolver

from workbench.projects.kinds import Kind

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def environment_variables() -> set[str]:
    names: set[str] = set()
    for path in [ROOT / "workbench" / "settings.py", *(ROOT / "bin").iterdir()]:
        text = path.read_text()
        names |= set(re.findall(r"""env\.\w+\(\s*["']([A-Z][A-Z0-9_]+)["']""", text))
        names |= set(re.findall(r"""_secret\(["']([A-Z][A-Z0-9_]+)["']\)""", text))
        names |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]+):-", text))
    for path in (ROOT / "tests").rglob("*.py"):
        names |= set(re.findall(r"""os\.environ\.get\(["']([A-Z][A-Z0-9_]+)["']""", path.read_text()))
    return names


def test_the_env_var_scan_finds_the_settings() -> None:
    assert {"DATABASE_URL", "CELERY_BROKER_URL", "LABEL_STUDIO_URL", "SECRET_KEY"} <= environment_variables()


@pytest.mark.parametrize("name", sorted(environment_variables()))
def test_every_environment_variable_is_documented(name: str) -> None:
    assert f"`{name}`" in README


@pytest.mark.parametrize(
    "command", sorted(c for c, app in get_commands().items() if app.startswith("workbench"))
)
def test_every_management_command_is_documented(command: str) -> None:
    assert f"manage.py {command}" in README


@pytest.mark.parametrize("kind", [k.value for k in Kind])
def test_every_project_kind_is_documented(kind: str) -> None:
    assert f"`{kind}`" in README


def api_paths() -> list[str]:
    paths = []
    for top in get_resolver().url_patterns:
        if str(top.pattern) == "api/":
            for pattern in top.url_patterns:
                paths.append("/api/" + re.sub(r"<int:\w+>", "{id}", str(pattern.pattern)))
    return paths


def test_the_api_path_scan_finds_the_api() -> None:
    assert "/api/projects/{id}/items/import/" in api_paths()


@pytest.mark.parametrize("path", api_paths())
def test_every_api_path_is_documented(path: str) -> None:
    assert path in README
