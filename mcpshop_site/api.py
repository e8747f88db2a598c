"""API plumbing shared by every app: the single JSON error shape, its schema, and pagination."""

import re

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, JsonResponse
from django.views import defaults
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from mcpshop_site.exceptions import RequestTooLarge, ShopError, error_body


def error_response(code: str, message: str, status_code: int, details=None, headers=None) -> Response:
    """Return the shop's JSON error: {"error": {"code", "message", "details"}}."""
    return Response(error_body(code, message, details), status=status_code, headers=headers)


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            inner = _first_message(value)
            return inner if key == "non_field_errors" else f"{key}: {inner}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def _encodable(detail):
    """Return validation messages with lone surrogates replaced: DRF quotes the input in some messages
    (`"\\ud800" is not a valid choice`), and a half surrogate pair cannot be encoded as UTF-8 JSON."""
    if isinstance(detail, dict):
        return {key: _encodable(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_encodable(value) for value in detail]
    return str(detail).encode("utf-8", "replace").decode("utf-8")


def exception_handler(exc, context):
    """Render every error, ours or DRF's, in the one JSON error shape."""
    if isinstance(exc, ShopError):
        retry_after = exc.details.get("retry_after")
        return Response(
            exc.as_dict(), status=exc.status, headers={"Retry-After": str(retry_after)} if retry_after else None
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = _encodable(exc.detail)
        code, message, details = "invalid", _first_message(detail), detail
    elif isinstance(exc.detail, dict) and "detail" in exc.detail:  # simplejwt: {"detail", "code", "messages"}
        code, message, details = str(exc.detail.get("code") or exc.default_code), exc.detail["detail"], {}
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        message, details = _first_message(exc.detail), {}
    if isinstance(exc, exceptions.Throttled) and exc.wait:
        details = {"retry_after": int(exc.wait)}
    headers = {k: v for k, v in response.items() if k in ("WWW-Authenticate", "Retry-After", "Allow")}
    return error_response(code, message, response.status_code or status.HTTP_400_BAD_REQUEST, details, headers)


def page_not_found(request, exception, template_name="404.html"):
    """Answer unknown /api/ paths in the JSON error shape, and everything else with Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", exceptions.NotFound.default_detail), status=404)
    return defaults.page_not_found(request, exception, template_name)


def bad_request(request, exception, template_name="400.html"):
    """Answer a request Django refused before any view (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, a bad
    Host...) in the JSON error shape under /api/: 413 for a body too large, else 400."""
    if request.path.startswith("/api/"):
        if isinstance(exception, RequestDataTooBig):
            error = RequestTooLarge()
            return JsonResponse(error.as_dict(), status=error.status)
        return JsonResponse(error_body("bad_request", exceptions.ParseError.default_detail), status=400)
    return defaults.bad_request(request, exception, template_name)


def server_error(request, template_name="500.html"):
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("server_error", exceptions.APIException.default_detail), status=500)
    return defaults.server_error(request, template_name)


_ASCII_INTEGER = re.compile(r"\s*[-+]?[0-9]{1,32}\s*")


class Pagination(LimitOffsetPagination):
    default_limit = 20
    max_limit = 100


class WholeNumberField(serializers.IntegerField):
    """An integer that arrives as one, or as ASCII digits (forms, query strings).

    Refused, unlike DRF's IntegerField: booleans, floats (even 2.0), "2.0", "1_000" and non-ASCII digits.
    """

    def to_internal_value(self, data):
        if isinstance(data, bool | float) or (isinstance(data, str) and not _ASCII_INTEGER.fullmatch(data)):
            self.fail("invalid")
        return super().to_internal_value(data)


class PageQuerySerializer(serializers.Serializer):
    """`limit` and `offset` of a paginated list, checked instead of silently replaced by the defaults."""

    limit = WholeNumberField(required=False, min_value=1, max_value=Pagination.max_limit)
    offset = WholeNumberField(required=False, min_value=0, max_value=2**31 - 1)


class ErrorSerializer(serializers.Serializer):
    """The one JSON error shape of the API."""

    class ErrorBodySerializer(serializers.Serializer):
        code = serializers.CharField(help_text="A stable, machine-readable code, e.g. `unknown_sku`.")
        message = serializers.CharField(help_text="A sentence for people.")
        details = serializers.DictField(help_text="Field errors or facts about the failure.")

    error = ErrorBodySerializer()


_ERROR_MEANINGS = {
    400: "The input is not valid.",
    401: "Not authenticated, or the token is invalid or expired.",
    403: "Not allowed.",
    404: "Not found (or not yours).",
    409: "Conflicts with the current state.",
    429: "Too many requests; see Retry-After.",
    502: "The payment provider failed; nothing was changed, try again.",
}


def error_responses(*statuses: int) -> dict:
    """Return OpenAPI responses documenting the JSON error shape for these statuses."""
    return {code: OpenApiResponse(ErrorSerializer, description=_ERROR_MEANINGS[code]) for code in statuses}
