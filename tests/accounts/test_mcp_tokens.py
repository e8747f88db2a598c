"""Personal MCP tokens: created, listed and revoked by their owner (API, account page, admin); stored hashed."""

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import McpToken
from accounts.services import mcp_token_authenticate, mcp_token_create, mcp_token_revoke
from mcpshop_site.exceptions import ShopError
from tests.catalog.test_views import INLINE_CODE
from tests.conftest import api_client_for, page_client_for

pytestmark = pytest.mark.django_db

TOKENS = "/api/auth/mcp-tokens"


def _create(client, **body):
    return client.post(TOKENS, {"name": "Claude Desktop", **body}, format="json")


# The API ------------------------------------------------------------------------------------------


def test_create_shows_the_token_once_and_keeps_only_its_hash(alice):
    response = _create(api_client_for(alice))
    assert response.status_code == 201
    data = response.json()
    assert set(data) >= {"id", "name", "token", "scopes", "created_at"}
    assert data["name"] == "Claude Desktop" and data["scopes"] == ["read", "cart", "orders"]
    assert data["token"].startswith("mcps_") and len(data["token"]) > 40
    assert response["Cache-Control"] == "no-store"
    row = McpToken.objects.get(pk=data["id"])
    assert row.user == alice and row.token_hash == hashlib.sha256(data["token"].encode()).hexdigest()
    assert data["token"].startswith(row.prefix) and len(row.prefix) < 16
    with connection.cursor() as cursor:  # the secret is in no column of the row
        cursor.execute("SELECT * FROM accounts_mcptoken WHERE id = %s", [row.pk])
        assert data["token"] not in " ".join(str(value) for value in cursor.fetchone())
    assert mcp_token_authenticate(data["token"]) == row


def test_the_list_never_shows_tokens_and_says_when_each_was_last_used(alice):
    client = api_client_for(alice)
    plain = _create(client, name="cli", scopes=["read"]).json()["token"]
    _create(client, name="agent")
    listed = client.get(TOKENS).json()
    assert [row["name"] for row in listed] == ["agent", "cli"]
    assert all("token" not in row for row in listed) and plain not in str(listed)
    assert listed[1]["scopes"] == ["read"] and listed[1]["last_used_at"] is None
    mcp_token_authenticate(plain)
    assert client.get(TOKENS).json()[1]["last_used_at"] is not None


def test_a_jwt_works_and_anonymous_callers_get_401(alice, api):
    assert _create(api).status_code == 401 and api.get(TOKENS).status_code == 401
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(alice)}")
    assert _create(bearer).status_code == 201
    assert len(bearer.get(TOKENS).json()) == 1


