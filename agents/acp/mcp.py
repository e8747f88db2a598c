"""ACP's MCP binding (docs/mcp-binding.md, openrpc.agentic_checkout.json): `create_checkout_session`,
`get_checkout_session`, `update_checkout_session`, `complete_checkout_session` and `cancel_checkout_session`
on our /mcp, for the signed-in shopper the MCP token belongs to.

Arguments as the binding has them: `meta` (the REST headers: `api_version` required, `idempotency_key`,
`request_id`, ...; unknown members ignored), `id` (the path's session id) and `payload` (the REST body). The
operations are the REST binding's (`agents.acp.checkout`, through `protocol.gate_mcp`), so results are its
CheckoutSession bodies; its errors become JSON-RPC errors `-32000` with ACP's Error in `data` (`-32602` for
arguments that break the tool's schema), as the binding says.

The sessions are the shopper's (`owner_for`): no ACP platform, UCP agent or other shopper finds them.
`complete_checkout_session` never charges the `payment_data` it is sent: it hands the session to the shopper
(`requires_escalation`, an `approval_required` message resolved by `requires_buyer_review`, `continue_url`).
"""

from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from agents.acp import checkout
from agents.acp.errors import AcpError
from agents.acp.protocol import SUPPORTED_VERSIONS, gate_mcp
from assistant.mcp_bindings import CheckoutBinding, hand_off, id_schema

SERVER_ERROR = -32000  # every ACP error, the binding says; `data` carries its meaning
PATH = "/checkout_sessions"
META = {
    "type": "object",
    "description": "Protocol metadata, as the REST headers: api_version (required), idempotency_key, request_id, "
    "accept_language.",
    "properties": {
        "api_version": {"type": "string", "description": f"One of {', '.join(SUPPORTED_VERSIONS)}."},
        "idempotency_key": {"type": "string", "minLength": 1, "maxLength": 255},
        "request_id": {"type": "string", "maxLength": 255},
        "user_agent": {"type": "string"},
        "accept_language": {"type": "string"},
    },
    "required": ["api_version"],
    "additionalProperties": True,
}
_ITEMS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"id": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1}},
        "required": ["id"],
    },
}
_OBJECT = {"type": "object"}
_NULLABLE_OBJECT = {"type": ["object", "null"]}
_DISCOUNTS = {"type": "object", "properties": {"codes": {"type": "array", "items": {"type": "string"}}}}
_IGNORED = ("affiliate_attribution", "coupons", "metadata", "order_notes", "fulfillment_groups")


def _payload(description: str, required: list[str], **properties) -> dict:
    """Return a payload schema: the REST request body's members (those the shop ignores, as plain values)."""
    ignored = {name: {} for name in _IGNORED}
    return {
        "type": "object",
        "description": description,
        "properties": {**ignored, **properties},
        "required": required,
        "additionalProperties": False,
    }


CREATE = _payload(
    "CheckoutSessionCreateRequest: line_items [{id, quantity}], currency, buyer, fulfillment_details, discounts.",
    ["line_items", "currency"],
    line_items=_ITEMS,
    currency={"type": "string"},
    buyer=_OBJECT,
    fulfillment_details=_OBJECT,
    capabilities=_OBJECT,
    discounts=_DISCOUNTS,
    locale={"type": "string"},
    timezone={"type": "string"},
    quote_id={"type": "string"},
)
UPDATE = _payload(
    "CheckoutSessionUpdateRequest: any of line_items, buyer, fulfillment_details, selected_fulfillment_options, "
    "discounts (null clears one).",
    [],
    line_items=_ITEMS,
    buyer=_NULLABLE_OBJECT,
    fulfillment_details=_NULLABLE_OBJECT,
    selected_fulfillment_options={"type": ["array", "null"], "items": _OBJECT},
    discounts=_DISCOUNTS,
)
COMPLETE = _payload(
    "CheckoutSessionCompleteRequest: buyer, payment_data. The payment data is never charged over this server.",
    [],
    buyer=_NULLABLE_OBJECT,
    payment_data=_OBJECT,
    authentication_result=_OBJECT,
    risk_signals=_OBJECT,
    marketing_consents={},
)
CANCEL = {"type": "object", "description": "CancelSessionRequest: intent_trace (optional).", "properties": {}}
SESSION_ID = id_schema("The checkout session's id (the REST path's checkout_session_id).")


