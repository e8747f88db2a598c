"""Who may do what, over every door: the access-control matrix.

Four actors (anonymous, alice the owner, bob another shopper, staff) against every REST operation
of the OpenAPI schema, every storefront page, the admin, both WebSocket routes and every MCP tool.
The routes are enumerated from the URL resolver, the schema, the WebSocket routes and the tool
registry: a route or tool without a row here fails `test_every_*_has_a_row`.

Alice owns a cart line, an order, a conversation, an MCP token and a pending confirmation. Anyone
else's request for them answers exactly like a missing one (404, or the form's "not found"), and
changes nothing: the database is compared before and after every request, and nothing of alice's
private text may appear in anyone else's answer.

Who may do what is decided in Python, the same on every database: `make test` runs the matrix once, on
SQLite (each of the MariaDB and PostgreSQL runs spent 2-3 minutes of a loaded machine on it, mostly the
flushes after its transactional tests). ACCESS_MATRIX_EVERYWHERE=1 runs it on those databases too.
"""

import json
import os
import re
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings as settings_module
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.tokens import default_token_generator
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from drf_spectacular.generators import SchemaGenerator
from oauth2_provider.models import AccessToken as OAuthAccessToken
from oauth2_provider.models import Application as OAuthApplication
from oauth2_provider.models import RefreshToken as OAuthRefreshToken
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.addresses import address_create
from accounts.models import Address, McpToken, User
from accounts.services import mcp_token_create
from assistant.models import Conversation, Message, PendingConfirmation
from assistant.routing import websocket_urlpatterns
from assistant.services import conversation_start, message_create
from assistant.tools import TOOLS, ToolContext, call_tool
from cart.models import CartDiscount, CartItem
from cart.services import cart_add_item, cart_discount_apply, cart_get_or_create
from cart.shoppers import Shopper
from catalog.models import Category, Product
from orders.checkout_sessions import session_create
from orders.models import CheckoutSession, DiscountCode, Order, OrderItem
from orders.services import order_place
from policies.models import Policy
from tests.assistant import conftest as assistant_fixtures
from tests.assistant import test_mcp_http
from tests.assistant.test_consumers import of_type, open_socket, say, session_cookie_for
from tests.assistant.test_mcp_http import connect, data
from tests.assistant.test_mcp_http import token_for as mcp_token_for
from tests.conftest import CHECKOUT, CONTACT

# The assistant tests' fixtures: the anyio backend, closing async connections, the shop served by daphne.
anyio_backend, async_db, live = assistant_fixtures.anyio_backend, assistant_fixtures.async_db, test_mcp_http.live

pytestmark = pytest.mark.skipif(
    "ACCESS_MATRIX_EVERYWHERE" not in os.environ
    and settings_module.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="the access matrix runs on SQLite in make test; set ACCESS_MATRIX_EVERYWHERE=1 to run it here",
)

ACTORS = ("anonymous", "alice", "bob", "staff")  # the order of the expected statuses in every row
IN_TURN = ("anonymous", "bob", "staff", "alice")  # the order they try: alice's own requests may change her things
AGENT_PROFILE = "https://agent.example/profile.json"
SECRET = "alice-private-7f3a"  # in alice's address, conversation and token name: nobody else may see it
LOGIN = "login"  # expected: a redirect to the login page
ALICE_CONTACT = {"name": "Alice", "phone": "13800000001", "address": f"{SECRET} road 1"}
ALICE_CHECKOUT = {**CHECKOUT, "name": "Alice", "phone": "13800000001", "street": f"{SECRET} road 1"}
ALICE_KEY = "alice-checkout-1"  # the Idempotency-Key of alice's order
ALICE_ADDRESS = {
    "recipient": "Alice",
    "phone": "13800000001",
    "country": "CN",
    "city": "上海",
    "street": f"{SECRET} road 2",
}
NEW_ADDRESS = (("recipient", "R"), ("phone", "123456"), ("country", "CN"), ("city", "C"), ("street", "S 1"))


@dataclass
class World:
    """Alice's things, and a product that is in nobody's cart or order (the target of staff writes)."""

    users: dict
    tea: Product
    spare: Product
    item: CartItem
    order: Order
    conversation: Conversation
    mcp_token: McpToken
    confirmation: PendingConfirmation
    confirm_token: str
    address: Address
    oauth_app: OAuthApplication  # an app alice connected
    agent_session: str  # a UCP agent's checkout session (the agent doors take no shop account)

    @property
    def ids(self) -> dict:
        return {
            "item_id": self.item.pk,
            "order_id": self.order.pk,
            "number": self.order.number,
            "line_id": self.order.items.get().pk,
            "conversation_id": str(self.conversation.public_id),
            "token_id": self.mcp_token.pk,
            "sku": self.spare.sku,
            "confirmation_id": str(self.confirmation.public_id),
            "slug": self.tea.category.slug,
            # alice's password reset link: whoever holds it may choose her password (it is what she is emailed)
            "uidb64": urlsafe_base64_encode(force_bytes(self.users["alice"].pk)),
            "token": default_token_generator.make_token(self.users["alice"]),
            "address_id": self.address.pk,
            "code": "MX10",  # on alice's cart
            "application_id": self.oauth_app.pk,
            "client_id": self.oauth_app.client_id,
            "session_id": self.agent_session,
            "feed": "en",
            "kind": Policy.Kind.RETURNS,  # a published policy page
        }


