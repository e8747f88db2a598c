"""UCP's REST binding (v2026-01-11): discovery, checkout sessions, orders and the conformance test hook.

Each view reads the agent from `UCP-Agent` and the shopper it may act for from a linking token (`ucp.identity`:
401 for a token it cannot honour), translates the body for the checkout-session core
(orders.checkout_sessions) and renders its answer; writes run under the agent's Idempotency-Key
(orders.idempotency), replays answered before anything else. Errors are UCP's body (`detail`, `code`,
`messages`) with the shop error's status (a stock shortage is a 400 here, as UCP's conformance expects).
"""

import hmac
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.http import Http404, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mcpshop_site.exceptions import InvalidInput, ShopError
from mcpshop_site.parsers import json_loads
from orders.checkout_sessions import (
    session_cancel,
    session_complete,
    session_create,
    session_update,
    session_view,
)
from orders.idempotency import idempotent
from ucp.checkout import credential_of, option_title, render_checkout, session_changes
from ucp.identity import (
    LinkRefused,
    challenge,
    idempotency_owner,
    linked_session_get,
    linked_user,
    protected_resource_metadata,
)
from ucp.models import UcpOrder
from ucp.orders import order_webhook, render_order, ucp_order_get, ucp_order_simulate_shipping, ucp_order_update
from ucp.protocol import agent_of, agent_webhook_url, business_profile, error_body

logger = logging.getLogger(__name__)
# Shop errors whose status UCP's conformance reads differently: a shortage is the request's problem (400).
STATUS = {"insufficient_stock": 400, "unknown_sku": 400}


class SimulationForbidden(ShopError):
    code = "forbidden"
    status = 403
    default_message = _("The Simulation-Secret header is missing or wrong.")


def _answer(status: int, body: dict) -> JsonResponse:
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def _failure(error: ShopError) -> tuple[int, dict]:
    return STATUS.get(error.code, error.status), error_body(error)


def _body(request) -> dict:
    if not request.body:
        return {}
    try:
        body = json_loads(request.body)
    except ShopError:
        raise
    except ValueError:
        raise InvalidInput(_("The body is not valid JSON.")) from None
    if not isinstance(body, dict):
        raise InvalidInput(_("The body must be a JSON object."))
    return body


def _write(request, owner: str, body: dict, run: Callable[[], tuple[int, dict]]) -> JsonResponse:
    """Run a write under the request's Idempotency-Key (if any) and answer it; errors are answers too."""

    def guarded() -> tuple[int, dict]:
        try:
            return run()
        except ShopError as error:
            return _failure(error)

    key = request.headers.get("Idempotency-Key")
    if key is None:
        with transaction.atomic():  # the write and what comes with it (an order's UCP record, its webhook)
            return _answer(*guarded())
    request_shape = {"method": request.method, "path": request.path, "body": body}
    return _answer(*idempotent(owner=owner, key=key, request=request_shape, run=guarded))


def _ucp(view):
    """Answer a view's ShopError as UCP's error body; every other failure is logged and answered 500 by Django.

    Agents get English unless their Accept-Language asks for another of the shop's languages.
    """

    def wrapped(request, *args, **kwargs):
        language = translation.get_language() if "Accept-Language" in request.headers else "en"
        with translation.override(language):
            try:
                return view(request, *args, **kwargs)
            except ShopError as error:
                response = _answer(*_failure(error))
                if isinstance(error, LinkRefused):
                    response["WWW-Authenticate"] = challenge(request)
                return response

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return csrf_exempt(wrapped)


@require_safe
def discovery(request):
    """GET /.well-known/ucp (also under the UCP prefix): the shop's business profile."""
    return _answer(200, business_profile(request))


@require_safe
def resource_metadata(request):
    """GET /.well-known/oauth-protected-resource/ucp: the /ucp resource's OAuth metadata (RFC 9728), which a
    refused token's challenge names."""
    response = _answer(200, protected_resource_metadata(request))
    response["Access-Control-Allow-Origin"] = "*"
    return response


