"""The client stays installable on an ML engineer's laptop: standard library, httpx, tqdm only."""

import ast
import sys
from pathlib import Path

ALLOWED = {"httpx", "tqdm", "workbench_client", "__future__"}
CLIENT = Path(__file__).resolve().parents[2] / "workbench_client"


def test_the_client_imports_only_the_standard_library_httpx_and_tqdm() -> None:
    found = set()
    for path in CLIENT.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module.split(".")[0])
    assert found - ALLOWED <= set(sys.stdlib_module_names), found - ALLOWED - set(sys.stdlib_module_names)
