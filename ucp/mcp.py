"""UCP's MCP binding (checkout-mcp.md, mcp.openrpc.json): `create_checkout`, `get_checkout`, `update_checkout`,
`complete_checkout` and `cancel_checkout` on our /mcp, for the signed-in shopper the MCP token belongs to.

Arguments as the binding's OpenRPC has them: `_meta.ucp.profile` on every call, `id` apart from the `checkout`
object (which must not carry one), `idempotency_key` (required to complete and cancel). Results are the REST
binding's Checkout bodies (`render_checkout`); errors are JSON-RPC errors holding UCP's error structure, as the
binding's example: argument errors `-32602`, the checkout's refusals `-32603`.

The sessions are the shopper's (`owner_for`): no UCP agent, ACP platform or other shopper finds them, and
they are linked to the shopper's account. `complete_checkout` never charges a credential an agent sends: it
hands the session to the shopper (`requires_escalation`, a `requires_buyer_review` message, `continue_url`).
"""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS

from assistant.mcp_bindings import CheckoutBinding, hand_off, id_schema
from mcpshop_site.exceptions import ShopError
from orders.checkout_sessions import session_cancel, session_create, session_get, session_update, session_view
from orders.idempotency import idempotent
from ucp.checkout import render_checkout, session_changes
from ucp.protocol import MAX_PROFILE_LENGTH

META = {
    "type": "object",
    "description": "UCP request metadata: the platform's profile URI (required on every call).",
    "properties": {
        "ucp": {
            "type": "object",
            "properties": {"profile": {"type": "string", "minLength": 1, "maxLength": MAX_PROFILE_LENGTH}},
            "required": ["profile"],
        }
    },
    "required": ["ucp"],
}
CHECKOUT = {
    "type": "object",
    "description": (
        "A UCP Checkout without its id: line_items [{item: {id}, quantity}], buyer {email, first_name, "
        "last_name}, currency, fulfillment {methods: [{type: shipping, destinations, selected_destination_id, "
        "groups: [{selected_option_id}]}]}, discounts {codes}. Prices in minor units."
    ),
    "properties": {
        "line_items": {"type": "array", "items": {"type": "object"}},
        "buyer": {"type": "object"},
        "currency": {"type": "string"},
        "fulfillment": {"type": "object"},
        "discounts": {"type": "object", "properties": {"codes": {"type": "array", "items": {"type": "string"}}}},
        "payment": {"type": "object"},
    },
    "not": {"required": ["id"]},
}
IDEMPOTENCY_KEY = {"type": "string", "minLength": 1, "maxLength": 255, "description": "Unique key for retry safety."}
SESSION_ID = id_schema("The checkout session's id.")


def owner_for(user) -> str:
    """Return the owner key of a shopper's UCP sessions made over MCP (never a UCP agent's `ucp:<profile>`)."""
    return f"mcp:ucp:{user.pk}"


class _Site:
    """What `render_checkout` reads of a request (absolute links), for the shop as the MCP client reaches it."""

    def __init__(self, link):
        self.build_absolute_uri = link


def error_data(error: ShopError) -> dict:
    """Return a shop error as the binding's `error.data`: UCP's error structure."""
    details = json.loads(json.dumps(error.details, cls=DjangoJSONEncoder, default=str))
    entry = {"code": error.code, "message": error.message, "severity": "recoverable", "details": details}
    return {"status": "error", "errors": [entry]}


def _refused(data: dict) -> MCPError:
    return MCPError(code=INTERNAL_ERROR, message=data["errors"][0]["message"], data=data)


def invalid(message: str) -> MCPError:
    data = {"status": "error", "errors": [{"code": "invalid", "message": message, "severity": "recoverable"}]}
    return MCPError(code=INVALID_PARAMS, message=message, data=data)


def failure() -> MCPError:
    message = "Something went wrong. Please try again."
    data = {"status": "error", "errors": [{"code": "internal_error", "message": message, "severity": "recoverable"}]}
    return MCPError(code=INTERNAL_ERROR, message="Internal error", data=data)