@pytest.mark.parametrize(
    "body",
    [{"name": ""}, {"name": "x" * 101}, {"scopes": ["admin"]}, {"scopes": []}, {"expires_in_days": 0}],
)
def test_bad_input_is_a_400_and_creates_nothing(alice, body):
    response = _create(api_client_for(alice), **body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
    assert not McpToken.objects.exists()


def test_an_expiring_token_stops_working_when_it_expires(alice):
    data = _create(api_client_for(alice), expires_in_days=30).json()
    token = McpToken.objects.get(pk=data["id"])
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert mcp_token_authenticate(data["token"]) == token
    McpToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert mcp_token_authenticate(data["token"]) is None


def test_revoking_works_at_once_and_only_for_the_owner(alice, bob):
    plain = _create(api_client_for(alice)).json()["token"]
    token_id = McpToken.objects.get().pk
    assert api_client_for(bob).delete(f"{TOKENS}/{token_id}").status_code == 404
    assert mcp_token_authenticate(plain) is not None
    assert api_client_for(alice).delete(f"{TOKENS}/{token_id}").status_code == 204
    assert mcp_token_authenticate(plain) is None
    assert api_client_for(alice).get(TOKENS).json() == []
    assert api_client_for(alice).delete(f"{TOKENS}/{token_id}").status_code == 404
    assert api_client_for(alice).delete(f"{TOKENS}/999999").status_code == 404


def test_there_is_a_limit_of_live_tokens_per_account(alice, settings):
    settings.MCP_TOKENS_PER_USER = 2
    client = api_client_for(alice)
    first = _create(client).json()["id"]
    _create(client)
    refused = _create(client)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "too_many_mcp_tokens"
    client.delete(f"{TOKENS}/{first}")
    assert _create(client).status_code == 201


# The service ---------------------------------------------------------------------------------------


def test_authenticate_refuses_garbage_without_a_query_and_writes_last_use_at_most_once_a_minute(
    alice, django_assert_num_queries
):
    token, plain = mcp_token_create(user=alice, name="cli")
    with django_assert_num_queries(0):
        assert mcp_token_authenticate("") is None
        assert mcp_token_authenticate("not-a-token") is None
        assert mcp_token_authenticate("mcps_" + "x" * 500) is None
    with django_assert_num_queries(2):  # the lookup, and the first use
        assert mcp_token_authenticate(plain) == token
    with django_assert_num_queries(1):  # within the minute: the lookup only
        assert mcp_token_authenticate(plain) == token
    McpToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    with django_assert_num_queries(2):
        mcp_token_authenticate(plain)
    assert mcp_token_authenticate(plain[:-1] + ("A" if plain[-1] != "A" else "B")) is None


def test_a_deactivated_account_s_tokens_stop_working(alice):
    _, plain = mcp_token_create(user=alice, name="cli")
    alice.is_active = False
    alice.save()
    assert mcp_token_authenticate(plain) is None


def test_revoke_refuses_someone_else_s_token(alice, bob):
    token, plain = mcp_token_create(user=alice, name="cli")
    with pytest.raises(ShopError) as refused:
        mcp_token_revoke(user=bob, token_id=token.pk)
    assert refused.value.status == 404 and mcp_token_authenticate(plain) == token


# The account page ----------------------------------------------------------------------------------


def test_the_page_needs_a_login(client):
    response = client.get(reverse("accounts:mcp_tokens"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_the_account_page_links_to_the_tokens(alice):
    assert reverse("accounts:mcp_tokens") in page_client_for(alice).get(reverse("accounts:account")).content.decode()


def test_a_shopper_creates_a_token_sees_it_once_with_client_configs_then_revokes_it(alice):
    client = page_client_for(alice)
    url = reverse("accounts:mcp_tokens")
    created = client.post(url, {"name": "Claude Desktop", "scopes": ["read", "cart"], "expires": "30"})
    assert created.status_code == 200 and created["Cache-Control"] == "no-store"
    token = McpToken.objects.get(user=alice)
    html = created.content.decode()
    plain = created.context["created"]["plain"]
    assert token.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert f'value="{plain}"' in html
    assert "http://testserver/mcp" in html and "Bearer " + plain in html and "mcp_stdio" in html
    assert token.scope_list == ["read", "cart"] and token.expires_at is not None
    assert not INLINE_CODE.search(html)  # the Content-Security-Policy allows no inline code

    listed = client.get(url).content.decode()
    assert plain not in listed and token.prefix in listed and "Claude Desktop" in listed

    revoked = client.post(reverse("accounts:mcp_token_revoke", args=[token.pk]), follow=True)
    assert revoked.status_code == 200 and mcp_token_authenticate(plain) is None
    assert "Claude Desktop" in revoked.content.decode()  # in the message, no longer in the list
    assert not revoked.context["tokens"]


def test_the_page_explains_a_bad_form_and_someone_else_s_token_is_not_found(alice, bob):
    client = page_client_for(alice)
    refused = client.post(reverse("accounts:mcp_tokens"), {"name": "", "scopes": ["read"]})
    assert refused.status_code == 200 and refused.context["form"].errors and not McpToken.objects.exists()
    token, plain = mcp_token_create(user=bob, name="bob's")
    assert client.post(reverse("accounts:mcp_token_revoke", args=[token.pk])).status_code == 404
    assert client.get(reverse("accounts:mcp_token_revoke", args=[token.pk])).status_code == 405
    assert mcp_token_authenticate(plain) == token


# The admin -----------------------------------------------------------------------------------------


def test_staff_see_tokens_without_secrets_and_can_revoke_them(alice, make_user):
    admin = make_user("boss", is_staff=True)
    admin.is_superuser = True
    admin.save()
    token, plain = mcp_token_create(user=alice, name="cli")
    client = Client()
    client.force_login(admin)
    changelist = client.get(reverse("admin:accounts_mcptoken_changelist"))
    assert changelist.status_code == 200 and token.prefix in changelist.content.decode()
    page = client.get(reverse("admin:accounts_mcptoken_change", args=[token.pk])).content.decode()
    assert token.token_hash not in page and plain not in page
    assert client.get(reverse("admin:accounts_mcptoken_add")).status_code == 403
    client.post(reverse("admin:accounts_mcptoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]})
    assert mcp_token_authenticate(plain) is None
