"""Which clients may register: dynamic client registration (RFC 7591/7592) and client ID metadata documents
share one rule for redirect URIs, and registration is rate limited per network address.

django-oauth-toolkit stores the client (its `Application`); these views only check what it would not
before handing the request on: a body that is JSON the shop's parser accepts, redirect URIs that are
https, or http on a loopback address for an app on the shopper's own computer (RFC 8252), and the
registrations per hour of one address (`OAUTH_REGISTRATIONS_PER_HOUR`).
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.views import DynamicClientRegistrationManagementView, DynamicClientRegistrationView

from mcpshop_site.parsers import json_loads
from mcpshop_site.ratelimit import client_address, rate_limit_spend

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
MAX_REDIRECT_URIS = 10
MAX_REDIRECT_URI_LENGTH = 2000
REGISTRATION_WINDOW = 3600  # seconds: OAUTH_REGISTRATIONS_PER_HOUR


def redirect_uri_refusal(uri) -> str | None:
    """Return why a client may not use this redirect URI, or None if it may."""
    if not isinstance(uri, str) or not uri or len(uri) > MAX_REDIRECT_URI_LENGTH:
        return "Each redirect URI must be a string of at most 2000 characters."
    try:
        parts = urlsplit(uri)
        host = parts.hostname
        parts.port  # noqa: B018  (an invalid port raises ValueError)
    except ValueError:
        return f"The redirect URI {uri!r} is not a valid URL."
    if parts.fragment or "#" in uri or parts.username is not None or parts.password is not None:
        return f"The redirect URI {uri!r} may not carry a fragment or credentials."
    if not host:
        return f"The redirect URI {uri!r} has no host."
    if parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS):
        return None
    return (
        f"The redirect URI {uri!r} is refused: use https, or http on a loopback address "
        "(127.0.0.1, [::1], localhost) for an app on the user's own computer."
    )


def redirect_uris_refusal(uris) -> str | None:
    """Return why a client's list of redirect URIs is refused, or None."""
    if not isinstance(uris, list) or not uris:
        return "redirect_uris must be a non-empty array of URLs."
    if len(uris) > MAX_REDIRECT_URIS:
        return f"At most {MAX_REDIRECT_URIS} redirect URIs."
    for uri in uris:
        refusal = redirect_uri_refusal(uri)
        if refusal:
            return refusal
    return None


def _error(error: str, description: str, status: int = 400, headers=None) -> JsonResponse:
    return JsonResponse({"error": error, "error_description": description}, status=status, headers=headers)


def _metadata_refusal(request) -> JsonResponse | None:
    """Check a registration body before django-oauth-toolkit reads it."""
    try:
        data = json_loads(request.body)
    except ValueError as error:  # not JSON, or nested too deep
        return _error("invalid_client_metadata", str(error) or "The body must be a JSON object.")
    if not isinstance(data, dict):
        return _error("invalid_client_metadata", "The body must be a JSON object.")
    refusal = redirect_uris_refusal(data.get("redirect_uris"))
    if refusal:
        return _error("invalid_redirect_uri", refusal)
    name = data.get("client_name", "")
    if not isinstance(name, str) or len(name) > 100:
        return _error("invalid_client_metadata", "client_name must be a string of at most 100 characters.")
    return None


@method_decorator(csrf_exempt, name="dispatch")
class RegistrationView(DynamicClientRegistrationView):
    """POST /oauth/register/: anyone may register a client (MCP clients arrive unannounced), a few per hour."""

    def post(self, request, *args, **kwargs):
        key = f"oauth-register:{client_address(request)}"
        retry_after = rate_limit_spend(key, settings.OAUTH_REGISTRATIONS_PER_HOUR, window=REGISTRATION_WINDOW)
        if retry_after is not None:
            description = "Too many client registrations from this address; try again later."
            return _error("rate_limited", description, status=429, headers={"Retry-After": str(retry_after)})
        return _metadata_refusal(request) or super().post(request, *args, **kwargs)


@method_decorator(csrf_exempt, name="dispatch")
class RegistrationManagementView(DynamicClientRegistrationManagementView):
    """/oauth/register/<client_id>/ (RFC 7592): a changed registration meets the same rule as a new one."""

    def put(self, request, *args, **kwargs):
        return _metadata_refusal(request) or super().put(request, *args, **kwargs)
