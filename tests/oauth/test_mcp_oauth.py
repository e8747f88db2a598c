"""OAuth 2.1 against a live shop's /mcp, driven by the mcp SDK's own OAuthClientProvider: discovery, dynamic
registration, a signed-in shopper's consent (over HTTP, as a browser would), the token, tool calls, refresh,
revocation; and the gate's refusals of tokens that are not live or not issued for this /mcp.

The server process shares the test database: shoppers are made with the ORM here and what the calls
changed is read back from the database.
"""

import json
import secrets
import time
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone
from mcp.client import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata
from oauth2_provider.models import AccessToken, Application, RefreshToken, set_token_value

from assistant.models import PendingConfirmation
from cart.models import CartItem
from orders.models import Order
from tests.assistant.mcp_live import LiveServer
from tests.conftest import CONTACT

pytestmark = [pytest.mark.anyio, pytest.mark.django_db(transaction=True)]

CALLBACK = "http://127.0.0.1:8765/callback"


@pytest.fixture(scope="module")
def live(django_db_setup):
    server = LiveServer("daphne")
    yield server
    errors = server.stop()
    assert "Traceback" not in errors, errors


class MemoryStorage:
    """The SDK's TokenStorage, in memory."""

    def __init__(self):
        self.tokens = None
        self.client_info = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info):
        self.client_info = client_info