@pytest.fixture
def world(make_user, make_product, settings) -> World:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.OPENAI_API_KEY = ""  # the offline engine answers chat turns
    users = {"alice": make_user("alice"), "bob": make_user("bob"), "staff": make_user("staffer", is_staff=True)}
    alice = users["alice"]
    tea = make_product("TEA-MX", price_cents=1000, stock=20)
    spare = make_product("SPARE-MX", price_cents=500, stock=3)
    cart = cart_get_or_create(shopper=Shopper(user=alice))
    cart_add_item(cart=cart, product=tea, quantity=2)
    order = order_place(user=alice, idempotency_key=ALICE_KEY, **ALICE_CONTACT)
    item = cart_add_item(cart=cart, product=tea, quantity=1)
    conversation = conversation_start(shopper=Shopper(user=alice))
    Conversation.objects.filter(pk=conversation.pk).update(title=f"{SECRET} chat")
    message_create(conversation=conversation, role=Message.Role.USER, content=f"my secret is {SECRET}")
    mcp_token, _plain = mcp_token_create(user=alice, name=f"{SECRET} laptop")
    DiscountCode.objects.create(code="MX10", title="MX", kind="PERCENT", percent=10, stackable=True)
    cart_discount_apply(shopper=Shopper(user=alice), code="mx10")
    ctx = ToolContext(shopper=Shopper(user=alice), conversation=conversation)  # the summary covers the code
    assert call_tool(ctx, "place_order", ALICE_CONTACT)["status"] == "awaiting_confirmation"
    confirm_token = next(event["token"] for event in ctx.events if event["type"] == "confirm_required")
    Policy.objects.create(kind=Policy.Kind.RETURNS, title="退换货", body="发货前可取消。", is_published=True)
    return World(
        users=users,
        tea=tea,
        spare=spare,
        item=CartItem.objects.get(pk=item.pk),
        order=order,
        conversation=conversation,
        mcp_token=mcp_token,
        confirmation=PendingConfirmation.objects.get(user=alice),
        confirm_token=confirm_token,
        address=address_create(user=alice, **ALICE_ADDRESS),
        oauth_app=oauth_app_connected(alice),
        agent_session=session_create(
            owner=f"ucp:{AGENT_PROFILE}", lines=[{"sku": "SPARE-MX", "quantity": 1}]
        ).session.public_id,
    )


def oauth_app_connected(user) -> OAuthApplication:
    """An app the user allowed: one live access token and its refresh token."""
    app = OAuthApplication.objects.create(
        name=f"{SECRET} agent",
        client_type="public",
        authorization_grant_type="authorization-code",
        redirect_uris="https://agent.example/cb",
    )
    access = OAuthAccessToken.objects.create(
        user=user, application=app, token="matrix-access", expires=timezone.now() + timedelta(hours=1), scope="read"
    )
    OAuthRefreshToken.objects.create(user=user, application=app, token="matrix-refresh", access_token=access)
    return app


def state() -> dict:
    """Return every row a request could change, in a comparable form; owned rows start with their owner's id."""
    rows = {
        "cart": CartItem.objects.values_list("cart__user_id", "pk", "cart_id", "product_id", "quantity"),
        "orders": Order.objects.values_list("user_id", "pk", "status", "total_cents", "address", "paid_at"),
        "order_items": OrderItem.objects.values_list("order__user_id", "pk", "product_id", "quantity"),
        "conversations": Conversation.objects.values_list("user_id", "pk", "guest_key", "title", "updated_at"),
        "messages": Message.objects.values_list("conversation__user_id", "pk", "content"),
        "mcp_tokens": McpToken.objects.values_list("user_id", "pk", "name", "revoked_at", "expires_at"),
        "confirmations": PendingConfirmation.objects.values_list("user_id", "pk", "used_at", "outcome"),
        "users": User.objects.values_list("pk", "username", "email", "is_staff", "is_active"),
        "products": Product.objects.values_list("pk", "sku", "name", "price_cents", "stock", "is_active"),
        "categories": Category.objects.values_list("pk", "slug", "name"),
        "admin_log": LogEntry.objects.values_list("pk"),
        "addresses": Address.objects.values_list("user_id", "pk", "city", "street", "is_default"),
        "cart_discounts": CartDiscount.objects.values_list("cart__user_id", "pk", "code_id"),
        "oauth_access": OAuthAccessToken.objects.values_list("user_id", "pk", "application_id", "scope"),
        "oauth_refresh": OAuthRefreshToken.objects.values_list("user_id", "pk", "application_id", "revoked"),
        "oauth_apps": OAuthApplication.objects.values_list("user_id", "pk", "client_id", "redirect_uris"),
        "checkout_sessions": CheckoutSession.objects.values_list("user_id", "pk", "status", "lines", "updated_at"),
    }
    return {name: sorted(query, key=repr) for name, query in rows.items()}


def owned_by(user, rows: dict) -> dict:
    """Return the rows of `state()` that belong to `user` (their cart, orders, conversations, tokens...)."""
    return {name: [row for row in table if row[0] == user.pk] for name, table in rows.items() if name != "users"}


