"""accounts.authentication: simplejwt's user checks, with the token's user read by a prepared query."""

import pytest
from rest_framework_simplejwt import authentication as simplejwt
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import AccessToken

from accounts.authentication import JWTAuthentication

pytestmark = pytest.mark.django_db


def _refusal(authentication, token):
    with pytest.raises(AuthenticationFailed) as refused:
        authentication.get_user(token)
    return type(refused.value), refused.value.detail, refused.value.get_codes()


def _without_user_id(user):
    token = AccessToken.for_user(user)
    del token["user_id"]
    return token


def _deleted(user):
    token = AccessToken.for_user(user)
    user.delete()
    return token


def _deactivated(user):
    token = AccessToken.for_user(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    return token


def _password_changed(user):
    token = AccessToken.for_user(user)
    user.set_password("another horse battery")
    user.save()
    return token


@pytest.mark.parametrize("spoil", [_without_user_id, _deleted, _deactivated, _password_changed])
def test_a_token_is_refused_as_simplejwt_refuses_it(alice, spoil):
    token = spoil(alice)

    assert _refusal(JWTAuthentication(), token) == _refusal(simplejwt.JWTAuthentication(), token)


def test_the_tokens_user_is_read_fresh_each_time(alice, bob):
    authentication = JWTAuthentication()
    token = AccessToken.for_user(alice)
    assert authentication.get_user(token) == alice
    alice.email = "new@example.com"
    alice.save(update_fields=["email"])

    user = authentication.get_user(token)

    assert (user.pk, user.email, user._state.adding) == (alice.pk, "new@example.com", False)
    assert authentication.get_user(AccessToken.for_user(bob)) == bob
