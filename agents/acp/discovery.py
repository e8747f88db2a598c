"""`/.well-known/acp.json`: what an agent learns before its first call, without a key (rfc.discovery)."""

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.http import require_safe

from agents.acp.protocol import SUPPORTED_LOCALES, SUPPORTED_VERSIONS
from mcpshop_site.mail import shop_link


def discovery_document(*, base_url: str) -> dict:
    """Return the shop's DiscoveryResponse: versions, where the API is, transports and capabilities."""
    return {
        "protocol": {"name": "acp", "version": SUPPORTED_VERSIONS[-1], "supported_versions": list(SUPPORTED_VERSIONS)},
        "api_base_url": shop_link("", base_url=base_url),
        "transports": ["rest", "mcp"],  # the MCP binding is on the shop's /mcp (agents.acp.mcp)
        "capabilities": {
            "services": ["checkout"],
            "extensions": [{"name": "discount"}],
            "supported_currencies": [settings.SHOP_CURRENCY.lower()],
            "supported_locales": SUPPORTED_LOCALES,
        },
    }


@require_safe
def discovery(request):
    response = JsonResponse(discovery_document(base_url=request.build_absolute_uri("/")))
    response["Cache-Control"] = "public, max-age=3600"
    return response
