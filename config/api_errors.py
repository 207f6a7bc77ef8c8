"""One DRF exception handler: every error leaves the API as {"code": ..., "message": ...} with a 4xx."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.urls import Resolver404, ResolverMatch, resolve
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            text = _first_message(value)
            return text if key in ("non_field_errors", "detail") else f"{key}: {text}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, ValidationError):
        exc = exceptions.ValidationError(getattr(exc, "message_dict", None) or exc.messages)
    if isinstance(exc, RequestDataTooBig):
        limit_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
        return Response(
            {
                "code": "request_too_large",
                "message": _("リクエストの本文が大きすぎます（上限 %(limit)s MB）。")
                % {"limit": f"{limit_mb:g}"},
            },
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, Http404):
        return Response({"code": "not_found", "message": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"code": "invalid", "message": _first_message(exc.detail), "errors": exc.detail}
    elif isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
        response.data = {"code": code, "message": _first_message(exc.detail)}
    return response


@csrf_exempt  # answers 404 whatever the method; there is nothing to protect
def api_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any /api/ address no view serves: the API's 404 shape, never Django's HTML page.

    Mounted last as a catch-all, so it also catches what APPEND_SLASH would have redirected: do that
    redirect here when the address with a slash exists (GET only, as CommonMiddleware would).
    """
    if not request.path.endswith("/") and request.method in ("GET", "HEAD"):
        match = resolve_or_none(f"{request.path}/")
        if match is not None and match.func is not api_not_found:
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(f"{request.path}/" + (f"?{query}" if query else ""))
    return JsonResponse({"code": "not_found", "message": _("このアドレスの API はありません。")}, status=404)


def resolve_or_none(path: str) -> ResolverMatch | None:
    try:
        return resolve(path)
    except Resolver404:
        return None
