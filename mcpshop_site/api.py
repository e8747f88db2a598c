"""API plumbing shared by every app: the single JSON error shape and pagination."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from mcpshop_site.exceptions import ShopError


def error_response(code: str, message: str, status_code: int, details=None, headers=None) -> Response:
    """Return the shop's JSON error: {"error": {"code", "message", "details"}}."""
    body = {"error": {"code": code, "message": str(message), "details": details or {}}}
    return Response(body, status=status_code, headers=headers)


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            inner = _first_message(value)
            return inner if key == "non_field_errors" else f"{key}: {inner}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def exception_handler(exc, context):
    """Render every error, ours or DRF's, in the one JSON error shape."""
    if isinstance(exc, ShopError):
        return error_response(exc.code, exc.message, exc.status, exc.details)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        code, message, details = "invalid", _first_message(exc.detail), exc.detail
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "error"
        message, details = _first_message(exc.detail), {}
    if isinstance(exc, exceptions.Throttled) and exc.wait:
        details = {"retry_after": int(exc.wait)}
    headers = {k: v for k, v in response.items() if k in ("WWW-Authenticate", "Retry-After", "Allow")}
    return error_response(code, message, response.status_code or status.HTTP_400_BAD_REQUEST, details, headers)


class Pagination(LimitOffsetPagination):
    default_limit = 20
    max_limit = 100
