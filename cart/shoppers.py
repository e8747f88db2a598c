"""Who is shopping: a signed-in user, or a guest known by the cart token kept in their session.

One `Shopper` is made per request, chat turn or MCP call by `shopper_for` (pages and the API through
`shopper_for_request`, the chat socket from its scope, MCP from its token's user) and passed to every
tool, service and selector that needs it.
"""

import secrets
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

GUEST_CART_SESSION_KEY = "guest_cart_token"


def new_guest_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Shopper:
    """A signed-in user, or a guest's cart token; neither for someone the shop cannot know yet."""

    user: Any = None
    guest_token: str | None = None

    def __post_init__(self):
        if self.user is not None and not self.user.is_authenticated:
            object.__setattr__(self, "user", None)
        if self.user is not None:  # a signed-in shopper's cart is the account's
            object.__setattr__(self, "guest_token", None)

    @property
    def signed_in(self) -> bool:
        return self.user is not None

    @property
    def known(self) -> bool:
        """Whether the shopper can have a cart: signed in, or holding a guest token."""
        return self.signed_in or bool(self.guest_token)

    def cart_filter(self, prefix: str = "") -> Q:
        """Return the filter that selects this shopper's cart (under `prefix`, e.g. "cart__"); nothing if unknown."""
        if self.user is not None:
            return Q(**{f"{prefix}user": self.user})
        if self.guest_token:
            return Q(**{f"{prefix}session_key": self.guest_token, f"{prefix}user__isnull": True})
        return Q(pk__in=[])

    def cart_owner(self) -> dict:
        """Return the fields that make a new cart this shopper's."""
        if self.user is not None:
            return {"user": self.user}
        if self.guest_token:
            return {"session_key": self.guest_token}
        raise ValueError("a cart needs a user or a guest token")


def shopper_for(user, session=None, *, create: bool = False) -> Shopper:
    """Return the shopper of a request or a socket: its signed-in user, else the guest token in its session.

    With `create`, a guest without a token gets one, stored in the session (which the caller saves, as
    Django's middleware does for requests).
    """
    if user is not None and user.is_authenticated:
        return Shopper(user=user)
    token = session.get(GUEST_CART_SESSION_KEY) if session is not None else None
    if not token and create and session is not None:
        token = session[GUEST_CART_SESSION_KEY] = new_guest_token()
    return Shopper(guest_token=token)


def shopper_for_request(request, *, create: bool = False) -> Shopper:
    """Return the shopper of an HTTP request (pages, the API, the chat over REST)."""
    return shopper_for(getattr(request, "user", None), getattr(request, "session", None), create=create)