def check_request(world: World, actor: str, expected, send, *args, **kwargs) -> None:
    """Send one request as `actor`; check its status, that nothing leaked, and what it may have changed."""
    alice = world.users["alice"]
    before = state()
    response = send(*args, **kwargs)
    after = state()
    if expected == LOGIN:
        assert response.status_code == 302 and "login" in response["Location"], (actor, response)
    else:
        assert response.status_code == expected, (actor, response.status_code, response.content[:500])
    if actor != "alice":
        assert owned_by(alice, after) == owned_by(alice, before), f"{actor}'s request changed alice's things"
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert SECRET not in body.decode(errors="replace"), f"alice's private text leaked to {actor}"
    if response.status_code >= 400 or expected == LOGIN:
        assert after == before, f"{actor}'s refused request changed something"
    return response


# Ids of nothing, for the same requests: someone else's object must answer exactly like these.
MISSING = {
    "item_id": 987654,
    "order_id": 987654,
    "number": "ZZZZZZZZZZZZ",
    "line_id": 987654,
    "conversation_id": "00000000-0000-4000-8000-000000000000",
    "token_id": 987654,
    "confirmation_id": "00000000-0000-4000-8000-000000000000",
    "address_id": 987654,
    "code": "NOPE",
    "application_id": 987654,
    "client_id": "nope",
    "session_id": "cs_00000000000000000000000000000000",
}


def shown_messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# REST ------------------------------------------------------------------------------------------------

# Every operation of the OpenAPI schema: (anonymous, alice, bob, staff) statuses, and its JSON body.
# Paths name alice's objects; {sku} is the spare product.
REST = {
    ("POST", "/api/auth/register"): (201, 201, 201, 201),
    ("POST", "/api/auth/token"): (200, 200, 200, 200),  # alice's password, from anywhere
    ("POST", "/api/auth/token/refresh"): (200, 200, 200, 200),  # alice's refresh token is a bearer credential
    ("GET", "/api/auth/me"): (401, 200, 200, 200),
    ("GET", "/api/auth/mcp-tokens"): (401, 200, 200, 200),
    ("POST", "/api/auth/mcp-tokens"): (401, 201, 201, 201),
    ("DELETE", "/api/auth/mcp-tokens/{token_id}"): (401, 204, 404, 404),
    ("GET", "/api/categories/"): (200, 200, 200, 200),
    ("GET", "/api/products/"): (200, 200, 200, 200),
    ("POST", "/api/products/"): (401, 403, 403, 201),
    ("GET", "/api/products/{sku}"): (200, 200, 200, 200),
    ("PATCH", "/api/products/{sku}"): (401, 403, 403, 200),
    ("DELETE", "/api/products/{sku}"): (401, 403, 403, 204),
    ("GET", "/api/cart/"): (401, 200, 200, 200),
    ("POST", "/api/cart/"): (401, 201, 201, 201),
    ("DELETE", "/api/cart/clear"): (401, 204, 204, 204),  # each clears their own
    ("PATCH", "/api/cart/{item_id}"): (401, 200, 404, 404),
    ("DELETE", "/api/cart/{item_id}"): (401, 204, 404, 404),
    ("GET", "/api/orders/"): (401, 200, 200, 200),
    # With alice's Idempotency-Key: her cart changed since (409); bob's and staff's empty carts (400), never her order.
    ("POST", "/api/orders/"): (401, 409, 400, 400),
    ("GET", "/api/orders/{order_id}"): (401, 200, 404, 404),
    ("POST", "/api/orders/{order_id}/cancel"): (401, 200, 404, 404),
    ("POST", "/api/orders/{order_id}/pay"): (401, 200, 404, 404),
    # Only a line of a paid order can be cancelled: alice's is pending (409); nobody else's is found.
    ("POST", "/api/orders/{order_id}/items/{line_id}/cancel"): (401, 409, 404, 404),
    ("POST", "/api/chat"): (404, 200, 404, 404),  # continuing alice's conversation
    ("POST", "/api/chat/confirm"): (401, 200, 404, 404),
    ("POST", "/api/chat/cancel"): (401, 200, 404, 404),
    ("GET", "/api/conversations/"): (401, 200, 200, 200),
    ("GET", "/api/conversations/{conversation_id}"): (404, 200, 404, 404),  # guests read their session's
    ("GET", "/api/addresses/"): (401, 200, 200, 200),
    ("POST", "/api/addresses/"): (401, 201, 201, 201),  # each adds to their own book
    ("GET", "/api/addresses/{address_id}"): (401, 200, 404, 404),
    ("PATCH", "/api/addresses/{address_id}"): (401, 200, 404, 404),
    ("DELETE", "/api/addresses/{address_id}"): (401, 204, 404, 404),
    ("GET", "/api/shipping-options/"): (401, 200, 200, 200),
    # The code again on alice's cart (no change); bob's and staff's empty carts take no code.
    ("POST", "/api/cart/discounts"): (401, 200, 400, 400),
    ("DELETE", "/api/cart/discounts/{code}"): (401, 200, 404, 404),
}
# Served next to the API but not operations of it.
API_DOCUMENTS = {"/api/schema/": (200, 200, 200, 200), "/api/docs/": (200, 200, 200, 200)}


