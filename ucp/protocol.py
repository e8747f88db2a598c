"""UCP's frame around the shop: the version, the business profile (/.well-known/ucp), the agent's `UCP-Agent`
header, its profile (where its order webhooks go), payment handlers, and UCP's error body."""

import hashlib
import re

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils.translation import gettext as _

from mcpshop_site import outbound
from mcpshop_site.exceptions import InvalidInput, ShopError
from mcpshop_site.outbound import OutboundError
from mcpshop_site.webhooks import ucp_signing_keys
from orders.payments import get_provider
from ucp.identity import IDENTITY_LINKING, identity_linking_config

VERSION = "2026-01-11"
SHOPPING = "dev.ucp.shopping"
CHECKOUT = "dev.ucp.shopping.checkout"
ORDER = "dev.ucp.shopping.order"
EXTENSIONS = ("dev.ucp.shopping.discount", "dev.ucp.shopping.fulfillment", "dev.ucp.shopping.buyer_consent")
SPEC = "https://ucp.dev/specification"
SCHEMAS = "https://ucp.dev/schemas/shopping"
MAX_PROFILE_LENGTH = 280
PROFILE_CACHE_SECONDS = 300
# The payment handler of the `test` provider: the conformance suite's mock, accepting any token but `fail_token`.
MOCK_HANDLER = {
    "id": "mock_payment_handler",
    "name": "dev.ucp.mock_payment_handler",
    "version": VERSION,
    "spec": f"{SPEC}/payment-handler-guide",
    "config_schema": f"{SCHEMAS}/types/payment_handler.create_req.json",
    "instrument_schemas": [f"{SCHEMAS}/types/card_payment_instrument.json"],
    "config": {},
}
_PARAMETER = re.compile(r'\s*([A-Za-z_-]+)\s*=\s*(?:"([^"]*)"|([^;,\s]*))\s*[;,]?')


class UcpVersionUnsupported(InvalidInput):
    code = "version_unsupported"
    default_message = "This UCP version is not supported."


def payment_handlers() -> list[dict]:
    """Return the payment handlers the shop accepts: its provider's own (`test`: the mock handler) and those
    declared in settings.UCP_PAYMENT_HANDLERS (full handler objects, e.g. shop_pay, google_pay)."""
    own = [MOCK_HANDLER] if get_provider().name == "test" else []
    return own + list(settings.UCP_PAYMENT_HANDLERS)


def capabilities(*names: str) -> list[dict]:
    return [{"name": name, "version": VERSION} for name in names]


def response_ucp(*names: str) -> dict:
    """Return the `ucp` member every response carries: the version and the capabilities in play."""
    return {"version": VERSION, "capabilities": capabilities(*names)}


def checkout_capabilities() -> tuple[str, ...]:
    return (CHECKOUT, *EXTENSIONS)


def business_profile(request) -> dict:
    """Return the shop's UCP profile: the shopping service's REST and MCP endpoints, capabilities (identity
    linking with the OAuth server, resource and scope it takes: ucp.identity), payment handlers and the keys its
    webhooks are signed with."""
    endpoint = request.build_absolute_uri(reverse("ucp:root")).rstrip("/")

    def capability(name: str, page: str, schema: str, extends: str | None = None) -> dict:
        entry = {"name": name, "version": VERSION, "spec": f"{SPEC}/{page}", "schema": f"{SCHEMAS}/{schema}"}
        return {**entry, "extends": extends} if extends else entry

    identity_linking = {
        "name": IDENTITY_LINKING,
        "version": VERSION,
        "spec": f"{SPEC}/identity-linking",
        # The spec defines no payload schema for this capability: the capability declaration's own schema.
        "schema": "https://ucp.dev/schemas/capability.json",
        "config": identity_linking_config(request),
    }

    return {
        "ucp": {
            "version": VERSION,
            "services": {
                SHOPPING: {
                    "version": VERSION,
                    "spec": f"{SPEC}/overview",
                    "rest": {"schema": "https://ucp.dev/services/shopping/rest.openapi.json", "endpoint": endpoint},
                    # The MCP binding (ucp.mcp): the shop's /mcp, for a signed-in shopper's MCP client.
                    "mcp": {
                        "schema": "https://ucp.dev/services/shopping/mcp.openrpc.json",
                        "endpoint": request.build_absolute_uri("/mcp"),
                    },
                }
            },
            "capabilities": [
                capability(CHECKOUT, "checkout", "checkout_resp.json"),
                capability(ORDER, "order", "order.json"),
                capability("dev.ucp.shopping.discount", "discount", "discount_resp.json", CHECKOUT),
                capability("dev.ucp.shopping.fulfillment", "fulfillment", "fulfillment_resp.json", CHECKOUT),
                capability("dev.ucp.shopping.buyer_consent", "buyer-consent", "buyer_consent_resp.json", CHECKOUT),
                identity_linking,
            ],
        },
        "payment": {"handlers": payment_handlers()},
        "signing_keys": ucp_signing_keys(),
    }


def agent_of(request) -> str:
    """Return the agent's owner key ("ucp:<profile>") from its `UCP-Agent` header; refuse a missing profile
    (400) and a version later than the shop's (400, `version_unsupported`)."""
    header = request.headers.get("UCP-Agent", "")
    parameters = {name.lower(): quoted or bare for name, quoted, bare in _PARAMETER.findall(header)}
    version = parameters.get("version", "")
    if version and version > VERSION:
        raise UcpVersionUnsupported(
            _("UCP version %(version)s is not supported; this shop speaks %(supported)s.")
            % {"version": version[:32], "supported": VERSION},
            supported=VERSION,
        )
    profile = parameters.get("profile", "")
    if not profile or len(profile) > MAX_PROFILE_LENGTH or "\x00" in profile:
        raise InvalidInput(_('The UCP-Agent header must name the agent\'s profile: profile="https://...".'))
    return f"ucp:{profile}"


def agent_webhook_url(owner: str) -> str:
    """Return the order webhook URL the agent's profile declares, or "" (no profile to fetch, or none in it).

    The profile is fetched through mcpshop_site.outbound (public https addresses only, unless allowed) and
    its answer kept PROFILE_CACHE_SECONDS, so an agent's run of requests fetches it once.
    """
    key = "ucp:profile:" + hashlib.sha256(owner.encode()).hexdigest()
    url = cache.get(key)
    if url is None:
        url = _webhook_url_of(owner.removeprefix("ucp:"))
        cache.set(key, url, PROFILE_CACHE_SECONDS if url else 30)  # a profile that failed is tried again soon
    return url


def _webhook_url_of(profile_url: str) -> str:
    try:
        profile = outbound.fetch_json(profile_url)
    except OutboundError:
        return ""
    entries = profile.get("ucp", {}).get("capabilities", []) if isinstance(profile, dict) else []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("name") == ORDER and isinstance(entry.get("config"), dict):
            url = entry["config"].get("webhook_url")
            return url if isinstance(url, str) and len(url) <= 2000 else ""
    return ""


def error_body(error: ShopError) -> dict:
    """Return a shop error as UCP answers it: `detail` and `code`, and the same as a UCP error message.

    A stock shortage's detail names it as UCP agents look for it ("Insufficient stock ...").
    """
    detail = error.message
    if error.code == "insufficient_stock":
        detail = _("Insufficient stock for %(sku)s: %(message)s") % {
            "sku": error.details.get("sku", ""),
            "message": error.message,
        }
    return {
        "detail": detail,
        "code": error.code,
        "messages": [{"type": "error", "code": error.code, "content": error.message, "severity": "recoverable"}],
    }
