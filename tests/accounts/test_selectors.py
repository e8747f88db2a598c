"""Whether a session still signs its user in: what an open chat socket asks before each frame that acts."""

from datetime import timedelta
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from accounts.selectors import user_session_holds


def signed_in(user) -> dict:
    client = Client()
    client.force_login(user)
    return {"user_id": user.pk, "session_key": client.session.session_key, "session_hash": user.get_session_auth_hash()}


@pytest.mark.django_db
def test_a_live_session_signs_its_user_in_with_one_query(alice):
    session = signed_in(alice)
    with CaptureQueriesContext(connection) as queries:
        assert user_session_holds(**session) is True
    assert len(queries) == 1


def _log_out(user, session):
    tab = Client()
    tab.cookies[settings.SESSION_COOKIE_NAME] = session["session_key"]
    assert tab.post("/accounts/logout/").status_code == 302
    assert not Session.objects.filter(pk=session["session_key"]).exists()


def _expire(user, session):
    Session.objects.filter(pk=session["session_key"]).update(expire_date=timezone.now() - timedelta(seconds=1))


def _deactivate(user, session):
    User.objects.filter(pk=user.pk).update(is_active=False)


def _change_password(user, session):
    user.set_password("another horse battery")
    user.save()


@pytest.mark.django_db
@pytest.mark.parametrize("ending", [_log_out, _expire, _deactivate, _change_password])
def test_an_ended_sign_in_signs_nobody_in(alice, ending):
    session = signed_in(alice)
    ending(alice, session)
    assert user_session_holds(**session) is False


@pytest.mark.django_db
def test_another_user_s_hash_or_an_unknown_session_signs_nobody_in(alice, bob):
    alices, bobs = signed_in(alice), signed_in(bob)
    assert user_session_holds(**{**alices, "session_hash": bobs["session_hash"]}) is False
    assert user_session_holds(**{**alices, "session_key": "no-such-session"}) is False


@pytest.mark.django_db
def test_a_secret_key_rotated_with_the_old_one_kept_as_a_fallback_keeps_the_session(alice, settings):
    session = signed_in(alice)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    assert user_session_holds(**session) is True
    settings.SECRET_KEY_FALLBACKS = []
    assert user_session_holds(**session) is False


@pytest.mark.django_db
def test_sessions_kept_in_the_cache_are_read_from_their_store(alice, settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["_auth_user_id"] = str(alice.pk)
    store.create()
    session = {"user_id": alice.pk, "session_key": store.session_key, "session_hash": alice.get_session_auth_hash()}

    assert user_session_holds(**session) is True
    store.flush()  # logging out
    assert user_session_holds(**session) is False
