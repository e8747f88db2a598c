"""B1's baselines under gunicorn: DJANGO_SETTINGS_MODULE picks bench.bare_settings or bench.stock_settings."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.bare_settings")
application = get_wsgi_application()