@_ucp
@require_POST
def checkout_sessions(request):
    """POST /checkout-sessions: create a session; the id is the shop's, never the one the agent proposes. With a
    linking token, the session is linked to the token's shopper."""
    owner = agent_of(request)
    user = linked_user(request)
    body = _body(request)
    webhook_url = agent_webhook_url(owner)

    def create():
        changes = session_changes(body, owner=owner, user=user)
        changes["extra"] = {**changes.get("extra", {}), "webhook_url": webhook_url}
        return 201, render_checkout(session_create(owner=owner, user=user, **changes), request=request)

    return _write(request, idempotency_owner(owner, user), body, create)


@_ucp
@require_http_methods(["GET", "PUT"])
def checkout_session(request, session_id: str):
    """GET or PUT /checkout-sessions/<id>: read the session, or change what the body carries."""
    owner = agent_of(request)
    user = linked_user(request)
    if request.method == "GET":
        session = linked_session_get(owner=owner, user=user, session_id=session_id)
        return _answer(200, render_checkout(session_view(session), request=request))
    body = _body(request)
    webhook_url = agent_webhook_url(owner)

    def update():
        current = linked_session_get(owner=owner, user=user, session_id=session_id)
        changes = session_changes(body, owner=owner, current=current, user=user)
        changes["extra"] = {
            **changes.get("extra", current.extra),
            "webhook_url": webhook_url or current.extra.get("webhook_url", ""),
        }
        return 200, render_checkout(session_update(owner=owner, session_id=session_id, **changes), request=request)

    return _write(request, idempotency_owner(owner, user), body, update)


@_ucp
@require_POST
def checkout_session_complete(request, session_id: str):
    """POST /checkout-sessions/<id>/complete: place and pay the order with the agent's credential."""
    owner = agent_of(request)
    user = linked_user(request)
    body = _body(request)

    def complete():
        linked_session_get(owner=owner, user=user, session_id=session_id)  # its shopper's token, or none
        view = session_complete(owner=owner, session_id=session_id, credential=credential_of(body))
        shipping = view.quote.shipping
        record = UcpOrder.objects.create(
            order=view.session.order,
            session=view.session,
            description=option_title(shipping, free=view.quote.free_shipping) if shipping else "",
        )
        order_webhook(record, "order_placed", request=request)
        return 200, render_checkout(view, request=request)

    return _write(request, idempotency_owner(owner, user), body, complete)


@_ucp
@require_POST
def checkout_session_cancel(request, session_id: str):
    """POST /checkout-sessions/<id>/cancel."""
    owner = agent_of(request)
    user = linked_user(request)

    def cancel():
        linked_session_get(owner=owner, user=user, session_id=session_id)  # its shopper's token, or none
        return 200, render_checkout(session_cancel(owner=owner, session_id=session_id), request=request)

    return _write(request, idempotency_owner(owner, user), {}, cancel)


@_ucp
@require_http_methods(["GET", "PUT"])
def order(request, order_id: str):
    """GET or PUT /orders/<number>: the agent's order (a linked session's only with its shopper's token); a PUT
    stores its fulfillment events and adjustments."""
    owner = agent_of(request)
    user = linked_user(request)
    if request.method == "GET":
        return _answer(200, render_order(ucp_order_get(owner=owner, user=user, order_id=order_id), request=request))
    record = ucp_order_update(owner=owner, user=user, order_id=order_id, body=_body(request))
    return _answer(200, render_order(record, request=request))


@_ucp
@require_POST
def simulate_shipping(request, order_id: str):
    """POST /testing/simulate-shipping/<number>: the conformance suite's hook; absent without UCP_SIMULATION_SECRET."""
    secret = settings.UCP_SIMULATION_SECRET
    if not secret:
        raise Http404()
    given = request.headers.get("Simulation-Secret", "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        raise SimulationForbidden()
    record = ucp_order_simulate_shipping(order_id=order_id, request=request)
    return _answer(200, render_order(record, request=request))
