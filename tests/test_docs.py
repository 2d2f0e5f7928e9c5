"""The README stays true: everything that exists is documented, and what it documents exists and
works as it says -- every `manage.py` command line it shows parses with that command's own
parser, every environment variable in its table is read by the code with the documented
default, and every API path it lists resolves to a view that answers the documented methods."""

from __future__ import annotations

import ast
import re
import shlex
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, get_commands, load_command_class
from django.urls import Resolver404, URLResolver, get_resolver, resolve

from workbench import settings as settings_module
from workbench.labelstudio import server
from workbench.projects.kinds import SPECS, Kind

ROOT = Path(__file__).resolve().parents[1]
# The README and the reference pages it links (docs/*.md): one text, as a reader meets it.
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README = "\n".join(path.read_text() for path in DOC_FILES)
BIN_SCRIPTS = sorted(p for p in (ROOT / "bin").iterdir() if p.is_file())


# --- environment variables ----------------------------------------------------------------


def settings_defaults() -> dict[str, list[object]]:
    """Each variable settings.py reads with ``env.<type>(NAME, default)``: its default, evaluated
    in the settings module (``_secret(NAME)`` reads with no default of its own: None)."""
    found: dict[str, list[object]] = {}
    tree = ast.parse((ROOT / "workbench" / "settings.py").read_text())
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
            continue
        name = node.args[0].value
        if not (isinstance(name, str) and re.fullmatch(r"[A-Z][A-Z0-9_]+", name)):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "_secret":
            found.setdefault(name, []).append(None)
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "env":
            default = next((k.value for k in node.keywords if k.arg == "default"), None)
            default = default or (node.args[1] if len(node.args) > 1 else None)
            value = (
                eval(compile(ast.Expression(default), "settings.py", "eval"), vars(settings_module))
                if default
                else None
            )  # noqa: S307  (our own settings file)
            found.setdefault(name, []).append(value)
    return found


def _expand(known: dict[str, str], match: re.Match[str]) -> str:
    return known.get(match.group(1), match.group(0))


def script_defaults() -> dict[str, list[object]]:
    """Each variable a bin/ script reads as ``${NAME:-default}``, with ``$VAR`` in the default
    expanded from the script's own ``VAR=${OTHER:-value}`` lines."""
    found: dict[str, list[object]] = {}
    for path in BIN_SCRIPTS:
        text = path.read_text()
        local = dict(re.findall(r"^(?:export )?(\w+)=\$\{\w+:-([^}]*)\}", text, flags=re.M))
        for name, default in re.findall(r"\$\{([A-Z][A-Z0-9_]+):-([^}]*)\}", text):
            expanded = re.sub(r"\$\{?(\w+)\}?", partial(_expand, local), default)
            found.setdefault(name, []).append(expanded)
    return found


def defaults_in_tests() -> dict[str, list[object]]:
    found: dict[str, list[object]] = {}
    for path in (ROOT / "tests").rglob("*.py"):
        for name, default in re.findall(
            r"""os\.environ\.get\(["']([A-Z][A-Z0-9_]+)["'],\s*["']([^"']*)["']""", path.read_text()
        ):
            found.setdefault(name, []).append(default)
    return found


def defaults_in_ops() -> dict[str, list[object]]:
    """What the production configuration (``ops/gunicorn.conf.py`` and the ops app) reads:
    literal defaults as written, a computed default as None (the README then describes it)."""
    found: dict[str, list[object]] = {}
    for path in [*(ROOT / "ops").glob("*.py"), *(ROOT / "workbench" / "ops").glob("*.py")]:
        text = path.read_text()
        for name, literal in re.findall(
            r"""os\.environ(?:\.get|\.setdefault)\(\s*["']([A-Z][A-Z0-9_]+)["'](?:,\s*["']([^"']*)["']\))?""",
            text,
        ):
            found.setdefault(name, []).append(literal or None)
    return found


def code_defaults() -> dict[str, list[object]]:
    """Each variable the code reads, with the defaults that apply to the workbench: settings.py's
    for the variables it reads, else those of bin/, the tests and the production configuration."""
    merged: dict[str, list[object]] = dict(settings_defaults())
    for source in (script_defaults(), defaults_in_tests(), defaults_in_ops()):
        for name, defaults in source.items():
            if name not in settings_defaults():
                merged.setdefault(name, []).extend(defaults)
    return merged


def documented_variables() -> dict[str, str]:
    """The README's configuration table: variable -> its default cell."""
    rows = re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \| (.*?) \| .* \|$", README, flags=re.M)
    return dict(rows)


def normalized(value: object) -> str:
    """A default as the README writes it: booleans lower-case, lists comma-joined, paths under
    the repository relative to it, no trailing slash."""
    if isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, list | tuple):
        text = ",".join(map(str, value))
    else:
        text = str(value)
    text = text.replace(f"{settings.BASE_DIR}/", "").replace(str(settings.BASE_DIR), ".")
    return text.rstrip("/")