class HiddenInputs(HTMLParser):
    """Collects a page's hidden form fields (the consent form carries the request in them)."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and attributes.get("type") == "hidden" and attributes.get("name"):
            self.fields[attributes["name"]] = attributes.get("value") or ""


class Shopper:
    """A browser signed in to the shop, answering consent pages like a person clicking Allow."""

    def __init__(self, live, user):
        self.live = live
        self.user = user
        self.browser = httpx2.AsyncClient(base_url=live.url, timeout=30)
        self.consent_pages: list[str] = []
        self.answer: dict | None = None

    async def sign_in(self):
        await self.browser.get("/accounts/login/")
        signed_in = await self.browser.post(
            "/accounts/login/",
            data={
                "username": self.user.username,
                "password": self.user.raw_password,
                "csrfmiddlewaretoken": self.browser.cookies["csrftoken"],
            },
        )
        assert signed_in.status_code == 302, signed_in.text[:300]

    async def redirect_handler(self, authorization_url: str) -> None:
        page = await self.browser.get(authorization_url)
        assert page.status_code == 200, page.text[:500]
        self.consent_pages.append(page.text)
        form = HiddenInputs()
        form.feed(page.text)
        answered = await self.browser.post("/oauth/authorize/", data={**form.fields, "allow": "Authorize"})
        assert answered.status_code == 302, answered.text[:500]
        location = answered.headers["location"]
        assert location.startswith(CALLBACK)
        self.answer = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}

    async def callback_handler(self) -> AuthorizationCodeResult:
        answer, self.answer = self.answer, None
        return AuthorizationCodeResult(code=answer["code"], state=answer.get("state"), iss=answer.get("iss"))


def provider_for(live, shopper: Shopper, storage: MemoryStorage) -> OAuthClientProvider:
    metadata = OAuthClientMetadata(
        client_name="SDK Agent",
        redirect_uris=[CALLBACK],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
    )
    return OAuthClientProvider(
        server_url=f"{live.url}/mcp",
        client_metadata=metadata,
        storage=storage,
        redirect_handler=shopper.redirect_handler,
        callback_handler=shopper.callback_handler,
    )


def data(result) -> dict:
    return json.loads(result.content[0].text)


async def mcp_status(live, token: str) -> int:
    """POST an initialize to /mcp with a bearer token; return the status."""
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    headers = {
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "Authorization": f"Bearer {token}",
    }
    async with httpx2.AsyncClient(timeout=30) as http:
        return (await http.post(f"{live.url}/mcp", json=body, headers=headers)).status_code


async def test_the_sdk_connects_with_oauth_calls_tools_refreshes_and_is_revoked(live, alice, shop, async_db):
    shopper = Shopper(live, alice)
    await shopper.sign_in()
    storage = MemoryStorage()
    provider = provider_for(live, shopper, storage)
    async with (
        httpx2.AsyncClient(auth=provider, timeout=30) as http,
        Client(streamable_http_client(f"{live.url}/mcp", http_client=http)) as client,
    ):
        # discovery, registration, consent and token happened on the first request
        assert len(shopper.consent_pages) == 1
        assert "SDK Agent" in shopper.consent_pages[0] and "127.0.0.1:8765" in shopper.consent_pages[0]
        assert storage.client_info.client_id and storage.tokens.refresh_token
        assert set(storage.tokens.scope.split()) == {"read", "cart", "orders"}
        assert data(await client.call_tool("search_products", {"query": "tea"}))["count"] >= 1
        assert data(await client.call_tool("add_to_cart", {"sku": "TEA-LJ", "quantity": 2}))["added"]
        # the same rights as a personal token: buying waits for the shopper's click on the shop's page
        prepared = data(await client.call_tool("place_order", CONTACT))
        assert prepared["confirm_url"].startswith(f"{live.url}/assistant/confirm/")

        # refresh: the SDK renews an expired access token with its refresh token, which rotates
        first = storage.tokens
        provider.context.token_expiry_time = time.time() - 1
        assert data(await client.call_tool("view_cart", {}))["total_cents"] > 0
        assert storage.tokens.access_token != first.access_token
        assert storage.tokens.refresh_token != first.refresh_token
        assert await mcp_status(live, first.access_token) == 401  # the replaced access token ended
        assert len(shopper.consent_pages) == 1  # no new consent was needed

        # revocation (RFC 7009) takes effect on the very next request
        async with httpx2.AsyncClient(timeout=30) as plain:
            revoked = await plain.post(
                f"{live.url}/oauth/revoke/",
                data={"token": storage.tokens.access_token, "client_id": storage.client_info.client_id},
            )
        assert revoked.status_code == 200
        assert await mcp_status(live, storage.tokens.access_token) == 401

        # a used refresh token cannot be used again
        async with httpx2.AsyncClient(timeout=30) as plain:
            reused = await plain.post(
                f"{live.url}/oauth/token/",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": first.refresh_token,
                    "client_id": storage.client_info.client_id,
                },
            )
        assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"

    assert await sync_to_async(list)(CartItem.objects.filter(cart__user=alice).values_list("product__sku", "quantity"))
    assert not await Order.objects.aexists()
    assert await PendingConfirmation.objects.filter(user=alice).acount() == 1


async def test_the_account_page_disconnect_ends_the_app_s_access_at_once(live, alice, shop, async_db):
    shopper = Shopper(live, alice)
    await shopper.sign_in()
    storage = MemoryStorage()
    async with (
        httpx2.AsyncClient(auth=provider_for(live, shopper, storage), timeout=30) as http,
        Client(streamable_http_client(f"{live.url}/mcp", http_client=http)) as client,
    ):
        await client.list_tools()
    token = storage.tokens.access_token
    assert await mcp_status(live, token) == 200
    application = await Application.objects.aget(client_id=storage.client_info.client_id)
    account = await shopper.browser.get("/accounts/")
    assert "SDK Agent" in account.text
    disconnected = await shopper.browser.post(
        f"/accounts/connected-apps/{application.pk}/revoke/",
        data={"csrfmiddlewaretoken": shopper.browser.cookies["csrftoken"]},
    )
    assert disconnected.status_code == 302
    assert await mcp_status(live, token) == 401
    assert not await RefreshToken.objects.filter(user=alice, revoked__isnull=True).aexists()


# The gate's refusals ----------------------------------------------------------------------------------


@sync_to_async
def stored_token(user, *, resource, scope="read cart orders", expires_in=3600) -> str:
    """Store an access token the way the authorization server does (hashed); return the secret."""
    application = Application.objects.create(
        name="direct", client_type="public", authorization_grant_type="authorization-code", redirect_uris=CALLBACK
    )
    plain = secrets.token_urlsafe(30)
    token = AccessToken(
        user=user,
        application=application,
        scope=scope,
        expires=timezone.now() + timedelta(seconds=expires_in),
        resource=resource,
    )
    set_token_value(token, plain)
    token.save()
    return plain


async def test_the_gate_takes_only_live_tokens_issued_for_this_mcp(live, alice, async_db):
    ours = f"{live.url}/mcp"
    assert await mcp_status(live, await stored_token(alice, resource=[ours])) == 200
    assert await mcp_status(live, await stored_token(alice, resource=[f"{ours}/"])) == 200  # same resource
    assert await mcp_status(live, await stored_token(alice, resource=["https://other.example/mcp"])) == 401
    assert await mcp_status(live, await stored_token(alice, resource=[f"{live.url}/api"])) == 401
    assert await mcp_status(live, await stored_token(alice, resource=[])) == 401  # asked for no resource
    assert await mcp_status(live, await stored_token(alice, resource=[ours], expires_in=-1)) == 401
    ucp_only = await stored_token(alice, resource=[ours], scope="ucp:scopes:checkout_session")
    assert await mcp_status(live, ucp_only) == 401  # no scope /mcp honours
    assert await mcp_status(live, await stored_token(None, resource=[ours])) == 401  # a registration token

    live_token = await stored_token(alice, resource=[ours])
    assert await mcp_status(live, live_token) == 200
    alice.is_active = False
    await alice.asave(update_fields=["is_active"])
    assert await mcp_status(live, live_token) == 401


async def test_an_oauth_token_s_scopes_bound_the_tools_as_a_personal_token_s_do(live, alice, shop, async_db):
    token = await stored_token(alice, resource=[f"{live.url}/mcp"], scope="read")
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http,
        Client(streamable_http_client(f"{live.url}/mcp", http_client=http)) as client,
    ):
        assert data(await client.call_tool("search_products", {"query": "tea"}))["count"] >= 1
        refused = await client.call_tool("add_to_cart", {"sku": "TEA-LJ"})
        assert refused.is_error and data(refused)["error"]["code"] == "insufficient_scope"
    assert not await CartItem.objects.aexists()


async def test_the_401_challenge_names_the_metadata_and_the_scopes(live):
    async with httpx2.AsyncClient(timeout=30) as http:
        response = await http.post(f"{live.url}/mcp", json={})
        challenge = response.headers["www-authenticate"]
        assert f'resource_metadata="{live.url}/.well-known/oauth-protected-resource/mcp"' in challenge
        assert 'scope="read cart orders"' in challenge
        resource = (await http.get(f"{live.url}/.well-known/oauth-protected-resource/mcp")).json()
        issuer = resource["authorization_servers"][0].rstrip("/")
        metadata = (await http.get(f"{issuer}/.well-known/oauth-authorization-server")).json()
    assert metadata["issuer"] == issuer == live.url
    assert metadata["registration_endpoint"] == f"{live.url}/oauth/register/"
