"""Benchmark: the dashboard pages and list APIs with a 1,000,000-item pool, against 300 ms.

Sets up (once; kept for reruns under the project name ``bench pages <N>``) a PostgreSQL project
with ``--items`` imported items (the import bench's generated CSV, through ``items_import``),
``--pushed`` of them marked pushed (a task id, as ``items_push`` records) and ``--answered`` of
those answered by three simulated annotators (written straight into the database, as
reconciliation would); every item gets identity groups (about 30 % of them a group, in one SQL
insert, then counted per import as the assign service does; a pool set up before this step gets
them on its next run). Then each page is fetched with Django's test client as a signed-in admin:
after a ``VACUUM ANALYZE`` (what autovacuum does after a large write), one warm-up, then the
median of ``--repeat`` fetches, with the number of SQL queries and the slowest one. The target
(issue 14): every page <= 300 ms, with no per-request count of the pool.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wb_import .venv/bin/python bench/pages_at_scale.py
    ... bench/pages_at_scale.py --items 20000 --pushed 2000 --answered 1000   # a quick run
    ... bench/pages_at_scale.py --drop                                         # delete the bench project
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET_MS = 300.0


def setup(items: int, pushed: int, answered: int) -> tuple[int, int]:
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.import_items import generate
    from workbench.accounts.models import Role
    from workbench.accounts.services import user_create
    from workbench.annotations.models import Annotation
    from workbench.projects import kinds, services
    from workbench.projects.models import Item, Project

    name = f"bench pages {items}"
    admin = user_create(email=f"bench-pages-{time.time_ns()}@example.test", role=Role.ADMIN)
    project = Project.objects.filter(name=name).first()
    if project is not None and project.item_count == items:
        identities_write(project.id)
        return project.id, admin.id
    if project is not None:
        sys.exit(f"'{name}' exists but is incomplete: rerun with --drop first.")
    interface = kinds.interface("toxicity_binary")
    project = Project.objects.create(
        name=name,
        kind="toxicity_binary",
        label_config_name=interface.spec.config_name,
        label_config_sha256=interface.sha256,
        annotators_per_item=3,
    )
    path = Path("/tmp/wb-bench-import") / f"pool-{items}.csv"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        generate(path, items, "csv")
    start = time.perf_counter()
    services.items_import_committed = lambda *, import_id: None  # type: ignore[assignment]  # no audit here
    with path.open("rb") as f:
        report = services.items_import(project=project, source=path.name, content=f)
    print(f"imported {report.created:,} items in {time.perf_counter() - start:.0f} s")
    ids = list(Item.objects.filter(project=project).order_by("id").values_list("id", flat=True)[:pushed])
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE projects_item SET ls_task_id = id, pushed_at = %s WHERE project_id = %s AND id <= %s",
            [now, project.id, ids[-1]],
        )
        Annotation.objects.bulk_create(
            (
                Annotation(
                    project=project,
                    item_id=item_id,
                    ls_annotation_id=n * 3 + a + 1,
                    ls_user_id=a + 1,
                    label="toxic" if (item_id + a) % 4 == 0 else "non-toxic",
                    source=Annotation.Source.RECONCILE,
                    synced_at=now,
                )
                for n, item_id in enumerate(ids[:answered])
                for a in range(3)
            ),
            batch_size=5000,
        )
        cursor.execute("ANALYZE projects_item")
    identities_write(project.id)
    return project.id, admin.id


# Identity groups of the bench's items by id (about 30 % with a group), as the after-import audit
# would store them; the rest of the ids get none.
GROUPS_BY_ID_MOD_20 = {
    0: ["female"],
    1: ["male"],
    2: ["black", "female"],
    3: ["muslim"],
    4: ["gay"],
    5: ["christian", "male"],
}


def identities_write(project_id: int) -> None:
    """Store every item's identity groups (once) in one SQL insert, then the per-import counts
    as the assign service keeps them."""
    from django.db import connection, transaction

    from workbench.audits.models import ItemIdentity
    from workbench.audits.services.identity import identity_counts_refresh
    from workbench.projects.models import ItemImport

    if ItemIdentity.objects.filter(project_id=project_id).exists():
        return
    start = time.perf_counter()
    cases = " ".join(f"WHEN {mod} THEN '{json.dumps(groups)}'" for mod, groups in GROUPS_BY_ID_MOD_20.items())
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ItemIdentity._meta.db_table} "
            "(item_id, project_id, groups, terms, source, rule, computed_at) "
            f"SELECT id, project_id, (CASE id %% 20 {cases} ELSE '[]' END)::jsonb, '[]'::jsonb, "
            "'lexicon', 'lexicon default bench', now() FROM projects_item WHERE project_id = %s",
            [project_id],
        )
        cursor.execute(f"ANALYZE {ItemIdentity._meta.db_table}")
    stored = time.perf_counter()
    for record in ItemImport.objects.filter(project_id=project_id):
        identity_counts_refresh(item_import=record)
    print(
        f"stored identity groups of every item in {stored - start:.0f} s, "
        f"counted them per import in {time.perf_counter() - stored:.1f} s"
    )


def measure(project_id: int, admin_id: int, repeat: int) -> list[tuple[str, float, int, str]]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(get_user_model().objects.get(id=admin_id))
    p = project_id
    pages = [
        "/api/projects/",
        f"/api/projects/{p}/",
        f"/api/projects/{p}/items/?limit=100",
        f"/api/projects/{p}/items/?limit=100&offset=500000",
        f"/api/projects/{p}/annotations/?limit=100",
        f"/api/projects/{p}/quality/",
        f"/api/projects/{p}/rounds/",
        f"/api/projects/{p}/audits/identity/",
        "/quality/",
        f"/quality/projects/{p}/",
        "/rounds/",
        f"/rounds/projects/{p}/",
        f"/audits/projects/{p}/",
    ]
    results = []
    for url in pages:
        response = client.get(url)
        if response.status_code != 200:
            sys.exit(f"{url}: {response.status_code} {response.content[:300]!r}")
        times = []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                client.get(url)
                times.append((time.perf_counter() - start) * 1000)
        captured = queries.captured_queries
        slowest = max(captured, key=lambda q: float(q["time"]), default={"sql": "", "time": "0"})
        worst = f"{float(slowest['time']) * 1000:.0f} ms: {slowest['sql'][:90]}"
        results.append((url, statistics.median(times), len(captured), worst))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--pushed", type=int, default=20_000)
    parser.add_argument("--answered", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--drop", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
    os.environ.setdefault("WORKBENCH_DEV_SECRETS", "true")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database (the target is for PostgreSQL).")
    call_command("migrate", verbosity=0)
    if args.drop:
        from bench.import_items import _delete
        from workbench.annotations.models import Annotation
        from workbench.projects.models import Project

        for project in Project.objects.filter(name=f"bench pages {args.items}"):
            Annotation.objects.filter(project=project)._raw_delete(connection.alias)
            _delete(project.id)
        return
    project_id, admin_id = setup(args.items, args.pushed, args.answered)
    with connection.cursor() as cursor:  # what autovacuum does after a large write, done now
        for table in (
            "projects_item",
            "annotations_annotation",
            "projects_project",
            "safety_audits_itemidentity",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(
        f"{args.items:,} items, {args.pushed:,} pushed, {args.answered:,} answered x 3; "
        f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())} (2 shared cores)"
    )
    for url, ms, queries, slowest in measure(project_id, admin_id, args.repeat):
        flag = "ok" if ms <= TARGET_MS else "OVER"
        print(f"{ms:7.0f} ms {flag:4} {queries:3} queries  {url:48} slowest {slowest}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"target: <= {TARGET_MS:.0f} ms per page; load average {load}")


if __name__ == "__main__":
    main()
