"""UCP identity linking: an agent platform links a shopper's account through the shop's OAuth server (a
confidential client, client_secret_basic, PKCE, resource = the /ucp endpoint, scope ucp:scopes:checkout_session)
and checks out for them: the session is linked, its order is the shopper's. Refused tokens are 401 with a
challenge, never a guest checkout; another shopper's token, or none, does not find a linked session."""

import base64
import datetime
import json

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken

from accounts.addresses import address_create
from orders.models import CheckoutSession, Order
from tests.jobs import run_jobs
from tests.oauth.conftest import REDIRECT, authorize_params, consent, pkce, redirect_query
from tests.ucp.test_rest import AGENT, OTHER, PAY, Agent, shop  # noqa: F401  (shop: the fixture, used below)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop")]

UCP = "http://testserver/ucp"  # the /ucp resource as the test client reaches the shop
MCP = "http://testserver/mcp"
SCOPE = "ucp:scopes:checkout_session"
METADATA = "http://testserver/.well-known/oauth-protected-resource/ucp"


class Platform:
    """An agent platform registered as a confidential client (RFC 7591), authenticating with HTTP Basic."""

    def __init__(self):
        answer = Client().post(
            "/oauth/register/",
            json.dumps(
                {
                    "client_name": "Agent Platform",
                    "redirect_uris": [REDIRECT],
                    "token_endpoint_auth_method": "client_secret_basic",
                    "grant_types": ["authorization_code", "refresh_token"],
                    "response_types": ["code"],
                }
            ),
            content_type="application/json",
        )
        assert answer.status_code == 201, answer.content
        body = answer.json()
        self.client_id, self.secret = body["client_id"], body["client_secret"]

    def basic(self, secret=None) -> str:
        pair = f"{self.client_id}:{secret or self.secret}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    def token(self, data: dict, secret=None):
        """POST to the token endpoint authenticated with HTTP Basic (the client id is not in the body)."""
        return Client().post("/oauth/token/", data, HTTP_AUTHORIZATION=self.basic(secret))

    def code(self, user, **params) -> tuple[str, str]:
        """Return an authorization code of `user`'s consent to `params` and its PKCE verifier."""
        browser = Client()
        browser.force_login(user)
        verifier, challenge = pkce()
        query = {"scope": SCOPE, "resource": UCP, **params}
        answer = authorize_params(self.client_id, challenge, **query)
        return redirect_query(consent(browser, {k: v for k, v in answer.items() if v is not None}))["code"], verifier

    def exchange(self, code: str, verifier: str, secret=None):
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
        return self.token(data, secret)

    def link(self, user, **params) -> dict:
        """Run the authorization code flow with `user`'s consent; return the token response."""
        answer = self.exchange(*self.code(user, **params))
        assert answer.status_code == 200, answer.content
        return answer.json()

    def revoke(self, token: str, hint: str, secret=None):
        data = {"token": token, "token_type_hint": hint}
        return Client().post("/oauth/revoke/", data, HTTP_AUTHORIZATION=self.basic(secret))


class LinkedAgent(Agent):
    """A UCP agent that sends a bearer token with every call (None: no Authorization header)."""

    def __init__(self, token, profile=AGENT):
        super().__init__(profile)
        self.token = token

    def call(self, method, path, body=None, key=None, **headers):
        if self.token is not None:
            headers.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.token}")
        return super().call(method, path, body, key, **headers)


@pytest.fixture
def platform(db):
    return Platform()


@pytest.fixture
def alices_home(alice):
    return address_create(
        user=alice, recipient="Alice A", phone="5550100", country="US", region="IL", city="Springfield",
        district="Downtown", street="7 Oak St", postal_code="62704",
    )  # fmt: skip


def refused(response):
    assert response.status_code == 401, response.content
    assert response.json()["code"] == "invalid_token"
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith('Bearer error="invalid_token"') and f'resource_metadata="{METADATA}"' in challenge
    assert f'scope="{SCOPE}"' in challenge
    return True


