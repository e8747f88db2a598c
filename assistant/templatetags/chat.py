"""The chat widget's configuration, handed to static/js/chat/main.js in a data attribute (no inline script)."""

import functools
import json

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.middleware.csrf import get_token
from django.urls import get_script_prefix, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cart.shoppers import shopper_for_request

register = template.Library()


def _strings() -> dict:
    return {
        "add": _("Add to cart"),
        "added": _("Added"),
        "out_of_stock": _("Out of stock"),
        "confirm": _("Confirm"),
        "cancel": _("Cancel"),
        "confirm_order": _("Place this order?"),
        "confirm_cancel": _("Cancel order #%(number)s?"),
        "total": _("Total"),
        "deliver_to": _("Deliver to"),
        "confirming": _("Confirming…"),
        "confirmed": _("Confirmed."),
        "declined": _("Cancelled: nothing was changed."),
        "order": _("Order #%(number)s"),
        "pay_by": _("Pay by %(when)s"),
        "view_order": _("View order"),
        "cart": _("Your cart: %(count)s items, %(total)s"),
        "cart_empty": _("Your cart is now empty."),
        "view_cart": _("View cart"),
        "thinking": _("The assistant is thinking…"),
        "connecting": _("Connecting…"),
        "reconnecting": _("Connection lost. Reconnecting…"),
        "interrupted": _("(The connection dropped before the answer was complete.)"),
        "failed": _("Something went wrong. Please try again."),
        "sign_in": _("Log in"),
        "you": _("You"),
        "assistant": _("Assistant"),
        "welcome": _("Hello! Ask me about products, your cart or your orders, in Chinese or English."),
        "suggestions": [_("Tea under 100 yuan"), _("What's in my cart?"), _("Where is my order?")],
    }


@functools.cache
def _fixed(language: str, script_prefix: str) -> tuple[dict, dict]:
    """Return the configuration's URLs and strings, which depend only on these two: built once per process."""
    urls = {
        "session_url": reverse("assistant:guest_session"),
        "history_url": reverse("api:conversation-list"),
        "cart_add_url": reverse("cart:add"),
        "cart_url": reverse("cart:detail"),
        "language": language,
        "order_url": reverse("orders:detail", args=["0"]),
        "login_url": reverse("accounts:login"),
    }
    return urls, _strings()


setting_changed.connect(lambda **kwargs: _fixed.cache_clear(), weak=False, dispatch_uid="assistant.chat._fixed")


@register.simple_tag(takes_context=True)
def chat_config(context) -> str:
    """Return the widget's configuration as JSON (escaped by the template like any other value)."""
    request = context["request"]
    user = request.user
    signed_in = user.is_authenticated
    urls, strings = _fixed(get_language(), get_script_prefix())
    return json.dumps(
        {
            "socket": "/ws/chat/",
            "user": f"u{user.pk}" if signed_in else "guest",
            "guest_ready": shopper_for_request(request).known,
            **urls,
            "csrf": str(context.get("csrf_token") or get_token(request)),  # the page's own token, masked once
            "max_chars": settings.ASSISTANT_MAX_INPUT_CHARS,
            "strings": strings,
        },
        ensure_ascii=False,
    )