def owner_for(user) -> str:
    """Return the owner key of a shopper's ACP sessions made over MCP (never a platform's `acp:<id>`)."""
    return f"mcp:acp:{user.pk}"


def _refused(status: int, body: dict) -> MCPError:
    return MCPError(code=SERVER_ERROR, message=body["message"], data=body)


def invalid(message: str) -> MCPError:
    return MCPError(code=INVALID_PARAMS, message=message, data=AcpError(400, "invalid", message).as_dict())


def failure() -> MCPError:
    error = AcpError(500, "internal_error", "Something went wrong. Please try again.", type_="processing_error")
    return _refused(error.status, error.as_dict())


def _call(user, link, arguments: dict, operation, *args) -> dict:
    """Pass the call through the ACP gate to one of the REST binding's operations; raise its errors."""
    try:
        request = gate_mcp(
            owner=owner_for(user), user=user, meta=arguments["meta"], body=arguments.get("payload"), base_url=link("/")
        )
        status, body = operation(request, *args)
    except AcpError as error:
        status, body = error.status, error.as_dict()
    if status >= 400:
        raise _refused(status, body)
    return body


def create_checkout_session(user, link, arguments: dict) -> dict:
    return _call(user, link, arguments, checkout.create, PATH)


def get_checkout_session(user, link, arguments: dict) -> dict:
    return _call(user, link, arguments, checkout.retrieve, arguments["id"])


def update_checkout_session(user, link, arguments: dict) -> dict:
    session_id = arguments["id"]
    return _call(user, link, arguments, checkout.update, f"{PATH}/{session_id}", session_id)


def complete_checkout_session(user, link, arguments: dict) -> dict:
    def hand_over(*, owner, session_id):
        return hand_off(user=user, link=link, owner=owner, session_id=session_id)

    session_id = arguments["id"]
    return _call(user, link, arguments, checkout.hand_off, f"{PATH}/{session_id}/complete", session_id, hand_over)


def cancel_checkout_session(user, link, arguments: dict) -> dict:
    session_id = arguments["id"]
    return _call(user, link, arguments, checkout.cancel, f"{PATH}/{session_id}/cancel", session_id)


def _binding(run, title: str, description: str, required: list[str], *, read_only=False, **properties):
    schema = {
        "type": "object",
        "properties": {"meta": META, **properties},
        "required": ["meta", *required],
        "additionalProperties": False,
    }
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


TOOLS = (
    _binding(
        create_checkout_session,
        "ACP: create checkout session",
        "Create an ACP checkout session for the signed-in shopper (ACP MCP binding; POST /checkout_sessions).",
        ["payload"],
        payload=CREATE,
    ),
    _binding(
        get_checkout_session,
        "ACP: get checkout session",
        "Get one of the shopper's ACP checkout sessions by id.",
        ["id"],
        read_only=True,
        id=SESSION_ID,
    ),
    _binding(
        update_checkout_session,
        "ACP: update checkout session",
        "Update an ACP checkout session: items, fulfillment details, selected fulfillment options, discounts.",
        ["id", "payload"],
        id=SESSION_ID,
        payload=UPDATE,
    ),
    _binding(
        complete_checkout_session,
        "ACP: complete checkout session",
        "Complete an ACP checkout session. Over this server it never charges: the session answers status "
        "requires_escalation with a continue_url where the shopper confirms the order in the shop, signed in, "
        "and then pays on the order's page.",
        ["id", "payload"],
        id=SESSION_ID,
        payload=COMPLETE,
    ),
    _binding(
        cancel_checkout_session,
        "ACP: cancel checkout session",
        "Cancel an ACP checkout session.",
        ["id"],
        id=SESSION_ID,
        payload=CANCEL,
    ),
)
