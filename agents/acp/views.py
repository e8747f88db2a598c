"""ACP's REST binding (`/checkout_sessions`...): each view runs the gate and one operation of `checkout`.

Answers carry the spec's headers: `Idempotency-Key` echoed on writes, `Request-Id` echoed when sent; a session's
`Content-Language` is its `locale` (the language it answers in).
"""

import logging

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from agents.acp import checkout
from agents.acp.errors import AcpError
from agents.acp.protocol import gate_http

logger = logging.getLogger(__name__)


def _answer(request, operation, *args, body_optional: bool = False) -> JsonResponse:
    try:
        acp_request = gate_http(request, body_optional=body_optional)
        status, body = operation(acp_request, *args)
    except AcpError as error:
        response = error.response()
    except Exception:
        logger.exception("ACP %s %s failed", request.method, request.path)
        response = AcpError(
            500, "internal_error", "Something went wrong. Please try again.", type_="processing_error"
        ).response()
    else:
        response = JsonResponse(body, status=status)
        if request.method == "POST":
            response["Idempotency-Key"] = acp_request.idempotency_key
        if acp_request.request_id:
            response["Request-Id"] = acp_request.request_id
        if "locale" in body:
            response["Content-Language"] = body["locale"]
    return response


def _not_allowed(allowed: str) -> JsonResponse:
    error = AcpError(405, "method_not_allowed", "Method not allowed.")
    error.headers["Allow"] = allowed
    return error.response()


@csrf_exempt
def sessions(request):
    if request.method != "POST":
        return _not_allowed("POST")
    return _answer(request, checkout.create, request.path)


@csrf_exempt
def session(request, session_id: str):
    if request.method == "GET":
        return _answer(request, checkout.retrieve, session_id)
    if request.method == "POST":
        return _answer(request, checkout.update, request.path, session_id)
    return _not_allowed("GET, POST")


@csrf_exempt
def complete(request, session_id: str):
    if request.method != "POST":
        return _not_allowed("POST")
    return _answer(request, checkout.complete, request.path, session_id)


@csrf_exempt
def cancel(request, session_id: str):
    if request.method != "POST":
        return _not_allowed("POST")
    return _answer(request, checkout.cancel, request.path, session_id, body_optional=True)
