"""/healthz, /readyz and /metrics: plain Django views (no session, no DRF), cheap to call often."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from workbench.ops import health, metrics


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and answers; nothing else is checked (a liveness probe)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to serve: the database, the broker (when configured) and Label Studio answer."""
    ready, checks = health.readiness()
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    denied = _metrics_denied(request)
    if denied:
        return JsonResponse({"message": denied, "code": "forbidden", "extra": {}}, status=403)
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)


def _metrics_denied(request: HttpRequest) -> str | None:
    """Why this caller may not scrape, or None. With METRICS_TOKEN set, only a caller that sends
    it as a bearer token; without one, only callers on the loopback interface."""
    token = settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "")
        if hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return None
        return "Send METRICS_TOKEN as `Authorization: Bearer <token>`."
    if "HTTP_X_FORWARDED_FOR" in request.META:
        # Relayed by a proxy on this host: REMOTE_ADDR is the proxy's, not the caller's.
        return "Metrics behind a proxy need METRICS_TOKEN."
    try:
        loopback = ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        loopback = False
    return None if loopback else "Metrics answer loopback callers only unless METRICS_TOKEN is set."