def rest_body(world: World, actor: str, method: str, path: str) -> dict | None:
    bodies = {
        ("POST", "/api/auth/register"): {
            "username": f"new-{actor}",
            "email": f"{actor}@new.example",
            "password": "8x!Lq2pw",
        },
        ("POST", "/api/auth/token"): {"username": "alice", "password": world.users["alice"].raw_password},
        ("POST", "/api/auth/token/refresh"): {"refresh": str(RefreshToken.for_user(world.users["alice"]))},
        ("POST", "/api/auth/mcp-tokens"): {"name": "another client"},
        ("POST", "/api/products/"): {
            "sku": "NEW-MX",
            "name": "新品",
            "price_cents": 100,
            "stock": 1,
            "category": "tea",
        },
        ("PATCH", "/api/products/{sku}"): {"price_cents": 999, "stock": 0},
        ("POST", "/api/cart/"): {"sku": world.tea.sku, "quantity": 1},
        ("PATCH", "/api/cart/{item_id}"): {"quantity": 5},
        ("POST", "/api/orders/"): ALICE_CONTACT,
        ("POST", "/api/addresses/"): dict(NEW_ADDRESS),
        ("PATCH", "/api/addresses/{address_id}"): {"city": "北京"},
        ("POST", "/api/cart/discounts"): {"code": "mx10"},
        ("POST", "/api/chat"): {"text": "what's in my cart", "conversation_id": str(world.conversation.public_id)},
        ("POST", "/api/chat/confirm"): {"token": world.confirm_token},
        ("POST", "/api/chat/cancel"): {"token": world.confirm_token},
    }
    return bodies.get((method, path))


@cache
def schema_operations() -> frozenset:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return frozenset((method.upper(), path) for path, operations in schema["paths"].items() for method in operations)


def api_client(world: World, actor: str) -> APIClient:
    """A client with the actor's real JWT in the Authorization header (none for anonymous)."""
    client = APIClient()
    if actor != "anonymous":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(world.users[actor]).access_token}")
    return client


def rest_rows() -> list:
    """The REST rows; the chat views are async (their ORM calls run in other threads): real transactions."""
    return [
        pytest.param(
            method,
            path,
            marks=[pytest.mark.django_db(transaction=True)] if path.startswith("/api/chat") else [],
            id=f"{method} {path}",
        )
        for method, path in sorted(REST)
    ]


@pytest.mark.parametrize(("method", "path"), rest_rows())
def test_rest(world, method, path):
    url = path.format(**world.ids)
    for actor in IN_TURN:
        body = rest_body(world, actor, method, path)
        send = getattr(api_client(world, actor), method.lower())
        expected = REST[method, path][ACTORS.index(actor)]
        headers = {"HTTP_IDEMPOTENCY_KEY": ALICE_KEY} if (method, path) == ("POST", "/api/orders/") else {}
        response = check_request(world, actor, expected, send, url, body, format="json", **headers)
        if actor != "alice" and expected == 404 and "{" in path:
            missing = send(path.format(**{**world.ids, **MISSING}), body, format="json")
            assert (missing.status_code, missing.json()["error"]["code"]) == (404, response.json()["error"]["code"])


@pytest.mark.parametrize("path", sorted(API_DOCUMENTS))
def test_api_documents(world, path):
    for actor in IN_TURN:
        client = api_client(world, actor)
        check_request(world, actor, API_DOCUMENTS[path][ACTORS.index(actor)], client.get, path)


def test_every_rest_operation_has_a_row():
    assert schema_operations() == set(REST)


# Pages and the admin -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    name: str
    method: str
    expected: tuple  # (anonymous, alice, bob, staff)
    kwargs: tuple = ()  # names from World.ids
    data: tuple = ()  # form fields, as pairs
    query: str = ""

    def __str__(self):
        return f"{self.method} {self.name}"