def _answer(name: str, user, arguments: dict, operation) -> dict:
    """Run an operation (under the idempotency key, if any) and return its Checkout; a refusal is raised as the
    binding's error (and replayed as one)."""

    def guarded() -> tuple[int, dict]:
        try:
            return 200, operation()
        except ShopError as error:
            return error.status, error_data(error)

    key = arguments.get("idempotency_key")
    try:
        if key is None:
            with transaction.atomic():
                status, body = guarded()
        else:
            request = {"tool": name, **{field: value for field, value in arguments.items() if field != "_meta"}}
            status, body = idempotent(owner=owner_for(user), key=key, request=request, run=guarded)
    except ShopError as error:  # the key itself refused (reused with other arguments)
        status, body = error.status, error_data(error)
    if status >= 400:
        raise _refused(body)
    return body


def create_checkout(user, link, arguments: dict) -> dict:
    owner = owner_for(user)

    def create():
        changes = session_changes(arguments["checkout"], owner=owner)
        return render_checkout(session_create(owner=owner, user=user, **changes), request=_Site(link))

    return _answer("create_checkout", user, arguments, create)


def get_checkout(user, link, arguments: dict) -> dict:
    def get():
        session = session_get(owner=owner_for(user), session_id=arguments["id"])
        return render_checkout(session_view(session), request=_Site(link))

    return _answer("get_checkout", user, arguments, get)


def update_checkout(user, link, arguments: dict) -> dict:
    owner, session_id = owner_for(user), arguments["id"]

    def update():
        current = session_get(owner=owner, session_id=session_id)
        changes = session_changes(arguments["checkout"], owner=owner, current=current)
        return render_checkout(session_update(owner=owner, session_id=session_id, **changes), request=_Site(link))

    return _answer("update_checkout", user, arguments, update)


def complete_checkout(user, link, arguments: dict) -> dict:
    def complete():
        view = hand_off(user=user, link=link, owner=owner_for(user), session_id=arguments["id"])
        return render_checkout(view, request=_Site(link))

    return _answer("complete_checkout", user, arguments, complete)


def cancel_checkout(user, link, arguments: dict) -> dict:
    def cancel():
        return render_checkout(session_cancel(owner=owner_for(user), session_id=arguments["id"]), request=_Site(link))

    return _answer("cancel_checkout", user, arguments, cancel)


def _schema(required: list[str], **properties) -> dict:
    return {
        "type": "object",
        "properties": {"_meta": META, **properties},
        "required": ["_meta", *required],
        "additionalProperties": False,
    }


def _binding(run, title: str, description: str, schema: dict, *, read_only: bool = False) -> CheckoutBinding:
    return CheckoutBinding(
        name=run.__name__,
        title=title,
        description=description,
        input_schema=schema,
        read_only=read_only,
        run=run,
        invalid=invalid,
        failure=failure,
    )


COMPLETE_NOTE = (
    " Over this server it never charges: the session answers status requires_escalation with a continue_url "
    "where the shopper confirms the order in the shop, signed in, and then pays on the order's page."
)
TOOLS = (
    _binding(
        create_checkout,
        "UCP: create checkout",
        "Create a UCP checkout session for the signed-in shopper (UCP MCP binding).",
        _schema(["checkout"], idempotency_key=IDEMPOTENCY_KEY, checkout=CHECKOUT),
    ),
    _binding(
        get_checkout,
        "UCP: get checkout",
        "Get one of the shopper's UCP checkout sessions by id.",
        _schema(["id"], id=SESSION_ID),
        read_only=True,
    ),
    _binding(
        update_checkout,
        "UCP: update checkout",
        "Update a UCP checkout session: each part of `checkout` given replaces the session's.",
        _schema(["id", "checkout"], id=SESSION_ID, idempotency_key=IDEMPOTENCY_KEY, checkout=CHECKOUT),
    ),
    _binding(
        complete_checkout,
        "UCP: complete checkout",
        "Complete a UCP checkout session." + COMPLETE_NOTE,
        _schema(
            ["id", "idempotency_key"],
            id=SESSION_ID,
            idempotency_key=IDEMPOTENCY_KEY,
            payment={"type": "object", "description": "Not used here: no credential is ever charged over MCP."},
        ),
    ),
    _binding(
        cancel_checkout,
        "UCP: cancel checkout",
        "Cancel a UCP checkout session.",
        _schema(["id", "idempotency_key"], id=SESSION_ID, idempotency_key=IDEMPOTENCY_KEY),
    ),
)
