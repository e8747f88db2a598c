"""Driving the shop's authorization server in-process: register a client, consent as a shopper, exchange codes."""

import base64
import hashlib
import json
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from tests.assistant.conftest import anyio_backend, async_db, shop  # noqa: F401  (fixtures for the live tests)

RESOURCE = "http://testserver/mcp"  # the /mcp resource as the test client reaches the shop
REDIRECT = "http://127.0.0.1:8765/callback"


def pkce() -> tuple[str, str]:
    """Return a PKCE verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def register(client: Client, **metadata):
    """POST a client registration (RFC 7591); return the response."""
    body = {"client_name": "Test Agent", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none", **metadata}
    return client.post("/oauth/register/", json.dumps(body), content_type="application/json")


def authorize_params(client_id: str, challenge: str | None, **extra) -> dict:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "read cart orders",
        "state": "state-1",
        "resource": RESOURCE,
    }
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return {key: value for key, value in (params | extra).items() if value is not None}


def consent(client: Client, params: dict, *, allow: bool = True):
    """Open the consent page with `params` and answer it; return the answer's response (a redirect)."""
    page = client.get("/oauth/authorize/", params)
    assert page.status_code == 200, page.content[:500]
    form = page.context["form"]
    data = {name: field.value() for name, field in ((n, form[n]) for n in form.fields) if field.value() is not None}
    data.pop("allow", None)
    if allow:
        data["allow"] = "Authorize"
    return client.post("/oauth/authorize/", data)


def redirect_query(response) -> dict:
    assert response.status_code == 302, response.content[:500]
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def exchange(client: Client, client_id: str, code: str, verifier: str | None, **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": client_id}
    if verifier is not None:
        data["code_verifier"] = verifier
    return client.post("/oauth/token/", {key: value for key, value in (data | extra).items() if value is not None})


@pytest.fixture
def public_client(client) -> str:
    """A registered public client's id."""
    response = register(client)
    assert response.status_code == 201, response.content
    return response.json()["client_id"]


@pytest.fixture
def grant(alice, public_client):
    """Return a function issuing alice's tokens to the public client: (token response dict)."""

    def issue(*, resource=RESOURCE, scope="read cart orders", user=alice) -> dict:
        browser = Client()
        browser.force_login(user)
        verifier, challenge = pkce()
        answer = redirect_query(
            consent(browser, authorize_params(public_client, challenge, resource=resource, scope=scope))
        )
        response = exchange(Client(), public_client, answer["code"], verifier)
        assert response.status_code == 200, response.content
        return response.json()

    return issue
