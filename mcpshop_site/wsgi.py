"""WSGI entry point for gunicorn, serving the shop's HTTP (pages, API, admin) in production.

WebSocket (/ws/) and MCP (/mcp) need ASGI: a reverse proxy sends those to daphne (see docs/deploy.md).
"""

import os

from mcpshop_site.handlers import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mcpshop_site.settings")
application = get_wsgi_application()
