"""The library never imports the web stack or the sibling libraries.

Direct imports are checked here from the source; indirect ones are import-linter's job in
CI (pyproject's forbidden contract). A fresh-interpreter import check was dropped: it
re-imports scipy / scikit-learn / cleanlab cold and took 5-25 s on the shared machine.
"""

from __future__ import annotations

import ast
import pathlib

import label_quality

FORBIDDEN = {
    "django",
    "rest_framework",
    "celery",
    "label_studio_sdk",
    "workbench",
    "active_learning",
    "exports",
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
