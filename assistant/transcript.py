"""What each tool call did, in the shopper's words: the chat widget (live and restored) and the transcript page.

A tool call is shown by what it did ("Searched for “tea”", "Added 2 × Longjing to the cart"), never by
its name; a call whose result is an error says it failed ("Could not prepare your order"), whichever
tool it was.
"""

from collections.abc import Iterable

from django.utils.translation import gettext as _

from assistant.models import Message
from catalog.models import _in_language
from catalog.selectors import product_by_sku, product_card
from mcpshop_site.parsers import json_loads


def _loads(text) -> dict:
    """Return the JSON object in `text` (a tool's arguments or result), or {} for anything else."""
    if isinstance(text, dict):
        return text
    try:
        value = json_loads(text or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _name(row, default: str = "") -> str:
    """Return a product's (or cart line's) name in the active language, as the pages show it."""
    row = row if isinstance(row, dict) else {}
    return _in_language(row.get("name") or default, row.get("name_en") or "")


def _done(name: str, arguments: dict, result: dict) -> str:
    if name == "search_products":
        query = str(arguments.get("query") or "").strip()
        return _("Searched for “%(query)s”") % {"query": query} if query else _("Browsed the catalog")
    if name == "get_product":
        return _("Looked up %(name)s") % {"name": _name(result.get("product"), arguments.get("sku", ""))}
    if name == "list_categories":
        return _("Looked at the categories")
    if name == "view_cart":
        return _("Looked at your cart")
    if name == "add_to_cart":
        added = result.get("added") or {}
        return _("Added %(quantity)s × %(name)s to the cart") % {
            "quantity": added.get("quantity_added", arguments.get("quantity", 1)),
            "name": _name(added, arguments.get("sku", "")),
        }
    if "removed" in result:
        return _("Removed %(name)s from the cart") % {"name": _name(result["removed"])}
    if name == "update_cart_item":
        updated = result.get("updated") or {}
        return _("Changed %(name)s to %(quantity)s in the cart") % {
            "name": _name(updated, arguments.get("sku", "")),
            "quantity": updated.get("quantity", arguments.get("quantity", "")),
        }
    if name == "apply_discount_code":
        return _("Applied the code %(code)s") % {"code": str(arguments.get("code", "")).upper()}
    if name == "remove_discount_code":
        return _("Took the code %(code)s off") % {"code": str(arguments.get("code", "")).upper()}
    if name == "list_shipping_options":
        return _("Looked up the shipping options")
    if name == "list_addresses":
        return _("Looked at your saved addresses")
    if name == "place_order":
        return _("Prepared your order for you to confirm")
    if name == "list_orders":
        return _("Looked up your orders")
    if name == "get_order":
        return _("Looked up order #%(id)s") % {"id": arguments.get("order_id", "")}
    if name == "cancel_order":
        return _("Prepared cancelling order #%(id)s for you to confirm") % {"id": arguments.get("order_id", "")}
    return _("Used a tool")


def _failed(name: str, arguments: dict) -> str:
    if name == "search_products":
        return _("Could not search the catalog")
    if name == "get_product":
        return _("Could not look up that product")
    if name in ("add_to_cart", "update_cart_item", "remove_from_cart"):
        return _("Could not change your cart")
    if name == "view_cart":
        return _("Could not look at your cart")
    if name in ("apply_discount_code", "remove_discount_code"):
        return _("Could not change the discount codes")
    if name in ("list_shipping_options", "list_addresses"):
        return _("Could not look that up")
    if name == "place_order":
        return _("Could not prepare your order")
    if name == "list_orders":
        return _("Could not look up your orders")
    if name == "get_order":
        return _("Could not look up order #%(id)s") % {"id": arguments.get("order_id", "")}
    if name == "cancel_order":
        return _("Could not cancel order #%(id)s") % {"id": arguments.get("order_id", "")}
    return _("A step failed")


def tool_note(name: str, arguments, result) -> dict:
    """Return how the shopper sees one tool call: `label` (what it did, or that it failed) and `error`.

    `error` is the result's error ({code, message}) or None; `arguments` and `result` may be dicts
    or their JSON text, as stored.
    """
    arguments, result = _loads(arguments), _loads(result)
    error = result.get("error") if isinstance(result.get("error"), dict) else None
    if error is not None:
        shown = {"code": error.get("code"), "message": error.get("message")}
        return {"label": _failed(name, arguments), "error": shown}
    return {"label": _done(name, arguments, result), "error": None}


def tool_calls(messages: Iterable[Message]) -> list[tuple[Message, list[dict]]]:
    """Pair each shopper and assistant message with its tool calls, each described by `tool_note`.

    Return [(message, [{"name", "arguments", "result", "label", "error"}])]; tool results are shown
    with their call, not as messages of their own.
    """
    messages = list(messages)
    results = {m.tool_call_id: m for m in messages if m.role == Message.Role.TOOL}
    paired = []
    for message in messages:
        if message.role == Message.Role.TOOL:
            continue
        calls = []
        for call in message.tool_calls or []:
            result = results.get(call.get("id"))
            content = result.content if result is not None else ""
            name = call.get("name", "")
            calls.append(
                {
                    "name": name,
                    "arguments": call.get("arguments", ""),
                    "result": content,
                    **tool_note(name, call.get("arguments", ""), content),
                }
            )
        paired.append((message, calls))
    return paired


def _shown_skus(name: str, result: dict) -> list[str]:
    """Return the SKUs whose cards a search_products / get_product result showed, in order."""
    if name == "search_products":
        rows = result.get("products") or []
    elif name == "get_product":
        rows = [result.get("product") or {}]
    else:
        return []
    return [str(row["sku"]) for row in rows if isinstance(row, dict) and row.get("sku")]


def restored_events(paired: list[tuple[Message, list[dict]]]) -> dict[int, list[dict]]:
    """Return, per message id, the events the widget showed live for its tool calls: `tool`, then `products`.

    Product cards are built like the live ones (`product_card`) from the products as they are now,
    with their pictures; products gone from the shop are left out.
    """
    shown = {
        id(call): _shown_skus(call["name"], _loads(call["result"])) for _message, calls in paired for call in calls
    }
    products = product_by_sku(skus={sku for skus in shown.values() for sku in skus})
    events = {}
    for message, calls in paired:
        for call in calls:
            found = [products[sku] for sku in shown[id(call)] if sku in products]
            events.setdefault(message.pk, []).append(
                {"type": "tool", "name": call["name"], "label": call["label"], "error": call["error"]}
            )
            if found and not call["error"]:
                events[message.pk].append({"type": "products", "items": [product_card(p) for p in found]})
    return events