PAGES = [
    Page("catalog:home", "GET", (200, 200, 200, 200)),
    Page("catalog:category", "GET", (200, 200, 200, 200), kwargs=("slug",)),
    Page("catalog:product", "GET", (200, 200, 200, 200), kwargs=("sku",)),
    Page("catalog:search", "GET", (200, 200, 200, 200), query="q=tea"),
    Page("cart:detail", "GET", (200, 200, 200, 200)),
    Page("cart:add", "POST", (302, 302, 302, 302), data=(("sku", "TEA-MX"), ("quantity", "1"))),
    # Someone else's line: the same "not found" message and redirect as a line that does not exist.
    Page("cart:update", "POST", (302, 302, 302, 302), kwargs=("item_id",), data=(("quantity", "4"),)),
    Page("cart:remove", "POST", (302, 302, 302, 302), kwargs=("item_id",)),
    Page("cart:clear", "POST", (302, 302, 302, 302)),
    Page("orders:checkout", "GET", (LOGIN, 200, 302, 302)),  # an empty cart goes back to the cart page
    Page(
        "orders:checkout",
        "POST",
        (LOGIN, 302, 302, 302),
        data=(*ALICE_CHECKOUT.items(), ("idempotency_key", "matrix-checkout-key-1")),
    ),
    Page("orders:list", "GET", (LOGIN, 200, 200, 200)),
    Page("orders:detail", "GET", (LOGIN, 200, 404, 404), kwargs=("number",)),
    Page("orders:cancel", "POST", (LOGIN, 302, 404, 404), kwargs=("number",)),
    Page("orders:pay", "POST", (LOGIN, 302, 404, 404), kwargs=("number",)),
    Page("orders:stripe-webhook", "POST", (400, 400, 400, 400)),  # no Stripe signature: nobody's notification
    Page("accounts:account", "GET", (LOGIN, 200, 200, 200)),
    Page("accounts:login", "GET", (200, 302, 302, 302)),
    Page("accounts:logout", "POST", (302, 302, 302, 302)),
    Page("accounts:signup", "GET", (200, 302, 302, 302)),
    # The reset form answers everyone alike (tests/accounts/test_password_reset.py posts to it).
    Page("accounts:password_reset", "GET", (200, 200, 200, 200)),
    Page("accounts:password_reset_done", "GET", (200, 200, 200, 200)),
    # Alice's link works for whoever holds it, until she signs in (as alice does last): then it is dead.
    Page("accounts:password_reset_confirm", "GET", (302, 200, 302, 302), kwargs=("uidb64", "token")),
    Page("accounts:password_reset_complete", "GET", (200, 200, 200, 200)),
    Page("accounts:mcp_tokens", "GET", (LOGIN, 200, 200, 200)),
    Page("accounts:mcp_tokens", "POST", (LOGIN, 200, 200, 200), data=(("name", "cli"), ("scopes", "read"))),
    Page("accounts:mcp_token_revoke", "POST", (LOGIN, 302, 404, 404), kwargs=("token_id",)),
    Page("accounts:addresses", "GET", (LOGIN, 200, 200, 200)),
    Page("accounts:addresses", "POST", (LOGIN, 302, 302, 302), data=NEW_ADDRESS),
    Page("accounts:address_edit", "GET", (LOGIN, 200, 404, 404), kwargs=("address_id",)),
    Page("accounts:address_edit", "POST", (LOGIN, 302, 404, 404), kwargs=("address_id",), data=NEW_ADDRESS),
    Page("accounts:address_default", "POST", (LOGIN, 302, 404, 404), kwargs=("address_id",)),
    Page("accounts:address_delete", "POST", (LOGIN, 302, 404, 404), kwargs=("address_id",)),
    Page("cart:discount_apply", "POST", (302, 302, 302, 302), data=(("code", "MX10"),)),  # a refusal for empty carts
    Page("cart:discount_remove", "POST", (302, 302, 302, 302), kwargs=("code",)),  # not on the others' carts
    Page("assistant:conversation_list", "GET", (LOGIN, 200, 200, 200)),
    Page("assistant:conversation_detail", "GET", (LOGIN, 200, 404, 404), kwargs=("conversation_id",)),
    Page("assistant:guest_session", "POST", (200, 200, 200, 200)),
    Page("assistant_confirm:confirm", "GET", (LOGIN, 200, 404, 404), kwargs=("confirmation_id",)),
    Page(
        "assistant_confirm:confirm",
        "POST",
        (LOGIN, 302, 404, 404),
        kwargs=("confirmation_id",),
        data=(("decision", "confirm"),),
    ),
    Page("policies:detail", "GET", (200, 200, 200, 200), kwargs=("kind",)),
    Page("set_language", "POST", (302, 302, 302, 302), data=(("language", "en"), ("next", "/"))),
    # OAuth (oauth/): the authorization server's doors answer everyone alike; only a shopper consents, and
    # only alice disconnects her app (the others' attempts are exactly as missing as an unknown app).
    Page("oauth2_provider:oauth-server-metadata", "GET", (200, 200, 200, 200)),
    Page("oauth2_provider:authorize", "GET", (LOGIN, 400, 400, 400)),  # no request parameters
    Page("oauth2_provider:token", "POST", (400, 400, 400, 400)),
    Page("oauth2_provider:revoke-token", "POST", (400, 400, 400, 400)),
    Page("oauth2_provider:dcr-register", "POST", (400, 400, 400, 400)),  # not a JSON body
    Page("oauth2_provider:dcr-register-management", "GET", (401, 401, 401, 401), kwargs=("client_id",)),
    Page("oauth:connected_app_revoke", "POST", (LOGIN, 302, 404, 404), kwargs=("application_id",)),
    # Agent doors (docs/agents.md): a shop account is nobody there. The product feeds and discovery documents
    # are public; ACP wants a platform's key (401), UCP an agent's profile in UCP-Agent (400), whoever is signed
    # in; the simulation hook exists only with UCP_SIMULATION_SECRET set.
    Page("feeds:metadata", "GET", (200, 200, 200, 200), kwargs=("feed",)),
    Page("feeds:products", "GET", (200, 200, 200, 200), kwargs=("feed",)),
    Page("agents:acp_discovery", "GET", (200, 200, 200, 200)),
    Page("agents:acp_sessions", "POST", (401, 401, 401, 401)),
    Page("agents:acp_session", "GET", (401, 401, 401, 401), kwargs=("session_id",)),
    Page("agents:acp_session", "POST", (401, 401, 401, 401), kwargs=("session_id",)),
    Page("agents:acp_complete", "POST", (401, 401, 401, 401), kwargs=("session_id",)),
    Page("agents:acp_cancel", "POST", (401, 401, 401, 401), kwargs=("session_id",)),
    Page("ucp:discovery_root", "GET", (200, 200, 200, 200)),
    Page("ucp:discovery", "GET", (200, 200, 200, 200)),
    Page("ucp:resource_metadata", "GET", (200, 200, 200, 200)),
    Page("ucp:root", "GET", (200, 200, 200, 200)),
    Page("ucp:checkout_sessions", "POST", (400, 400, 400, 400)),
    Page("ucp:checkout_session", "GET", (400, 400, 400, 400), kwargs=("session_id",)),
    Page("ucp:complete", "POST", (400, 400, 400, 400), kwargs=("session_id",)),
    Page("ucp:cancel", "POST", (400, 400, 400, 400), kwargs=("session_id",)),
    Page("ucp:order", "GET", (400, 400, 400, 400), kwargs=("order_id",)),
    Page("ucp:simulate_shipping", "POST", (404, 404, 404, 404), kwargs=("order_id",)),
]
# Routes that are not pages of their own: uploaded product images, served to anyone.
NOT_PAGES = {"media/<path:path>"}


