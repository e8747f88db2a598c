"""The checkout protocols' MCP bindings (UCP's `create_checkout`..., ACP's `create_checkout_session`...) as tools
of our /mcp, for outside MCP clients only: the chat never gets them (they are not in `assistant.tools`).

Each protocol's module (`ucp.mcp`, `agents.acp.mcp`) describes its tools as `CheckoutBinding`s: the input
schema served to clients (self-contained: no `$ref`), and a `run(user, link, arguments)` that translates the
arguments for the checkout-session core and answers the protocol's REST body through its own render
functions, or raises the binding's JSON-RPC error. `assistant.mcp_server` serves them for the token's shopper,
within the `orders` scope, after checking the arguments against the very schema it serves.

Over MCP a shopper's client never buys: the complete tools hand the session to the shopper
(`checkout_session_hand_off`): the order is placed only by their click on the shop's confirm page.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from jsonschema import Draft202012Validator
from mcp.shared.exceptions import MCPError

from assistant.services import checkout_session_hand_off
from orders.checkout_sessions import SessionView

SCOPE = "orders"
MESSAGE_LIMIT = 300


@dataclass(frozen=True)
class CheckoutBinding:
    """One tool of a protocol's MCP binding."""

    name: str
    title: str
    description: str
    input_schema: dict
    read_only: bool
    run: Callable[[Any, Callable[[str], str], dict], dict]  # (user, link(path) -> absolute URL, arguments)
    invalid: Callable[[str], MCPError]  # the binding's error for arguments that break the input schema
    failure: Callable[[], MCPError]  # the binding's error for a server failure (details stay in the log)

    def argument_problem(self, arguments: dict) -> str | None:
        """Return the first way `arguments` break the input schema, in words, or None."""
        error = next(iter(sorted(_validator(self.input_schema).iter_errors(arguments), key=_depth)), None)
        if error is None:
            return None
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
        if error.validator == "additionalProperties":
            return f"Unknown argument in {where.lstrip('.') or 'the arguments'}: {error.message[:MESSAGE_LIMIT]}"
        if error.validator == "not":
            return f"{where.lstrip('.')} must not carry an id: the session is named by the `id` argument."
        return f"{where.lstrip('.') or 'arguments'}: {error.message[:MESSAGE_LIMIT]}"  # it quotes the value


def _depth(error) -> tuple[int, str]:
    return (len(error.absolute_path), str(list(error.absolute_path)))


_validators: dict[int, Draft202012Validator] = {}


def _validator(schema: dict) -> Draft202012Validator:
    validator = _validators.get(id(schema))
    if validator is None:
        Draft202012Validator.check_schema(schema)
        validator = _validators[id(schema)] = Draft202012Validator(schema)
    return validator


def hand_off(*, user, link: Callable[[str], str], owner: str, session_id: str) -> SessionView:
    """Hand the session to its shopper; its continue_url is the shop's confirm page for them."""

    def page(public_id) -> str:
        return link(reverse("assistant_confirm:confirm", kwargs={"confirmation_id": public_id}))

    return checkout_session_hand_off(user=user, owner=owner, session_id=session_id, link_for=page)


def id_schema(description: str) -> dict:
    return {"type": "string", "minLength": 1, "maxLength": 64, "description": description}