def test_metadata_and_discovery_tell_an_agent_how_to_link(client):
    server = client.get("/.well-known/oauth-authorization-server").json()
    assert SCOPE in server["scopes_supported"]
    assert "client_secret_basic" in server["token_endpoint_auth_methods_supported"]
    assert server["revocation_endpoint"] == "http://testserver/oauth/revoke/"

    resource = client.get("/.well-known/oauth-protected-resource/ucp")
    assert resource.status_code == 200 and resource["Access-Control-Allow-Origin"] == "*"
    assert resource.json() == {
        "resource": UCP,
        "authorization_servers": ["http://testserver"],
        "scopes_supported": [SCOPE],
        "bearer_methods_supported": ["header"],
        "resource_name": "MCPshop UCP",
    }
    capabilities = {entry["name"]: entry for entry in client.get("/.well-known/ucp").json()["ucp"]["capabilities"]}
    linking = capabilities["dev.ucp.common.identity_linking"]
    assert linking["version"] == "2026-01-11"
    assert linking["spec"] == "https://ucp.dev/specification/identity-linking"
    assert linking["config"]["resource"] == UCP and linking["config"]["scopes"] == [SCOPE]
    assert linking["config"]["protected_resource_metadata"] == METADATA
    assert linking["config"]["authorization_server"] == "http://testserver"


