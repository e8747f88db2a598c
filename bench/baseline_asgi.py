"""B1's baselines under daphne and uvicorn: DJANGO_SETTINGS_MODULE picks bench.bare_settings or bench.stock_settings."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.bare_settings")
application = get_asgi_application()
