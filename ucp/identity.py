"""UCP identity linking (`dev.ucp.common.identity_linking`): an agent acting for a shopper who signed in.

The agent links the shopper's account through the shop's OAuth server (`oauth/`: authorization code with
PKCE, a confidential client authenticating with client_secret_basic) asking for the scope
`ucp:scopes:checkout_session` and the resource `<shop>/ucp` (RFC 8707), then sends the access token as
`Authorization: Bearer` with its UCP requests. A session created with the token is linked to the shopper's
account (`session_create(user=...)`): its order is theirs, and their own saved addresses are its address
book. No Authorization header: a guest checkout, as before. A token that is not live, lacks the scope or
was issued for another resource (e.g. /mcp) is refused with 401 and a challenge naming the protected-resource
metadata (RFC 9728), never read as a guest.

The session stays the agent's (owner `ucp:<profile>`); a linked session is found only with its agent's
profile and a token of its shopper, a guest session only without a token: a session is found by exactly the
requests that could have created it.
"""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from mcpshop_site.exceptions import ShopError
from oauth.scopes import UCP_CHECKOUT_SCOPE
from oauth.selectors import oauth_access_token_live
from orders.checkout_sessions import session_get
from orders.exceptions import SessionNotFound
from orders.models import CheckoutSession

IDENTITY_LINKING = "dev.ucp.common.identity_linking"
METADATA_PATH = "/.well-known/oauth-protected-resource/ucp"


class LinkRefused(ShopError):
    """An Authorization header UCP cannot honour: answered 401 with the challenge of `challenge`."""

    code = "invalid_token"
    status = 401
    default_message = _(
        "The access token is unknown, expired, revoked, or not issued for this shop's UCP checkouts "
        "(scope ucp:scopes:checkout_session, resource: the /ucp endpoint)."
    )


def _origin(request) -> str:
    """Return the shop's address as its OAuth server names itself (SHOP_BASE_URL, else the request's host)."""
    return settings.SHOP_BASE_URL.rstrip("/") or request.build_absolute_uri("/").rstrip("/")


def ucp_resource(request) -> str:
    """Return the /ucp endpoint's absolute address: the resource a linking token must be issued for (the
    endpoint discovery names)."""
    return request.build_absolute_uri(reverse("ucp:root")).rstrip("/")


def linked_user(request):
    """Return the shopper of the request's bearer token, or None without an Authorization header.

    Raise LinkRefused for any other scheme, a token not live (unknown, expired, revoked, its user inactive), one
    without `ucp:scopes:checkout_session`, or one not bound to this /ucp endpoint.
    """
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _space, plain = header.partition(" ")
    if scheme.lower() != "bearer":
        raise LinkRefused()
    token = oauth_access_token_live(plain=plain.strip(), resource=ucp_resource(request))
    if token is None or UCP_CHECKOUT_SCOPE not in token.scope.split():
        raise LinkRefused()
    return token.user


def challenge(request) -> str:
    """Return the WWW-Authenticate challenge of a refused token (RFC 6750, RFC 9728)."""
    metadata = request.build_absolute_uri(METADATA_PATH)
    return f'Bearer error="invalid_token", resource_metadata="{metadata}", scope="{UCP_CHECKOUT_SCOPE}"'


def protected_resource_metadata(request) -> dict:
    """Return the /ucp resource's OAuth protected-resource metadata (RFC 9728)."""
    return {
        "resource": ucp_resource(request),
        "authorization_servers": [_origin(request)],
        "scopes_supported": [UCP_CHECKOUT_SCOPE],
        "bearer_methods_supported": ["header"],
        "resource_name": "MCPshop UCP",
    }


def identity_linking_config(request) -> dict:
    """Return the capability's `config` in discovery: where an agent links an account, for what and with which scope."""
    origin = _origin(request)
    return {
        "authorization_server": origin,
        "authorization_server_metadata": f"{origin}/.well-known/oauth-authorization-server",
        "protected_resource_metadata": request.build_absolute_uri(METADATA_PATH),
        "resource": ucp_resource(request),
        "scopes": [UCP_CHECKOUT_SCOPE],
    }


def linked_session_get(*, owner: str, user, session_id) -> CheckoutSession:
    """Return the agent's session if it belongs to `user` (None: a guest session); else SessionNotFound."""
    session = session_get(owner=owner, session_id=session_id)
    if session.user_id != (user.pk if user is not None else None):
        raise SessionNotFound(session_id=session.public_id)
    return session


def idempotency_owner(owner: str, user) -> str:
    """Return whose Idempotency-Keys a request uses: the agent's, apart for each shopper it acts for."""
    return owner if user is None else f"{owner} user:{user.pk}"
