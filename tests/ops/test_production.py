"""The README's production set-up runs as written: the documented variables
(``ops/production.env.example``) pass ``check --deploy``, and the Procfile's four lines (migrate
and collectstatic, gunicorn, the Celery worker and beat) serve the admin with its CSS over
PostgreSQL behind a TLS proxy that this test plays, run scheduled tasks, and log JSON lines."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import redis
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
ENV_FILE = ROOT / "ops" / "production.env.example"
BROKER = os.environ.get("CELERY_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")
HOST = "workbench.example.org"


def documented_variables() -> dict[str, str]:
    """The example file's variables as the README loads them (``set -a && . ./production.env``)."""
    names = [line.split("=", 1)[0] for line in ENV_FILE.read_text().splitlines() if line and line[0] != "#"]
    shell = subprocess.run(
        ["bash", "-c", 'set -a && . "$0" && set +a && env -0', str(ENV_FILE)],
        env={},
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = dict(entry.split("=", 1) for entry in shell.stdout.split("\0") if "=" in entry)
    return {name: loaded[name] for name in names}


def test_the_readme_shows_the_procfile_and_the_documented_variables() -> None:
    readme = (ROOT / "docs" / "configuration.md").read_text()
    production = readme[readme.index("### Production") : readme.index("## Operations")]
    for command in procfile().values():
        assert command in production
    for name in documented_variables():
        assert f"`{name}`" in readme


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The documented variables with this test's secrets, services and folders; nothing of the
    developer's own environment that could change a setting."""
    inherited = {
        k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH", "TMPDIR", "USER")
    }
    return {
        **inherited,
        **documented_variables(),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "WORKBENCH_WEBHOOK_SECRET": secrets.token_urlsafe(20),
        "METRICS_TOKEN": secrets.token_urlsafe(20),
        "WORKBENCH_VAR_DIR": str(tmp_path / "var"),
        **overrides,
    }


def test_the_documented_production_variables_pass_check_deploy(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    issues = re.findall(r"^\S*: \((\S+)\) (.*)$", result.stdout + result.stderr, flags=re.M)
    assert issues == [], result.stdout + result.stderr  # no security warning, no schema warning
    assert "security." not in result.stdout + result.stderr


def test_the_embedded_default_fails_check_deploy(tmp_path: Path) -> None:
    """The check is not vacuous: without the documented variables it reports the missing ones."""
    env = production_env(tmp_path, WORKBENCH_DEV_SECRETS="true")
    for name in ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        env.pop(name)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    for code in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert code in result.stderr + result.stdout


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """A PostgreSQL database of its own on the test server, dropped afterwards."""
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("The production test needs PostgreSQL: set DATABASE_URL (bin/test does).")
    name = f"{db['NAME']}_prod_{secrets.token_hex(4)}"
    params = {
        "host": db["HOST"],
        "port": db["PORT"] or 5432,
        "user": db["USER"],
        "password": db["PASSWORD"] or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    try:
        yield f"postgres://{db['USER']}{password}@{db['HOST']}:{params['port']}/{name}"
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def listening_socket() -> Iterator[socket.socket]:
    """gunicorn serves on this socket (``fd://``), so no port has to stay free between choosing
    it and binding it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        sock.set_inheritable(True)
        yield sock


# Printed by Celery's signal handler straight to the terminal, not through logging.
CELERY_SHUTDOWN_NOTICE = re.compile(r"^worker: (Warm|Cold) shutdown \(MainProcess\)$")


def json_log(path: Path) -> list[dict[str, object]]:
    """Every non-empty line of a process's log as the JSON object it must be."""
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines if not CELERY_SHUTDOWN_NOTICE.match(line)]
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records), path
    return records


TASK_SERIES = (
    "workbench_celery_tasks_total"
    '{outcome="success",task="workbench.annotations.tasks.reconcile_all_projects"}'
)


@pytest.mark.label_studio
@pytest.mark.celery_worker
@pytest.mark.django_db
def test_the_procfile_runs_as_documented_behind_tls(
    tmp_path: Path, fresh_database: str, listening_socket: socket.socket, label_studio
) -> None:  # type: ignore[no-untyped-def]
    redis.Redis.from_url(BROKER).flushdb()
    env = production_env(
        tmp_path,
        DATABASE_URL=fresh_database,
        CELERY_BROKER_URL=BROKER,
        LABEL_STUDIO_URL=label_studio.url,
        LABEL_STUDIO_API_KEY=label_studio.token,
        WORKBENCH_BIND=f"fd://{listening_socket.fileno()}",
        RECONCILE_INTERVAL_SECONDS="2",  # so beat sends a task within the test
    )
    commands = procfile()
    assert set(commands) == {"release", "web", "worker", "beat"}
    release = subprocess.run(
        ["bash", "-c", commands["release"]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert release.returncode == 0, release.stdout + release.stderr

    processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(name: str) -> None:
        with (tmp_path / f"{name}.log").open("w") as out:
            processes[name] = subprocess.Popen(
                ["bash", "-c", f"exec {commands[name]}"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                pass_fds=[listening_socket.fileno()] if name == "web" else [],
                start_new_session=True,
            )

    def logs() -> str:
        return "\n".join(f"--- {n}:\n{(tmp_path / f'{n}.log').read_text()[-2000:]}" for n in processes)

    for name in ("web", "worker", "beat"):
        start(name)
    port = listening_socket.getsockname()[1]
    proxied = {"Host": HOST, "X-Forwarded-Proto": "https"}
    scrape = {"Host": HOST, "Authorization": f"Bearer {env['METRICS_TOKEN']}"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            login = [client.get("/admin/login/", headers=proxied) for _ in range(4)]
            assert [r.status_code for r in login] == [200] * 4, logs()
            page = login[0]
            assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
            assert "Secure" in page.headers["Set-Cookie"]  # the CSRF cookie
            stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+\.css)"', page.text)
            assert "/static/admin/css/base.css" in stylesheets
            for href in stylesheets:
                css = client.get(href, headers=proxied)
                assert css.status_code == 200, href
                assert css.headers["Content-Type"].startswith("text/css")
                assert len(css.content) > 100

            missing = client.get("/no-such-page/", headers=proxied)
            assert missing.status_code == 404
            assert "URLconf" not in missing.text and "settings" not in missing.text  # no debug page

            plain = client.get("/admin/login/", headers={"Host": HOST})
            assert plain.status_code == 301
            assert plain.headers["Location"] == f"https://{HOST}/admin/login/"

            ready = client.get("/readyz", headers={"Host": HOST})
            assert ready.status_code == 200, ready.text
            assert all(check["ok"] for check in ready.json()["checks"].values())

            assert client.get("/metrics", headers={"Host": HOST}).status_code == 403
            scraped = client.get("/metrics", headers=scrape)
            assert scraped.status_code == 200
            # Both workers' requests, summed through prometheus_client's multiprocess files.
            series = (
                "workbench_http_request_duration_seconds_count"
                '{method="GET",route="/admin/login/",status="200"}'
            )
            count = re.search(rf"^{re.escape(series)} (\S+)$", scraped.text, flags=re.M)
            assert count is not None and float(count.group(1)) == 4

            # Beat schedules reconciliation, the worker runs it, the web process reports it.
            deadline = time.monotonic() + 180
            while TASK_SERIES not in client.get("/metrics", headers=scrape).text:
                dead = [n for n, p in processes.items() if p.poll() is not None]
                if dead or time.monotonic() > deadline:
                    pytest.fail(f"no task reported (exited: {dead}); logs:\n{logs()}")
                time.sleep(0.5)
    finally:
        for process in processes.values():
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            process.wait(timeout=60)

    web = json_log(tmp_path / "web.log")
    assert any(r["logger"] == "gunicorn.error" and "Booting worker" in str(r["message"]) for r in web)
    assert any(r["logger"] == "gunicorn.access" for r in web)
    assert any(str(r["message"]).endswith("ready.") for r in json_log(tmp_path / "worker.log"))
    assert any("reconcile_all_projects" in str(r["message"]) for r in json_log(tmp_path / "beat.log"))
    assert list((tmp_path / "var").glob("celerybeat-schedule*"))  # beat's state went under WORKBENCH_VAR_DIR
