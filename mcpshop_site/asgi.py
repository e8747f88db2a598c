"""ASGI entry point: Django for HTTP (pages, API, admin); the WebSocket and MCP routes join here."""

import os

from mcpshop_site.handlers import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mcpshop_site.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from assistant.mcp_http import with_mcp  # noqa: E402  (/mcp and its metadata, in front of everything)
from assistant.routing import websocket_urlpatterns  # noqa: E402

application = with_mcp(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
        }
    )
)
