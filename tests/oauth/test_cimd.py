"""Client ID metadata documents: an https client_id is fetched through mcpshop_site.outbound (never from a
private address), checked like a registration, kept for its max-age, and then consents and gets tokens.

A document must live on https; the local fake server speaks http, so `served_from` stands in for DNS and
TLS: it sends the shop's real outbound request for https://agent.example/... to the fake server on localhost
(allow-listed), and hands the answer back under the address that was asked for."""

import dataclasses

import pytest
from django.test import Client
from oauth2_provider.models import Application

from mcpshop_site import outbound
from tests.fake_receiver import FakeReceiver
from tests.oauth.conftest import REDIRECT, authorize_params, consent, exchange, pkce, redirect_query

pytestmark = pytest.mark.django_db

CLIENT_ID = "https://agent.example/oauth/client.json"
DOCUMENT = {
    "client_id": CLIENT_ID,
    "client_name": "Doc Agent",
    "redirect_uris": [REDIRECT],
    "grant_types": ["authorization_code", "refresh_token"],
    "token_endpoint_auth_method": "none",
}


@pytest.fixture
def agent_site(monkeypatch, settings):
    settings.OUTBOUND_ALLOW_HOSTS = ["localhost"]
    real_request = outbound.request
    with FakeReceiver() as server:
        local = server.url.replace("127.0.0.1", "localhost")

        def served_from(method, url, **kwargs):
            if not url.startswith("https://agent.example/"):
                return real_request(method, url, **kwargs)
            answer = real_request(method, url.replace("https://agent.example", local), **kwargs)
            return dataclasses.replace(answer, url=answer.url.replace(local, "https://agent.example"))

        monkeypatch.setattr(outbound, "request", served_from)
        yield server


def _signed_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def test_a_client_id_document_is_fetched_shown_on_the_consent_and_kept(alice, agent_site):
    agent_site.script["/oauth/client.json"] = [{"json": DOCUMENT, "headers": {"Cache-Control": "max-age=600"}}]
    browser = _signed_in(alice)
    verifier, challenge = pkce()
    page = browser.get("/oauth/authorize/", authorize_params(CLIENT_ID, challenge))
    assert page.status_code == 200
    assert "Doc Agent" in page.content.decode() and CLIENT_ID in page.content.decode()
    code = redirect_query(consent(browser, authorize_params(CLIENT_ID, challenge)))["code"]
    tokens = exchange(Client(), CLIENT_ID, code, verifier)
    assert tokens.status_code == 200, tokens.content
    assert len(agent_site.requests) == 1  # kept for its max-age: consent and token read the stored client
    assert agent_site.requests[0].headers["Host"].startswith("localhost")
    application = Application.objects.get(client_id=CLIENT_ID)
    assert (application.name, application.client_type) == ("Doc Agent", "public")


@pytest.mark.parametrize(
    "answer",
    [
        {"json": {**DOCUMENT, "client_id": "https://agent.example/other.json"}},  # claims another id
        {"json": {**DOCUMENT, "redirect_uris": ["http://agent.example/cb"]}},  # http off loopback
        {"json": {**DOCUMENT, "token_endpoint_auth_method": "client_secret_basic"}},  # not public
        {"json": {**DOCUMENT, "client_name": "x" * 5000}},
        {"body": b"<html>", "headers": {"Content-Type": "text/html"}},
        {"json": {**DOCUMENT, "padding": "x" * 20_000}},  # over 16 KiB
        {"status": 500},
        {"status": 302, "headers": {"Location": "http://localhost:1/elsewhere.json"}},
    ],
)
def test_an_unacceptable_document_is_an_unknown_client(alice, agent_site, answer):
    agent_site.script["/oauth/client.json"] = [answer]
    page = _signed_in(alice).get("/oauth/authorize/", authorize_params(CLIENT_ID, pkce()[1]))
    assert page.status_code == 400  # shown on the shop's page: nothing is sent to the claimed redirect URI
    assert "Location" not in page
    assert not Application.objects.filter(client_id=CLIENT_ID).exists()


@pytest.mark.parametrize(
    "client_id",
    [
        "https://127.0.0.1:{port}/client.json",
        "https://localhost:{port}/client.json",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]:{port}/client.json",
        "http://agent.example/client.json",  # not https: not a document URL at all
    ],
)
def test_a_client_id_on_a_private_address_is_never_fetched(alice, settings, client_id):
    settings.OUTBOUND_ALLOW_HOSTS = []
    with FakeReceiver() as server:
        port = server.url.rsplit(":", 1)[1]
        page = _signed_in(alice).get("/oauth/authorize/", authorize_params(client_id.format(port=port), pkce()[1]))
        assert page.status_code == 400
        assert server.requests == []
    assert not Application.objects.exists()
