"""Loaded first (``-p tests.dev_env`` in pyproject's addopts), before pytest-django imports the
settings: the test suite runs on a development machine, where a missing SECRET_KEY or webhook
secret is generated once under var/ (``WORKBENCH_DEV_SECRETS``; DEBUG stays off, as in
production). An explicit value in the environment wins."""

import os

os.environ.setdefault("WORKBENCH_DEV_SECRETS", "true")
