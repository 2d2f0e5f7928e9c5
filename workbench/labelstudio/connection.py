"""Which Label Studio the workbench talks to: the remote one named by ``LABEL_STUDIO_URL``, or
the local server that ``workbench.labelstudio.server`` runs under ``var/``."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from workbench.errors import UpstreamUnavailable
from workbench.labelstudio import server
from workbench.labelstudio.types import Gateway


@cache
def credentials() -> tuple[str, str]:
    """(base URL, API token) of the Label Studio in use."""
    if settings.LABEL_STUDIO_URL:
        return settings.LABEL_STUDIO_URL, settings.LABEL_STUDIO_API_KEY
    info = server.status(settings.LABEL_STUDIO_DATA_DIR)
    if info is None:
        raise UpstreamUnavailable(
            "The local Label Studio is not running; start it with "
            "`python -m workbench.labelstudio.server ensure` (or run the demo), "
            "or set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY."
        )
    return info.url, info.token


@cache
def get_gateway() -> Gateway:
    from workbench.labelstudio.gateway import SdkGateway

    url, token = credentials()
    return SdkGateway(base_url=url, api_key=token)


def reset() -> None:
    """Forget the cached connection (after the server restarted on another port, in tests)."""
    credentials.cache_clear()
    get_gateway.cache_clear()
