"""The shop's OAuth 2.1 authorization server in-process: metadata, registration, consent, PKCE, codes, refresh,
revocation, and connected apps on the account page."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import translation

from tests.oauth.conftest import (
    REDIRECT,
    RESOURCE,
    authorize_params,
    consent,
    exchange,
    pkce,
    redirect_query,
    register,
)

pytestmark = pytest.mark.django_db


def test_metadata_names_the_endpoints_and_only_s256(client):
    response = client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    metadata = response.json()
    assert metadata["issuer"] == "http://testserver"
    assert metadata["authorization_endpoint"] == "http://testserver/oauth/authorize/"
    assert metadata["token_endpoint"] == "http://testserver/oauth/token/"
    assert metadata["registration_endpoint"] == "http://testserver/oauth/register/"
    assert metadata["revocation_endpoint"] == "http://testserver/oauth/revoke/"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert metadata["client_id_metadata_document_supported"] is True
    assert {"read", "cart", "orders"} <= set(metadata["scopes_supported"])
    assert "introspection_endpoint" not in metadata


def test_the_issuer_is_the_shop_s_origin_not_the_mcp_path(client):
    """The protected-resource metadata names the origin as the authorization server, so its metadata lives at
    the root form; the path-inserted form for an issuer ".../mcp" is not ours and must not answer a document
    with a mismatched issuer."""
    assert client.get("/.well-known/oauth-authorization-server/mcp").status_code == 404
    assert client.get("/.well-known/openid-configuration").status_code == 404


# Registration -------------------------------------------------------------------------------------


def test_a_public_client_registers_without_a_secret(client):
    response = register(client)
    assert response.status_code == 201
    body = response.json()
    assert body["token_endpoint_auth_method"] == "none"
    assert "client_secret" not in body
    assert body["redirect_uris"] == [REDIRECT]


@pytest.mark.parametrize(
    "uri",
    [
        "http://example.com/callback",  # http off loopback
        "javascript:alert(1)",
        "ftp://example.com/x",
        "https://example.com/cb#frag",
        "https://user:pw@example.com/cb",
        "https:///nohost",
        "",
        5,
    ],
)
def test_registration_refuses_unsafe_redirect_uris(client, uri):
    response = register(client, redirect_uris=[uri])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_redirect_uri"


@pytest.mark.parametrize(
    "uri",
    [
        "https://claude.ai/api/mcp/auth_callback",
        "http://127.0.0.1:33418/cb",
        "http://[::1]:9/cb",
        "http://localhost:5/",
    ],
)
def test_registration_accepts_https_and_loopback_http(client, uri):
    assert register(client, redirect_uris=[uri]).status_code == 201


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b"[" * 5000 + b"]" * 5000, json.dumps({"redirect_uris": "https://x.example/cb"}).encode()],
)
def test_registration_refuses_bad_bodies_with_a_400(client, body):
    response = client.post("/oauth/register/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_client_metadata", "invalid_redirect_uri")


def test_registration_is_rate_limited_per_address(client, settings):
    settings.OAUTH_REGISTRATIONS_PER_HOUR = 3
    assert [register(client).status_code for _ in range(3)] == [201, 201, 201]
    refused = register(client)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    other = Client(REMOTE_ADDR="192.0.2.7")
    assert register(other).status_code == 201


# Consent --------------------------------------------------------------------------------------------


def test_a_visitor_signs_in_first_and_comes_back_to_the_consent(alice, public_client):
    browser = Client()
    params = authorize_params(public_client, pkce()[1])
    response = browser.get("/oauth/authorize/", params)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/oauth/authorize/")
    next_url = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    login = browser.post(response["Location"], {"username": "alice", "password": alice.raw_password, "next": next_url})
    assert login.status_code == 302
    page = browser.get(login["Location"])
    assert page.status_code == 200
    assert page.context["application"].client_id == public_client


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "en",
            [
                "“Test Agent” wants to use your account",
                "127.0.0.1:8765",
                "Browse the catalog",
                "See and change the cart",
                "Allow",
                "Deny",
            ],
        ),
        ("zh-hans", ["127.0.0.1:8765", "允许", "拒绝"]),
    ],
)
def test_the_consent_page_names_the_app_where_it_returns_and_the_scopes(alice, public_client, language, words):
    browser = Client(HTTP_ACCEPT_LANGUAGE=language)
    browser.force_login(alice)
    page = browser.get("/oauth/authorize/", authorize_params(public_client, pkce()[1]))
    text = page.content.decode()
    for word in words:
        assert word in text
    with translation.override(language):
        from accounts.models import McpToken

        assert str(McpToken.Scope.ORDERS.label) in text


def test_deny_sends_the_app_access_denied_and_issues_nothing(alice, public_client):
    from oauth2_provider.models import Grant

    browser = Client()
    browser.force_login(alice)
    answer = redirect_query(consent(browser, authorize_params(public_client, pkce()[1]), allow=False))
    assert answer["error"] == "access_denied"
    assert answer["state"] == "state-1"
    assert not Grant.objects.exists()


def test_the_consent_needs_the_csrf_token(alice, public_client):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    page = browser.get("/oauth/authorize/", authorize_params(public_client, pkce()[1]))
    form = page.context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None} | {"allow": "Authorize"}
    assert browser.post("/oauth/authorize/", data).status_code == 403  # a forged cross-site post
    data["csrfmiddlewaretoken"] = page.context["csrf_token"]
    assert browser.post("/oauth/authorize/", data).status_code == 302


@pytest.mark.parametrize("data", [{}, {"allow": "Authorize"}, {"client_id": "nobody", "allow": "Authorize"}])
def test_a_consent_post_without_a_valid_request_says_the_app_cannot_connect(alice, data):
    """A forged or truncated post of the consent form (no client, unknown client): the shopper is told the app
    cannot connect, nothing is granted; it was a 500 (the page named a client it did not have)."""
    from oauth2_provider.models import Grant

    browser = Client()
    browser.force_login(alice)
    page = browser.post("/oauth/authorize/", data)
    assert page.status_code == 200
    assert "这个应用无法连接" in page.content.decode()  # the shop's default language
    assert not Grant.objects.exists()


# PKCE and codes -------------------------------------------------------------------------------------


def _signed_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def test_pkce_missing_is_refused(alice, public_client):
    response = _signed_in(alice).get("/oauth/authorize/", authorize_params(public_client, None))
    answer = redirect_query(response)
    assert answer["error"] == "invalid_request"


def test_pkce_plain_is_refused(alice, public_client):
    verifier, _ = pkce()
    params = authorize_params(public_client, None, code_challenge=verifier, code_challenge_method="plain")
    answer = redirect_query(_signed_in(alice).get("/oauth/authorize/", params))
    assert answer["error"] == "invalid_request"


def test_pkce_without_a_method_is_refused(alice, public_client):
    """RFC 7636 reads a missing method as plain."""
    params = authorize_params(public_client, None, code_challenge=pkce()[1])
    answer = redirect_query(_signed_in(alice).get("/oauth/authorize/", params))
    assert answer["error"] == "invalid_request"


def test_a_wrong_verifier_a_reused_code_and_another_redirect_uri_get_no_token(alice, public_client):
    verifier, challenge = pkce()
    answer = redirect_query(consent(_signed_in(alice), authorize_params(public_client, challenge)))
    assert answer["iss"] == "http://testserver"  # RFC 9207
    code = answer["code"]
    wrong = exchange(Client(), public_client, code, pkce()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"

    verifier, challenge = pkce()
    code = redirect_query(consent(_signed_in(alice), authorize_params(public_client, challenge)))["code"]
    mismatch = exchange(Client(), public_client, code, verifier, redirect_uri="http://127.0.0.1:8765/other")
    assert mismatch.status_code == 400
    assert exchange(Client(), public_client, code, None).status_code == 400  # no verifier

    verifier, challenge = pkce()
    code = redirect_query(consent(_signed_in(alice), authorize_params(public_client, challenge)))["code"]
    first = exchange(Client(), public_client, code, verifier)
    assert first.status_code == 200
    assert first.json()["scope"] == "read cart orders"
    again = exchange(Client(), public_client, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_an_unregistered_redirect_uri_is_not_followed(alice, public_client):
    params = authorize_params(public_client, pkce()[1], redirect_uri="https://evil.example/steal")
    response = _signed_in(alice).get("/oauth/authorize/", params)
    assert response.status_code == 400  # shown on the shop's page, never redirected to the unknown address
    assert "evil.example" not in response.get("Location", "")


def test_the_token_is_bound_to_the_requested_resource(grant):
    from oauth2_provider.models import AccessToken

    grant()
    assert AccessToken.objects.get(user__isnull=False).resource == [RESOURCE]


# Refresh and revocation ---------------------------------------------------------------------------------


def _refresh(client_id, refresh_token):
    return Client().post(
        "/oauth/token/", {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    )


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_family(grant, public_client):
    from oauth2_provider.models import AccessToken

    tokens = grant()
    renewed = _refresh(public_client, tokens["refresh_token"])
    assert renewed.status_code == 200
    renewed = renewed.json()
    assert renewed["refresh_token"] != tokens["refresh_token"]
    assert renewed["access_token"] != tokens["access_token"]

    reused = _refresh(public_client, tokens["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    # the replay looks like a stolen token: the whole family is revoked, the newest tokens too
    assert not AccessToken.objects.filter(user__isnull=False).exists()
    assert _refresh(public_client, renewed["refresh_token"]).status_code == 400


def test_revoking_the_access_token_deletes_it(grant, public_client):
    from oauth2_provider.models import AccessToken

    tokens = grant()
    response = Client().post("/oauth/revoke/", {"token": tokens["access_token"], "client_id": public_client})
    assert response.status_code == 200
    assert not AccessToken.objects.filter(user__isnull=False).exists()


# Connected apps ---------------------------------------------------------------------------------------


def test_the_account_page_lists_connected_apps_and_disconnects_them(alice, bob, grant):
    from oauth2_provider.models import AccessToken, RefreshToken

    grant()
    mine = _signed_in(alice)
    page = mine.get("/accounts/")
    [app] = page.context["connected_apps"]
    assert app.name == "Test Agent"
    assert [scope for scope, _ in app.scopes] == ["read", "cart", "orders"]
    assert "Test Agent" in page.content.decode()

    theirs = _signed_in(bob)
    assert theirs.get("/accounts/").context["connected_apps"] == []
    assert theirs.post(f"/accounts/connected-apps/{app.application_id}/revoke/").status_code == 404
    assert AccessToken.objects.filter(user=alice).exists()

    assert mine.post(f"/accounts/connected-apps/{app.application_id}/revoke/").status_code == 302
    assert not AccessToken.objects.filter(user__isnull=False).exists()
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()
    assert mine.get("/accounts/").context["connected_apps"] == []
    assert mine.post(f"/accounts/connected-apps/{app.application_id}/revoke/").status_code == 404


@pytest.mark.parametrize(("expired_ago", "usable"), [(30 * 86400 - 1800, True), (30 * 86400 + 60, False)])
def test_an_app_is_listed_exactly_while_its_refresh_token_still_works(alice, grant, public_client, expired_ago, usable):
    """django-oauth-toolkit takes a refresh token until REFRESH_TOKEN_EXPIRE_SECONDS (30 days) after its access
    token expired; the account page lists the app (with its Disconnect button) for exactly as long. It went by
    the refresh token's creation, an hour earlier: an app that could still refresh was not listed."""
    from datetime import timedelta

    from django.utils import timezone
    from oauth2_provider.models import AccessToken, RefreshToken

    tokens = grant()
    now = timezone.now()
    AccessToken.objects.filter(user=alice).update(expires=now - timedelta(seconds=expired_ago))
    RefreshToken.objects.filter(user=alice).update(created=now - timedelta(seconds=expired_ago + 3600))
    listed = _signed_in(alice).get("/accounts/").context["connected_apps"]
    assert [app.name for app in listed] == (["Test Agent"] if usable else [])
    assert (_refresh(public_client, tokens["refresh_token"]).status_code == 200) is usable


def test_the_daily_job_clears_expired_tokens(grant, settings):
    from datetime import timedelta

    from django.utils import timezone
    from oauth2_provider.models import AccessToken, RefreshToken

    from mcpshop_site.jobs.periodic import run_periodic

    grant()
    RefreshToken.objects.all().delete()  # an access token without a refresh token: gone once it expires
    AccessToken.objects.filter(user__isnull=False).update(expires=timezone.now() - timedelta(seconds=1))
    assert "oauth2_provider.models.clear_expired" in settings.JOBS_PERIODIC
    run_periodic.call("oauth2_provider.models.clear_expired")
    assert not AccessToken.objects.filter(user__isnull=False).exists()