def test_the_consent_page_says_what_the_scope_allows_in_both_languages(alice, platform):
    browser = Client()
    browser.force_login(alice)
    params = authorize_params(platform.client_id, pkce()[1], scope=SCOPE, resource=UCP)
    english = browser.get("/oauth/authorize/", params, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Manage checkout sessions for you (an agent may prepare your orders; paying still needs your" in english
    browser.cookies.pop("django_language", None)
    chinese = browser.get("/oauth/authorize/", params, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "替你管理结账（代理可以为你准备订单；付款仍需你的支付方式）" in chinese


def test_the_scope_is_granted_only_when_asked(alice, platform):
    tokens = platform.link(alice, scope=None)
    assert SCOPE not in tokens["scope"].split()
    assert refused(LinkedAgent(tokens["access_token"]).create())


def test_the_token_endpoint_authenticates_the_confidential_client(alice, platform):
    code, verifier = platform.code(alice)
    wrong = platform.exchange(code, verifier, secret="not-it")
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    anonymous = Client().post("/oauth/token/", {**data, "client_id": platform.client_id})  # no secret
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "invalid_client"
    assert not AccessToken.objects.filter(user=alice).exists()
    assert platform.exchange(code, verifier).status_code == 200


def test_a_linked_checkout_completes_into_the_shoppers_order(alice, alices_home, platform, mailoutbox):
    tokens = platform.link(alice)
    assert tokens["scope"].split() == [SCOPE] and tokens["refresh_token"]
    agent = LinkedAgent(tokens["access_token"])
    created = agent.create(buyer={"email": "someone.else@example.com", "first_name": "Al"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["buyer"] == {"email": alice.email, "first_name": "Al"}  # the account's address gets the emails
    session = CheckoutSession.objects.get(public_id=body["id"])
    assert session.user == alice and session.owner == f"ucp:{AGENT}"  # the agent's session, linked

    # the address book is the account's own: offered when the agent sends the method without destinations
    offered = agent.call("put", f"/checkout-sessions/{body['id']}", {"fulfillment": {"methods": [{}]}})
    destinations = offered.json()["fulfillment"]["methods"][0]["destinations"]
    assert destinations == [
        {
            "id": f"account_{alices_home.pk}",
            "street_address": "Downtown 7 Oak St",
            "address_locality": "Springfield",
            "address_region": "IL",
            "postal_code": "62704",
            "address_country": "US",
            "phone_number": "5550100",
            "full_name": "Alice A",
        }
    ]
    chosen = {"selected_destination_id": f"account_{alices_home.pk}", "groups": [{"selected_option_id": "std-ship"}]}
    ready = agent.call("put", f"/checkout-sessions/{body['id']}", {"fulfillment": {"methods": [chosen]}})
    assert ready.json()["status"] == "ready_for_complete", ready.content

    assert LinkedAgent(None).call("post", f"/checkout-sessions/{body['id']}/complete", PAY).status_code == 404
    done = agent.call("post", f"/checkout-sessions/{body['id']}/complete", PAY)
    assert done.status_code == 200 and done.json()["status"] == "completed", done.content
    order = Order.objects.get(number=done.json()["order"]["id"])
    assert order.user == alice and order.email == alice.email and order.status == Order.Status.PAID
    run_jobs()
    assert any(alice.email in message.to for message in mailoutbox)
    browser = Client()
    browser.force_login(alice)
    assert order.number in browser.get("/orders/").content.decode()  # in the shopper's own order list
    assert agent.call("get", f"/orders/{order.number}").status_code == 200
    assert LinkedAgent(None).call("get", f"/orders/{order.number}").status_code == 404


def test_another_shoppers_token_or_none_does_not_find_a_linked_session(alice, bob, platform):
    alices = LinkedAgent(platform.link(alice)["access_token"])
    session_id = alices.ready()["id"]
    before = CheckoutSession.objects.get(public_id=session_id)
    for agent in (LinkedAgent(platform.link(bob)["access_token"]), LinkedAgent(None)):
        assert agent.call("get", f"/checkout-sessions/{session_id}").status_code == 404
        assert agent.call("put", f"/checkout-sessions/{session_id}", {"buyer": {"first_name": "B"}}).status_code == 404
        assert agent.call("post", f"/checkout-sessions/{session_id}/complete", PAY).status_code == 404
        assert agent.call("post", f"/checkout-sessions/{session_id}/cancel").status_code == 404
    after = CheckoutSession.objects.get(public_id=session_id)
    assert (after.status, after.buyer, after.updated_at, after.order) == (
        before.status,
        before.buyer,
        before.updated_at,
        None,
    )
    # the same token from another agent profile does not find it either: the session stays the agent's
    assert LinkedAgent(alices.token, OTHER).call("get", f"/checkout-sessions/{session_id}").status_code == 404
    assert alices.call("get", f"/checkout-sessions/{session_id}").status_code == 200


def test_an_idempotency_key_is_kept_apart_for_each_shopper(alice, bob, platform):
    alices, bobs = LinkedAgent(platform.link(alice)["access_token"]), LinkedAgent(platform.link(bob)["access_token"])
    body = {"currency": "USD", "line_items": [{"item": {"id": "bouquet_roses"}, "quantity": 1}]}
    first = alices.call("post", "/checkout-sessions", body, key="same-key")
    second = bobs.call("post", "/checkout-sessions", body, key="same-key")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]  # bob is not answered with alice's session
    assert second.json()["buyer"]["email"] == bob.email


def test_refused_tokens_are_401_with_a_challenge_never_a_guest_checkout(alice, platform):
    expired = platform.link(alice)["access_token"]
    AccessToken.objects.filter(user=alice).update(expires=timezone.now() - datetime.timedelta(seconds=1))
    inactive = platform.link(alice)["access_token"]
    revoked = platform.link(alice)["access_token"]
    assert platform.revoke(revoked, "access_token").status_code == 200
    for token in (
        expired,
        revoked,
        platform.link(alice, scope="read cart orders")["access_token"],  # not the UCP scope
        platform.link(alice, resource=MCP)["access_token"],  # the scope, but issued for /mcp
        platform.link(alice, scope="read cart orders", resource=MCP)["access_token"],  # an /mcp token
        "not-a-token",
        "",
    ):
        assert refused(LinkedAgent(token).create())
    basic = "Basic " + base64.b64encode(b"a:b").decode()
    assert refused(Agent().call("post", "/checkout-sessions", {}, HTTP_AUTHORIZATION=basic))
    assert LinkedAgent(inactive).create().status_code == 201
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert refused(LinkedAgent(inactive).create())  # a deactivated shopper's live token is refused too
    CheckoutSession.objects.all().delete()
    assert not CheckoutSession.objects.exists()  # no refused call made a guest session


def test_revoking_the_refresh_token_revokes_its_access_token(alice, platform):
    tokens = platform.link(alice)
    agent = LinkedAgent(tokens["access_token"])
    assert agent.create().status_code == 201
    assert platform.revoke(tokens["refresh_token"], "refresh_token", secret="wrong").status_code == 401
    assert agent.create().status_code == 201  # a revocation without the client's credentials changes nothing
    assert platform.revoke(tokens["refresh_token"], "refresh_token").status_code == 200
    assert refused(agent.create())


def test_a_refreshed_token_is_still_bound_to_ucp(alice, platform):
    tokens = platform.link(alice)
    refreshed = platform.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.content
    assert LinkedAgent(refreshed.json()["access_token"]).create().status_code == 201
    assert refused(LinkedAgent(tokens["access_token"]).create())  # the rotated one is gone


def test_guest_sessions_are_unchanged(alice, platform):
    guest = Agent()
    session_id = guest.ready(buyer={"email": "guest@example.com"})["id"]
    assert CheckoutSession.objects.get(public_id=session_id).user is None
    done = guest.call("post", f"/checkout-sessions/{session_id}/complete", PAY)
    assert done.status_code == 200, done.content
    order = Order.objects.get(number=done.json()["order"]["id"])
    assert order.user is None and order.email == "guest@example.com"
    # a guest session is found only as it was made: without a token
    linked = LinkedAgent(platform.link(alice)["access_token"])
    assert linked.call("get", f"/checkout-sessions/{session_id}").status_code == 404
    assert linked.call("get", f"/orders/{order.number}").status_code == 404
