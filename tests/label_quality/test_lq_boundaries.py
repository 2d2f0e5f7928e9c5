"""The library stays importable without the web stack."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import label_quality

FORBIDDEN = {
    "django", "rest_framework", "celery", "label_studio_sdk", "workbench",
    "active_learning", "exports",
}
PACKAGE_DIR = pathlib.Path(label_quality.__file__).parent


def test_no_module_imports_the_web_stack_or_sibling_libraries() -> None:
    for path in PACKAGE_DIR.glob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                roots = {node.module.split(".")[0]}
            else:
                continue
            assert not roots & FORBIDDEN, f"{path.name} imports {roots & FORBIDDEN}"


def test_importing_the_library_loads_none_of_them() -> None:
    code = (
        "import sys, label_quality; "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({sorted(FORBIDDEN)!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        cwd=PACKAGE_DIR.parent,
    )
    assert out.stdout.strip() == "[]"
