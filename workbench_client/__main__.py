"""``python -m workbench_client pull|list|diff ...``"""

from __future__ import annotations

import argparse
import json
import os
import sys

from workbench_client.client import WorkbenchClient, WorkbenchClientError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbench_client", description=__doc__)
    parser.add_argument("command", choices=["pull", "list", "diff"])
    parser.add_argument("--url", default=os.environ.get("WORKBENCH_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--token", default=os.environ.get("WORKBENCH_TOKEN", ""))
    parser.add_argument("--project", type=int, required=True)
    parser.add_argument("--version", default="latest", help="a version number or 'latest'")
    parser.add_argument("--format", default="parquet", help="jsonl, csv, parquet or trl")
    parser.add_argument("--out", default=".")
    parser.add_argument("--from", dest="old", type=int)
    parser.add_argument("--to", dest="new", type=int)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("--token (or WORKBENCH_TOKEN) is required")
    try:
        with WorkbenchClient(args.url, args.token, progress=not args.no_progress) as client:
            if args.command == "pull":
                folder = client.pull(
                    project=args.project, version=args.version, fmt=args.format, out=args.out
                )
                print(f"release verified: {folder}")
            elif args.command == "list":
                for release in client.releases(args.project):
                    tag = f" [{release['tag']}]" if release["tag"] else ""
                    print(
                        f"v{release['version']}{tag}  {release['status']}  {release['record_count']} records"
                    )
            else:
                if args.old is None or args.new is None:
                    parser.error("diff needs --from and --to")
                print(json.dumps(client.diff(args.project, args.old, args.new), indent=2))
    except WorkbenchClientError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
