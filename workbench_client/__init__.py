"""A small client for the workbench's dataset releases: list, pull (resumable, verified), diff.

Standard library plus ``httpx`` (and ``tqdm`` for progress bars when installed); no Django.
"""

from workbench_client.client import ChecksumMismatch, WorkbenchClient, WorkbenchClientError

__all__ = ["ChecksumMismatch", "WorkbenchClient", "WorkbenchClientError"]
