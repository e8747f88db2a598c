"""The consent page is shown every time, and lets the browser go back to the app: Allow and Deny are answered
with a redirect to it.

The page's answer is a redirect to the app's address, which browsers check against the page's
Content-Security-Policy `form-action`: with the shop's `form-action 'self'` alone, Chromium blocked it and
the shopper stayed on the consent page, so no connector could finish signing in. claude.ai is resolved to
this machine, where nothing answers: the browser's request to it is all the test needs to see.
"""

from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client

from tests.oauth.conftest import REDIRECT, authorize_params, pkce, register
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, _missing

pytestmark = pytest.mark.django_db

REDIRECTS = [
    "https://claude.ai/api/mcp/auth_callback",  # an app on the web (Claude's custom connectors)
    "http://127.0.0.1:8765/callback",  # a desktop app's loopback redirect (RFC 8252)
    "http://[::1]:8765/callback",  # the same on IPv6, which a CSP source cannot name
]


def registered(redirect_uri: str) -> str:
    response = register(Client(), client_name="Claude", redirect_uris=[redirect_uri])
    assert response.status_code == 201, response.content
    return response.json()["client_id"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_allow_and_deny_send_the_browser_back_to_the_app(live_server, alice):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        _missing(f"{CHROMIUM} is not installed (apt-get install chromium)")
    clients = {uri: registered(uri) for uri in REDIRECTS}  # the database work before Playwright's event loop

    with sync_api.sync_playwright() as playwright:
        args = [*CHROMIUM_ARGS, "--host-resolver-rules=MAP claude.ai 127.0.0.1"]
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        context = browser.new_context()
        context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
        refused = []
        context.on(
            "console", lambda message: "Content Security Policy" in message.text and refused.append(message.text)
        )
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", alice.username)
        page.fill("input[name=password]", alice.raw_password)
        page.locator("main form [type=submit]").click()
        page.wait_for_load_state()

        for redirect_uri, client_id in clients.items():
            for button, expected in (("Allow", "code"), ("Deny", "error")):
                params = {
                    "response_type": "code",
                    "client_id": client_id,
                    "redirect_uri": redirect_uri,
                    "scope": "read cart",
                    "state": f"{button}-{redirect_uri}",
                    "code_challenge": pkce()[1],
                    "code_challenge_method": "S256",
                    "resource": f"{live_server.url}/mcp",
                }
                page = context.new_page()  # each its own: the last one is still failing to reach the app
                page.goto(f"{live_server.url}/oauth/authorize/?{urlencode(params)}")
                with page.expect_request(lambda request, uri=redirect_uri: request.url.startswith(uri)) as back:
                    page.get_by_role("button", name=button, exact=True).click()
                answer = parse_qs(urlsplit(back.value.url).query)
                assert answer["state"] == [params["state"]]
                assert expected in answer, answer
                if button == "Deny":
                    assert answer["error"] == ["access_denied"]
        browser.close()
    assert refused == [], refused


@pytest.mark.parametrize(
    ("redirect_uri", "source"),
    [
        ("https://claude.ai/api/mcp/auth_callback", "https://claude.ai"),
        ("https://App.Example:8443/cb?x=1", "https://app.example:8443"),
        (REDIRECT, "http://127.0.0.1:8765"),
        ("http://[::1]:8765/callback", "http:"),  # a CSP source cannot name an IPv6 address
    ],
)
def test_the_consent_page_lets_its_form_redirect_to_the_app(alice, client, redirect_uri, source):
    """Browsers apply `form-action` to the redirect that answers the form: the app's origin must be in it."""
    client_id = register(client, redirect_uris=[redirect_uri]).json()["client_id"]
    browser = Client()
    browser.force_login(alice)
    page = browser.get("/oauth/authorize/", authorize_params(client_id, pkce()[1], redirect_uri=redirect_uri))
    assert page.status_code == 200
    directives = dict(part.strip().split(" ", 1) for part in page.headers["Content-Security-Policy"].split(";"))
    assert directives["form-action"] == f"'self' {source}"
    assert directives["script-src"] == "'self'"
    # any other page keeps the shop's policy
    other = browser.get("/accounts/").headers["Content-Security-Policy"]
    assert "form-action 'self';" in other


def test_the_consent_page_is_shown_even_when_the_app_asks_to_skip_it(alice, public_client, grant):
    """django-oauth-toolkit skips the page for approval_prompt=auto while the app holds a live token with those
    scopes: a code would reach the app without the shopper's click. The shop asks every time."""
    grant()  # alice has allowed the app once: it holds a live token
    browser = Client()
    browser.force_login(alice)
    page = browser.get("/oauth/authorize/", authorize_params(public_client, pkce()[1], approval_prompt="auto"))
    assert page.status_code == 200
    assert page.context["form"] is not None
