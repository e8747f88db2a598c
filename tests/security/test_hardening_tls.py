"""Behind a TLS proxy, with the production settings: HTTPS only, HSTS, secure cookies, CSP.

Settings the module leaves alone (SameSite=Lax cookies) keep Django's defaults in both processes.
The security settings are read from `mcpshop_site.settings` as a production process computes them
(DEBUG=0 and its keys, in a subprocess), then applied to this test's requests through the real
middleware: the proxy's `X-Forwarded-Proto: https` marks a request as secure.
"""

import json
import os
import subprocess
import sys

import pytest
from django.test import Client, override_settings

from tests.test_settings import PRODUCTION, ROOT

pytestmark = pytest.mark.django_db

SECURITY_SETTINGS = [
    "DEBUG",
    "ALLOWED_HOSTS",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SECURE",
    "CONTENT_SECURITY_POLICY",
    "X_FRAME_OPTIONS",
]
HTTPS = {"headers": {"x-forwarded-proto": "https"}, "HTTP_HOST": "shop.example.com"}


@pytest.fixture(scope="module")
def production_settings() -> dict:
    script = (
        "import json, mcpshop_site.settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {SECURITY_SETTINGS!r} if hasattr(s, n)}}))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "DATABASE_URL"}
    env = {**clean, **PRODUCTION, "DJANGO_SETTINGS_MODULE": "mcpshop_site.settings"}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["DEBUG"] is False
    values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return values


@pytest.fixture
def behind_tls(production_settings):
    with override_settings(**production_settings):
        yield


def test_plain_http_is_redirected_to_https(behind_tls):
    response = Client().get("/search/?q=tea", HTTP_HOST="shop.example.com")
    assert response.status_code == 301
    assert response["Location"] == "https://shop.example.com/search/?q=tea"
    assert (
        Client()
        .get("/api/products/", HTTP_HOST="shop.example.com", headers={"x-forwarded-proto": "http"})["Location"]
        .startswith("https://")
    )


def test_https_answers_carry_hsts_csp_and_the_other_headers(behind_tls):
    response = Client().get("/api/products/", **HTTPS)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_session_and_csrf_cookies_are_secure_httponly_and_samesite(behind_tls, alice):
    client = Client(enforce_csrf_checks=False)
    response = client.post("/accounts/login/", {"username": "alice", "password": alice.raw_password}, **HTTPS)
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    csrf = client.get("/api/auth/me", **HTTPS).cookies.get("csrftoken") or response.cookies["csrftoken"]
    assert csrf["secure"] and csrf["samesite"] == "Lax"
    assert not csrf["httponly"]  # the chat widget reads it for fetch(); documented in settings
