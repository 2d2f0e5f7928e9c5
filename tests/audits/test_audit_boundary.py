"""The audits library stays pure: importing it loads no web stack and no sibling library."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_audits_loads_no_web_stack_or_other_library() -> None:
    code = (
        "import sys, audits; bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'django', 'rest_framework', 'celery', 'label_studio_sdk', 'workbench', 'active_learning', "
        "'label_quality', 'exports'}); print(','.join(bad))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
