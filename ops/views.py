"""/healthz/ (is the process up), /readyz/ (can it serve, and what is degraded) and /metrics."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django_prometheus.exports import ExportToDjangoView

from .health import FAIL, overall, run_checks


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks = run_checks()
    status = overall(checks)
    body = {"status": status, "checks": {check.name: check.as_dict() for check in checks}}
    return JsonResponse(body, status=503 if status == FAIL else 200)


def _may_scrape(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), token.encode())
    return request.META.get("REMOTE_ADDR") in settings.METRICS_ALLOWED_IPS


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not _may_scrape(request):
        return JsonResponse(
            {
                "code": "forbidden",
                "message": "Metrics need METRICS_TOKEN or an address in METRICS_ALLOWED_IPS.",
            },
            status=403,
        )
    return ExportToDjangoView(request)
