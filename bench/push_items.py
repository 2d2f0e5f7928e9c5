"""Benchmark: ``items_push`` against Label Studio's own task import, side by side (issue 14,
target 2: push at >= 0.8x the rate of Label Studio's import).

The same N task payloads (``task_data`` of each item, as ``items_push`` sends them) go to two
Label Studio projects of the bench's own server in the same run: once imported by the SDK
directly (``projects.import_tasks`` in one call, nothing recorded), once pushed by ``items_push``
(batches through the gateway, then the task ids recorded in the workbench's database). Prints
both rates and their ratio; the two are run in alternating order ``--repeat`` times and the
medians are compared, so that neither always runs on the warmer server.

    python -m workbench.labelstudio.server ensure --data-dir var/ls-bench-sync --port 8791
    .venv/bin/python bench/push_items.py            # 10,000 tasks
    .venv/bin/python bench/push_items.py --quick    # 1,000 tasks
    python -m workbench.labelstudio.server stop --data-dir var/ls-bench-sync
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from sync_common import add_arguments, load_average, setup, toxicity_items, toxicity_project

TARGET = 0.8


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="1,000 tasks")
    parser.add_argument("--repeat", type=int, default=3)
    add_arguments(parser)
    args = parser.parse_args()
    n = 1000 if args.quick else args.items
    info = setup(args)

    from label_studio_sdk import LabelStudio

    from workbench.labelstudio import connection
    from workbench.projects import kinds
    from workbench.projects.models import Item
    from workbench.projects.services import items_push, task_data

    gateway = connection.get_gateway()
    sdk = LabelStudio(base_url=info.url, api_key=info.token, timeout=600)
    label_config = kinds.interface("toxicity_binary").xml
    created: list[int] = []
    times: dict[str, list[float]] = {"sdk": [], "push": []}
    try:
        for run in range(args.repeat):
            project = toxicity_project("bench push")
            created.append(project.ls_id())
            toxicity_items(project, n)
            items = list(Item.objects.filter(project=project).select_related("project").order_by("id"))
            payloads = [{"data": task_data(i)} for i in items]
            baseline = gateway.create_project(
                title=f"bench sdk {run}", label_config=label_config, maximum_annotations=1
            )
            created.append(baseline)

            def sdk_import(baseline: int = baseline, payloads: list[dict[str, Any]] = payloads) -> None:
                response = sdk.projects.import_tasks(id=baseline, request=payloads, return_task_ids=True)  # type: ignore[arg-type]
                assert len(response.task_ids or []) == n  # type: ignore[attr-defined]

            def push(project: Any = project) -> None:
                assert items_push(project=project) == n

            order = [("sdk", sdk_import), ("push", push)]
            for name, step in order if run % 2 == 0 else order[::-1]:
                started = time.perf_counter()
                step()
                seconds = time.perf_counter() - started
                times[name].append(seconds)
                print(f"run {run + 1}: {name:4s} {n} tasks in {seconds:.2f} s ({n / seconds:,.0f} tasks/s)")
            assert not Item.objects.filter(project=project, ls_task_id__isnull=True).exists()
    finally:
        for ls_project in created:
            gateway.delete_project(project_id=ls_project)
    # Medians: on a busy machine single runs swing by +-30 %.
    sdk_rate, push_rate = n / statistics.median(times["sdk"]), n / statistics.median(times["push"])
    ratio = push_rate / sdk_rate
    print(f"Label Studio's own import (SDK, one call): {sdk_rate:,.0f} tasks/s (median of {args.repeat})")
    print(f"items_push (batches, task ids recorded): {push_rate:,.0f} tasks/s (median of {args.repeat})")
    verdict = "meets" if ratio >= TARGET else "misses"
    print(f"ratio {ratio:.2f}x ({verdict} the target {TARGET}x)")
    print(f"load: {load_average()}")


if __name__ == "__main__":
    main()
