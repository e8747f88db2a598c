from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User

pytestmark = pytest.mark.django_db

REGISTER, TOKEN, REFRESH, ME = "/api/auth/register", "/api/auth/token", "/api/auth/token/refresh", "/api/auth/me"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def _bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def _login(api, user, **kwargs):
    return api.post(TOKEN, {"username": user.username, "password": user.raw_password}, **kwargs)


def test_register_creates_an_account_and_echoes_no_password(api):
    response = api.post(REGISTER, {"username": "carol", "email": "Carol@Example.com", "password": "a quiet pond"})
    assert response.status_code == 201
    user = User.objects.get(username="carol")
    assert response.json() == {"id": user.id, "username": "carol", "email": "carol@example.com"}
    assert "password" not in response.content.decode()
    assert user.check_password("a quiet pond")


def test_register_refuses_a_taken_username_or_email(api, alice):
    taken_name = api.post(REGISTER, {"username": "ALICE", "email": "new@example.com", "password": "a quiet pond"})
    taken_mail = api.post(REGISTER, {"username": "alice2", "email": alice.email, "password": "a quiet pond"})
    assert (taken_name.status_code, taken_mail.status_code) == (409, 409)
    assert taken_mail.json()["error"]["details"] == {"field": "email"}
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "carol", "email": "carol@example.com"},
        {"username": "carol", "email": "not-an-email", "password": "a quiet pond"},
        {"username": "carol", "email": "carol@example.com", "password": "123"},
        {"username": "carol", "email": "carol@example.com", "password": "password"},
        {"username": "ca rol!", "email": "carol@example.com", "password": "a quiet pond"},
        {"username": "c" * 151, "email": "carol@example.com", "password": "a quiet pond"},
        {"username": "car\x00ol", "email": "carol@example.com", "password": "a quiet pond"},
        {"username": ["carol"], "email": "carol@example.com", "password": "a quiet pond"},
        {"username": None, "email": "carol@example.com", "password": "a quiet pond"},
        {"username": "   ", "email": "carol@example.com", "password": "a quiet pond"},
    ],
)
def test_register_answers_bad_input_with_a_clear_400(api, body):
    response = api.post(REGISTER, body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["message"]
    assert not User.objects.exists()


def test_register_is_throttled(api):
    for _ in range(20):
        assert api.post(REGISTER, {}, format="json").status_code == 400
    response = api.post(REGISTER, {}, format="json")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"


def test_token_login_with_json_gives_a_working_bearer_pair(api, alice):
    response = _login(api, alice, format="json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh", "access_token", "token_type"}
    assert body["access_token"] == body["access"] and body["token_type"] == "bearer"
    claims = AccessToken(body["access"]).payload
    assert claims["user_id"] == str(alice.id)
    assert claims["aud"] == "mcpshop"
    me = _bearer(body["access"]).get(ME)
    assert me.status_code == 200
    assert me.json() == {"id": alice.id, "username": "alice", "email": "alice@example.com"}


def test_token_login_accepts_a_form_encoded_body(alice):
    client = APIClient()
    response = client.post(
        TOKEN,
        f"username={alice.username}&password={alice.raw_password.replace(' ', '+')}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert _bearer(response.json()["access_token"]).get(ME).json()["username"] == "alice"


@pytest.mark.parametrize("username", ["alice", "nobody"])
def test_wrong_credentials_answer_401_with_www_authenticate(api, alice, username):
    response = api.post(TOKEN, {"username": username, "password": "wrong password"}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "no_active_account"
    assert "access" not in response.json()


@pytest.mark.parametrize("body", [{}, {"username": "alice"}, {"username": "alice", "password": ""}, ["alice"]])
def test_incomplete_login_is_a_400(api, alice, body):
    response = api.post(TOKEN, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_login_is_throttled_after_the_limit(api, alice):
    limit = settings.LOGIN_FAILURE_LIMIT
    for _ in range(limit):
        assert api.post(TOKEN, {"username": "alice", "password": "guess"}, format="json").status_code == 401
    response = _login(api, alice, format="json")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_a_new_x_forwarded_for_per_attempt_does_not_dodge_the_login_throttle(api, alice):
    limit = settings.LOGIN_FAILURE_LIMIT
    statuses = [
        api.post(TOKEN, {"username": "alice", "password": "guess"}, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
        for n in range(limit + 1)
    ]
    assert statuses == [401] * limit + [429]


def test_refresh_rotates_and_a_used_refresh_token_is_refused(api, alice):
    first = _login(api, alice, format="json").json()
    rotated = api.post(REFRESH, {"refresh": first["refresh"]}, format="json")
    assert rotated.status_code == 200
    pair = rotated.json()
    assert set(pair) == {"access", "refresh"} and pair["refresh"] != first["refresh"]
    assert _bearer(pair["access"]).get(ME).status_code == 200

    reused = api.post(REFRESH, {"refresh": first["refresh"]}, format="json")
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "token_not_valid"
    assert api.post(REFRESH, {"refresh": pair["refresh"]}, format="json").status_code == 200


def test_refresh_refuses_garbage_and_access_tokens(api, alice):
    access = _login(api, alice, format="json").json()["access"]
    assert api.post(REFRESH, {"refresh": "not.a.token"}, format="json").status_code == 401
    assert api.post(REFRESH, {"refresh": access}, format="json").status_code == 401
    assert api.post(REFRESH, {}, format="json").status_code == 400


def test_refresh_token_of_a_deleted_user_is_refused(api, make_user):
    carol = make_user("carol")
    refresh = _login(api, carol, format="json").json()["refresh"]
    carol.delete()
    response = api.post(REFRESH, {"refresh": refresh}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "no_active_account"


def _claims(user, **overrides) -> dict:
    token = AccessToken.for_user(user)
    return {**token.payload, **overrides}


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda c: jwt.encode(c, "some-other-key-of-enough-length-0123456789", "HS256"), id="forged"),
        pytest.param(lambda c: jwt.encode(c, None, "none"), id="alg-none"),
        pytest.param(lambda c: jwt.encode({**c, "aud": "elsewhere"}, settings.JWT_SIGNING_KEY, "HS256"), id="aud"),
        pytest.param(lambda c: jwt.encode({**c, "exp": c["iat"] - 1}, settings.JWT_SIGNING_KEY, "HS256"), id="expired"),
        pytest.param(lambda c: "Bearer-garbage", id="garbage"),
    ],
)
def test_bad_access_tokens_answer_401(alice, forge):
    token = forge(_claims(alice))
    response = _bearer(token).get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_honestly_signed_token_works_and_an_expired_one_does_not(alice):
    token = AccessToken.for_user(alice)
    assert _bearer(str(token)).get(ME).status_code == 200
    token.set_exp(lifetime=-timedelta(seconds=1))
    assert _bearer(str(token)).get(ME).status_code == 401


def test_me_needs_a_login(api):
    response = api.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_malformed_json_is_a_400_in_the_error_shape(api):
    response = api.post(TOKEN, '{"username": "alice",', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_wrong_method_is_a_405_in_the_error_shape(api):
    response = api.get(TOKEN)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