def page_client(world: World, actor: str) -> Client:
    client = Client()
    if actor != "anonymous":
        client.force_login(world.users[actor])
    return client


@pytest.mark.parametrize("page", PAGES, ids=str)
def test_page(world, page):
    url = reverse(page.name, kwargs={name: world.ids[name] for name in page.kwargs})
    url += f"?{page.query}" if page.query else ""
    for actor in IN_TURN:
        client = page_client(world, actor)
        send = client.post if page.method == "POST" else client.get
        response = check_request(world, actor, page.expected[ACTORS.index(actor)], send, url, dict(page.data))
        if actor != "alice" and set(page.kwargs) & set(MISSING):
            missing_url = reverse(page.name, kwargs={name: {**world.ids, **MISSING}[name] for name in page.kwargs})
            fresh = page_client(world, actor)  # no messages left over from the first request
            missing = (fresh.post if page.method == "POST" else fresh.get)(missing_url, dict(page.data))
            assert (missing.status_code, shown_messages(missing)) == (response.status_code, shown_messages(response))


def url_routes(patterns=None, prefix="", namespace=""):
    """Yield (route, name) for every URL pattern of the project, with namespaced names."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_routes(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            yield route, f"{namespace}{pattern.name}" if pattern.name else None


def test_every_url_route_has_a_row():
    """REST routes are in the schema (or documents), the admin is tested model by model, the rest are pages."""
    pages = {page.name for page in PAGES}
    api_paths = {path for _method, path in REST} | set(API_DOCUMENTS)
    unlisted = []
    for route, name in url_routes():
        if route.startswith("admin/") or route in NOT_PAGES or name in pages:
            continue
        if "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route) not in api_paths:
            unlisted.append((route, name))
    assert unlisted == []


# Methods -------------------------------------------------------------------------------------------

SAFE, FORM, CLASS_BASED = "GET, HEAD", "GET, HEAD, POST", "GET, HEAD, OPTIONS"
# What each page with a GET row takes (its `Allow`): a page that only reads takes GET and HEAD, a page with a
# form also POST, and Django's and django-oauth-toolkit's class-based views also OPTIONS. Any other method is
# refused with 405, never answered as if it were a GET.
ALLOWED_METHODS = {
    "catalog:home": SAFE,
    "catalog:category": SAFE,
    "catalog:product": SAFE,
    "catalog:search": SAFE,
    "cart:detail": SAFE,
    "orders:list": SAFE,
    "orders:detail": SAFE,
    "accounts:account": SAFE,
    "assistant:conversation_list": SAFE,
    "assistant:conversation_detail": SAFE,
    "policies:detail": SAFE,
    "feeds:metadata": SAFE,
    "feeds:products": SAFE,
    "orders:checkout": FORM,
    "accounts:signup": FORM,
    "accounts:mcp_tokens": FORM,
    "accounts:addresses": FORM,
    "accounts:address_edit": FORM,
    "assistant_confirm:confirm": FORM,
    "accounts:password_reset_done": CLASS_BASED,
    "accounts:password_reset_complete": CLASS_BASED,
    "oauth2_provider:oauth-server-metadata": CLASS_BASED,
}
# Pages with a GET row whose methods are their own: Django's form views (which take PUT as POST) and OAuth's,
# and the agent doors, which answer by their protocols (docs/agents.md).
OWN_METHODS = {
    "accounts:login",
    "accounts:password_reset",
    "accounts:password_reset_confirm",
    "oauth2_provider:authorize",
    "oauth2_provider:dcr-register-management",
    "agents:acp_discovery",
    "agents:acp_session",
    "ucp:discovery_root",
    "ucp:discovery",
    "ucp:resource_metadata",
    "ucp:root",
    "ucp:checkout_session",
    "ucp:order",
}


@pytest.mark.parametrize("name", sorted(ALLOWED_METHODS))
def test_a_page_refuses_the_methods_it_does_not_take(world, name):
    """GET and HEAD answer as the page's row says for alice (who may read them all); every other method the
    page does not take is a 405 with `Allow`, and changes nothing. (POST to a form is the form's own row.)"""
    page = next(page for page in PAGES if (page.name, page.method) == (name, "GET"))
    url = reverse(page.name, kwargs={key: world.ids[key] for key in page.kwargs})
    url += f"?{page.query}" if page.query else ""
    allowed = ALLOWED_METHODS[name]
    client = page_client(world, "alice")
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        if method in ("GET", "HEAD"):
            check_request(world, "alice", page.expected[ACTORS.index("alice")], client.generic, method, url)
        elif method not in allowed.split(", "):
            refused = check_request(world, "alice", 405, client.generic, method, url)
            assert refused["Allow"] == allowed, method


def test_every_page_read_with_get_has_its_methods():
    assert {page.name for page in PAGES if page.method == "GET"} == set(ALLOWED_METHODS) | OWN_METHODS


def test_uploaded_images_are_only_read(db, client):
    """An image under /media/ is read with GET or HEAD; any other method is refused before the file is looked up."""
    assert client.get("/media/products/none.webp").status_code == 404
    assert client.head("/media/products/none.webp").status_code == 404
    refused = client.post("/media/products/none.webp")
    assert (refused.status_code, refused["Allow"]) == (405, SAFE)


ADMIN_MODELS = sorted(admin.site._registry, key=lambda model: model._meta.label)


def admin_object(model):
    """Return alice's object of this model (or any one), to open its change page."""
    owned = {
        "accounts.User": {"username": "alice"},
        "accounts.McpToken": {"user__username": "alice"},
        "orders.Order": {"user__username": "alice"},
        "accounts.Address": {"user__username": "alice"},
        "assistant.Conversation": {"user__username": "alice"},
        "assistant.PendingConfirmation": {"user__username": "alice"},
    }
    return model.objects.filter(**owned.get(model._meta.label, {})).order_by("pk").first()


@pytest.mark.parametrize("model", ADMIN_MODELS, ids=lambda model: model._meta.label)
def test_admin(world, model):
    """Only staff get in; staff without permissions on a model are refused it (403), and nothing changes."""
    info = (model._meta.app_label, model._meta.model_name)
    changelist = reverse("admin:{}_{}_changelist".format(*info))
    target = admin_object(model)
    for actor in IN_TURN:
        client = page_client(world, actor)
        denied = LOGIN if actor != "staff" else 403
        check_request(world, actor, 200 if actor == "staff" else LOGIN, client.get, reverse("admin:index"))
        check_request(world, actor, denied, client.get, changelist)
        if target is None:
            continue
        change = reverse("admin:{}_{}_change".format(*info), args=[target.pk])
        delete = reverse("admin:{}_{}_delete".format(*info), args=[target.pk])
        actions = {"action": "delete_selected", "_selected_action": [target.pk], "post": "yes"}
        check_request(world, actor, denied, client.get, change)
        check_request(world, actor, denied, client.post, change, {})
        check_request(world, actor, denied, client.post, delete, {"post": "yes"})
        check_request(world, actor, denied, client.post, changelist, actions)


# WebSocket -----------------------------------------------------------------------------------------

# What each actor gets when they try alice's things on a chat socket (anonymous is a guest).
SOCKET = {
    "continue alice's conversation": {
        "anonymous": "conversation_not_found",
        "bob": "conversation_not_found",
        "staff": "conversation_not_found",
        "alice": None,
    },
    "confirm alice's order": {
        "anonymous": "login_required",
        "bob": "confirmation_not_found",
        "staff": "confirmation_not_found",
        "alice": None,
    },
    "cancel alice's confirmation": {  # alice has confirmed by now: the token is spent
        "anonymous": "login_required",
        "bob": "confirmation_not_found",
        "staff": "confirmation_not_found",
        "alice": "confirmation_used",
    },
}
SOCKET_ROUTES = ["/ws/chat/", "/api/chat"]


def test_every_websocket_route_has_a_row():
    assert {f"/{pattern.pattern}" for pattern in websocket_urlpatterns} == set(SOCKET_ROUTES)


async def socket_for(world: World, actor: str, path: str):
    cookies = await session_cookie_for(world.users[actor]) if actor != "anonymous" else None
    return await open_socket(cookies=cookies, path=path)


@pytest.mark.anyio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", SOCKET_ROUTES)
async def test_websocket(world, path, async_db):
    alice = world.users["alice"]
    conversation_id = str(world.conversation.public_id)
    for actor in IN_TURN:
        socket = await socket_for(world, actor, path)
        before = await sync_to_async(state)()
        seen = []

        turn = await say(socket, "what's in my cart", conversation_id=conversation_id)
        seen += turn
        errors = [event["code"] for event in of_type(turn, "error")]
        expected = SOCKET["continue alice's conversation"][actor]
        assert errors == ([expected] if expected else []), (actor, turn)
        if expected is None:
            assert of_type(turn, "conversation")[0]["id"] == conversation_id

        for frame, row in (("confirm", "confirm alice's order"), ("cancel", "cancel alice's confirmation")):
            await socket.send_json_to({"type": frame, "token": world.confirm_token})
            answer = await socket.receive_json_from(timeout=10)
            seen.append(answer)
            expected = SOCKET[row][actor]
            if expected is None:
                assert answer["type"] == "order" and answer["order"]["status"] == "PENDING", (actor, answer)
                seen.append(await socket.receive_json_from(timeout=10))  # the emptied cart
            else:
                assert (answer["type"], answer["code"]) == ("error", expected), (actor, answer)
        await socket.disconnect()

        after = await sync_to_async(state)()
        if actor != "alice":
            assert owned_by(alice, after) == owned_by(alice, before), f"{actor} changed alice's things"
            assert SECRET not in json.dumps(seen, ensure_ascii=False), f"alice's private text leaked to {actor}"
    assert await Order.objects.filter(user=alice).acount() == 2  # hers from the start, and the one she confirmed


# MCP over HTTP ---------------------------------------------------------------------------------------

# Bob's MCP token against alice's things: what each tool answers (None: a normal result).
MCP = {
    "search_products": ({"query": "tea"}, None),
    "get_product": ({"sku": "TEA-MX"}, None),
    "list_categories": ({}, None),
    "view_cart": ({}, None),
    "add_to_cart": ({"sku": "SPARE-MX", "quantity": 1}, None),  # into bob's own cart
    "update_cart_item": ({"sku": "TEA-MX", "quantity": 5}, "cart_item_not_found"),  # alice's line
    "remove_from_cart": ({"sku": "TEA-MX"}, "cart_item_not_found"),
    "apply_discount_code": ({"code": "MX10"}, None),  # to bob's own cart
    "remove_discount_code": ({"code": "MX10"}, None),  # from bob's own cart; alice's keeps it
    "list_shipping_options": ({}, None),
    "list_addresses": ({}, None),  # bob's own: none
    "place_order": (CONTACT, None),  # prepares bob's own cart, for bob to confirm
    "list_orders": ({}, None),
    "get_order": ({"order_id": "{order_id}"}, "order_not_found"),
    "cancel_order": ({"order_id": "{order_id}"}, "order_not_found"),
}


# Every resource and resource template, as bob reads it.
MCP_RESOURCES = {
    "shop://products": "shop://products",
    "shop://products{?page}": "shop://products?page=1",
    "shop://products/{sku}": "shop://products/TEA-MX",
    "shop://cart": "shop://cart",
}


def mcp_arguments(world: World, name: str) -> dict:
    arguments, _expected = MCP[name]
    return {key: world.order.pk if value == "{order_id}" else value for key, value in arguments.items()}


def test_every_mcp_tool_has_a_row():
    assert {tool.name for tool in TOOLS} == set(MCP)


@pytest.mark.anyio
@pytest.mark.django_db(transaction=True)
async def test_mcp_tools_with_another_shopper_s_token(live, world, async_db):
    alice, bob = world.users["alice"], world.users["bob"]
    before = await sync_to_async(state)()
    # Three sessions, each with a token of bob's: the live server allows a token 40 requests a minute.
    async with connect(live, await mcp_token_for(bob)) as client:
        for name, (_arguments, expected) in MCP.items():
            result = data(await client.call_tool(name, mcp_arguments(world, name)))
            assert result.get("error", {}).get("code") == expected, (name, result)
            assert SECRET not in json.dumps(result, ensure_ascii=False), f"{name} leaked alice's private text"
            if name in ("view_cart", "list_orders"):
                assert "TEA-MX" not in json.dumps(result), f"{name} showed alice's cart or orders"
    async with connect(live, await mcp_token_for(bob)) as client:  # naming the user is no tool's argument
        for name in MCP:
            for smuggled in ({"user_id": alice.pk}, {"user": "alice"}):
                result = data(await client.call_tool(name, {**mcp_arguments(world, name), **smuggled}))
                assert result["error"]["code"] == "invalid_arguments", (name, smuggled, result)
    async with connect(live, await mcp_token_for(bob)) as client:
        listed = [str(resource.uri) for resource in (await client.list_resources()).resources]
        templates = [template.uri_template for template in (await client.list_resource_templates()).resource_templates]
        assert set(listed + templates) == set(MCP_RESOURCES)
        for uri in MCP_RESOURCES.values():
            text = (await client.read_resource(uri)).contents[0].text
            assert SECRET not in text, f"{uri} leaked alice's private text"
        cart = json.loads((await client.read_resource("shop://cart")).contents[0].text)
        assert [item["sku"] for item in cart["items"]] == ["SPARE-MX"]  # bob's own, not alice's tea
    after = await sync_to_async(state)()
    assert owned_by(alice, after) == owned_by(alice, before)
    assert [row[3:] for row in owned_by(bob, after)["cart"]] == [(world.spare.pk, 1)]


@pytest.mark.anyio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("scope", ["read", "cart", "orders"])
async def test_mcp_scopes(live, world, scope, async_db):
    """A token with one scope gets `insufficient_scope` from every tool of the other scopes, and changes nothing."""
    alice = world.users["alice"]
    async with connect(live, await mcp_token_for(alice, scope)) as client:
        for registered in TOOLS:
            before = await sync_to_async(state)()
            result = data(await client.call_tool(registered.name, mcp_arguments(world, registered.name)))
            refused = result.get("error", {}).get("code") == "insufficient_scope"
            assert refused == (registered.scope != scope), (registered.name, scope, result)
            if refused:
                assert await sync_to_async(state)() == before, registered.name