def test_the_scans_find_what_the_code_reads() -> None:
    found = code_defaults()
    assert {
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "LABEL_STUDIO_URL",
        "SECRET_KEY",
        "LOG_LEVEL",
    } <= found.keys()
    assert {"PYTHON", "WORKBENCH_PORT", "CELERY_TEST_BROKER_URL"} <= found.keys()
    assert "LABEL_STUDIO_PORT" in documented_variables()


@pytest.mark.parametrize("name", sorted(code_defaults()))
def test_every_environment_variable_is_documented(name: str) -> None:
    assert name in documented_variables(), f"{name} is read by the code but not in the README's table"


@pytest.mark.parametrize("name", sorted(documented_variables()))
def test_every_documented_variable_is_read_with_the_documented_default(name: str) -> None:
    defaults = code_defaults().get(name)
    assert defaults, f"the README documents {name}, but neither settings.py, bin/, the tests nor ops/ read it"
    cell = documented_variables()[name]
    literal = re.fullmatch(r"`([^`]+)`", cell)
    if literal:
        for default in defaults:
            assert normalized(default) == normalized(literal.group(1)), (name, default, cell)
    elif cell.startswith(("unset", "—")):
        # "unset: ..." / "—": nothing is assumed when it is missing.
        assert all(default in ("", None, [], ()) for default in defaults), (name, defaults, cell)


@pytest.mark.parametrize(
    ("name", "default"),
    sorted(
        (name, str(default))
        for name, defaults in script_defaults().items()
        if name in settings_defaults()
        for default in defaults
        if default
    ),
)
def test_a_script_default_that_differs_from_the_settings_is_documented_too(name: str, default: str) -> None:
    """bin/test runs against PostgreSQL by default, unlike the workbench: the README says so."""
    if [normalized(d) for d in settings_defaults()[name]] != [normalized(default)]:
        assert f"`{name}`, default `{default}`" in " ".join(README.split()), (name, default)


def test_label_studio_port_and_data_dir_reach_the_local_server() -> None:
    """The README says LABEL_STUDIO_PORT and LABEL_STUDIO_DATA_DIR choose the local server's port
    and data dir: bin/demo must hand them to the server it starts, and the workbench must look
    for it there."""
    demo = (ROOT / "bin" / "demo").read_text()
    for line in re.findall(r"^.*workbench\.labelstudio\.server (?:ensure|status|stop).*$", demo, flags=re.M):
        assert '--data-dir "$LS_DATA_DIR"' in line, line
    ensure = re.search(r"^.*workbench\.labelstudio\.server ensure.*$", demo, flags=re.M)
    assert ensure is not None and '--port "$LS_PORT"' in ensure.group(0)
    assert re.search(r"^LS_PORT=\$\{LABEL_STUDIO_PORT:-", demo, flags=re.M)
    assert re.search(r"^LS_DATA_DIR=\$\{LABEL_STUDIO_DATA_DIR:-", demo, flags=re.M)
    connection = (ROOT / "workbench" / "labelstudio" / "connection.py").read_text()
    assert "server.status(settings.LABEL_STUDIO_DATA_DIR)" in connection


# --- management commands ------------------------------------------------------------------


def readme_command_lines() -> list[str]:
    """Every ``manage.py <command> ...`` the README shows: whole lines of its code blocks (with
    continuation lines joined), and inline `code` spans."""
    lines = []
    blocks, prose, inside = [], [], False
    for line in README.splitlines():
        if line.lstrip().startswith("```"):  # a fence opens or closes a block, whatever its language
            inside = not inside
            blocks.append("")
        elif inside:
            blocks[-1] += line + "\n"
        else:
            prose.append(line)
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():
            for part in line.split("  #", 1)[0].split(" && "):  # `a && b`: two commands
                command = re.search(r"manage\.py [a-z_]+\b.*", part)
                if command:
                    lines.append(command.group(0).strip())
    outside_blocks = "\n".join(prose)
    lines += [span for span in re.findall(r"`[^`\n]*?(manage\.py [a-z_]+\b[^`\n]*)`", outside_blocks)]
    return lines


def parse_command_line(line: str) -> tuple[str, Any]:
    words = shlex.split(line)[1:]
    name, args = words[0], words[1:]
    commands = get_commands()
    assert name in commands, f"the README shows `manage.py {name}`, which is no command"
    # "[project]" in prose is an optional argument; fill it in as a person would.
    args = [re.sub(r"^\[(\w+)\]$", r"\1", arg) for arg in args]
    parser = load_command_class(commands[name], name).create_parser("manage.py", name)
    # argparse would take an abbreviation (`--lim` for `--limit`): the README must spell them out.
    flags = {option for action in parser._actions for option in action.option_strings}
    for word in args:
        flag = word.split("=", 1)[0]
        assert not flag.startswith("-") or flag in flags, f"`{line}`: `manage.py {name}` has no {flag}"
    try:
        return name, parser.parse_args(args)
    except CommandError as exc:
        raise AssertionError(f"`{line}` from the README does not parse: {exc}") from exc


def test_the_command_scan_finds_the_readme_examples() -> None:
    names = {shlex.split(line)[1] for line in readme_command_lines()}
    assert {"import_items", "push_items", "simulate_annotators", "start_round", "create_release"} <= names


@pytest.mark.parametrize("line", readme_command_lines())
def test_every_command_line_in_the_readme_parses(line: str) -> None:
    name, options = parse_command_line(line)
    if name == "simulate_annotators":  # a rate per annotator, as the README promises
        assert len(options.error_rate.split(",")) in (1, options.annotators)


def readme_server_lines() -> list[str]:
    return [line.strip() for line in re.findall(r"python -m workbench\.labelstudio\.server [^#`\n]*", README)]


def test_the_server_scan_finds_the_readme_examples() -> None:
    assert len(readme_server_lines()) >= 4


@pytest.mark.parametrize("line", readme_server_lines())
def test_every_label_studio_server_command_in_the_readme_parses(line: str) -> None:
    try:
        server.parser().parse_args(shlex.split(line)[3:])
    except SystemExit as exc:  # argparse's way to refuse
        raise AssertionError(f"`{line}` from the README does not parse") from exc


@pytest.mark.parametrize(
    "command", sorted(c for c, app in get_commands().items() if app.startswith("workbench"))
)
def test_every_management_command_is_documented(command: str) -> None:
    assert f"manage.py {command}" in README


# --- kinds and API paths ------------------------------------------------------------------


@pytest.mark.parametrize("kind", [k.value for k in Kind])
def test_every_project_kind_is_documented(kind: str) -> None:
    assert f"`{kind}`" in README


@pytest.mark.parametrize("kind", [k.value for k in Kind])
def test_the_kinds_table_names_each_kinds_config_and_labels(kind: str) -> None:
    row = re.search(rf"^\| `{kind}` \| `([^`]+)` \| (.*?) \|", README, flags=re.M)
    assert row is not None, f"no row for {kind} in the README's kinds table"
    spec = SPECS[Kind(kind)]
    assert row.group(1) == f"labeling_configs/{spec.config_name}" and (ROOT / row.group(1)).is_file()
    labels = [label for span in re.findall(r"`([^`]+)`", row.group(2)) for label in span.split(", ")]
    assert labels == list(spec.labels), (kind, labels)
    assert ("any subset" in row.group(2)) == spec.multiple


def api_paths() -> list[str]:
    paths = []
    for top in get_resolver().url_patterns:
        if isinstance(top, URLResolver) and str(top.pattern) == "api/":
            for pattern in top.url_patterns:
                paths.append("/api/" + re.sub(r"<int:\w+>", "{id}", str(pattern.pattern)))
    return paths


# Label Studio's own API, which the README mentions where it says what the workbench calls.
LABEL_STUDIO_PATHS = {
    "/api/projects/{id}/next",
    "/api/webhooks/",
    "/api/annotations/{id}/",
    "/api/tasks/{id}/",
}


def readme_api_operations() -> list[tuple[str, str]]:
    """(methods, path) of every `METHOD[, METHOD] /api/...` the README names."""
    found = re.findall(
        r"`((?:GET|POST|PATCH|PUT|DELETE)(?:, (?:GET|POST|PATCH|PUT|DELETE))*) (/api/[^`\s?]*)", README
    )
    return sorted({(methods, path) for methods, path in found if path not in LABEL_STUDIO_PATHS})


def test_the_api_path_scan_finds_the_api() -> None:
    assert "/api/projects/{id}/items/import/" in api_paths()
    assert ("POST", "/api/projects/{id}/items/import/") in readme_api_operations()


@pytest.mark.parametrize("path", api_paths())
def test_every_api_path_is_documented(path: str) -> None:
    assert path in README


@pytest.mark.parametrize(("methods", "path"), readme_api_operations())
def test_every_api_operation_in_the_readme_exists(methods: str, path: str) -> None:
    try:
        match = resolve(path.replace("{id}", "1"))
    except Resolver404 as exc:
        raise AssertionError(f"the README documents {path}, which resolves to no view") from exc
    view = getattr(match.func, "cls", None) or getattr(match.func, "view_class", None)
    assert view is not None, path
    for method in methods.split(", "):
        assert hasattr(view, method.lower()), f"{path} does not answer {method}"
