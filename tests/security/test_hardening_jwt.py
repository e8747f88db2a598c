"""API tokens are short-lived and signed with their own key; every secret comes from the environment."""

import json
import os
import subprocess
import sys
import time
from datetime import timedelta

from django.conf import settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tests.test_settings import PRODUCTION, ROOT


def test_access_tokens_live_15_minutes_and_refresh_tokens_7_days_by_default(alice):
    issued = RefreshToken.for_user(alice)
    refresh, access = RefreshToken(str(issued)), AccessToken(str(issued.access_token))  # as decoded and verified
    # simplejwt stamps the access token's expiry a moment after the refresh token's `iat`, which it copies
    assert timedelta(minutes=15) <= timedelta(seconds=access["exp"] - access["iat"]) <= timedelta(minutes=15, seconds=1)
    assert timedelta(seconds=refresh["exp"] - refresh["iat"]) == timedelta(days=7)
    assert access["aud"] == refresh["aud"] == "mcpshop" and access["iss"] == "mcpshop"
    assert settings.SIMPLE_JWT["ROTATE_REFRESH_TOKENS"] and settings.SIMPLE_JWT["BLACKLIST_AFTER_ROTATION"]


def test_production_takes_every_secret_from_the_environment_and_keeps_the_jwt_key_apart():
    """The keys a production process uses are exactly the ones it was given; nothing secret is in the repository."""
    script = (
        "import json, mcpshop_site.settings as s; print(json.dumps("
        "[s.SECRET_KEY, s.JWT_SIGNING_KEY, s.SIMPLE_JWT['SIGNING_KEY'], s.OPENAI_API_KEY, s.DATABASES['default']]))"
    )
    given = {
        **PRODUCTION,
        "OPENAI_API_KEY": "sk-from-the-environment",
        "DATABASE_URL": "postgres://shop:pw@db:5432/shop",
    }
    clean = {k: v for k, v in os.environ.items() if k not in given}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env={**clean, **given}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    secret_key, jwt_key, signing_key, openai_key, database = json.loads(result.stdout)
    assert (secret_key, jwt_key, signing_key) == (PRODUCTION["SECRET_KEY"], PRODUCTION["JWT_SIGNING_KEY"], jwt_key)
    assert openai_key == "sk-from-the-environment" and database["PASSWORD"] == "pw"
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert ".env" not in tracked


def test_a_password_change_ends_every_access_token_issued_before_it(alice, api):
    """REST and the open chat sockets alike (tests/assistant/test_consumers.py): SIMPLE_JWT's CHECK_REVOKE_TOKEN."""
    issued = RefreshToken.for_user(alice)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {issued.access_token}"}
    assert api.get("/api/auth/me", **bearer).status_code == 200

    alice.set_password("another horse battery")
    alice.save()
    refused = api.get("/api/auth/me", **bearer)
    refreshed = api.post("/api/auth/token/refresh", {"refresh": str(issued)}, format="json")
    signed_in = api.post("/api/auth/token", {"username": "alice", "password": "another horse battery"}, format="json")
    fresh = api.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {signed_in.json()['access']}")

    assert refused.status_code == 401 and refused.json()["error"]["code"] == "password_changed"
    assert refreshed.status_code == 401 and refreshed.json()["error"]["code"] == "password_changed"
    assert fresh.status_code == 200 and fresh.json()["username"] == "alice"


def test_deactivating_an_account_ends_its_access_and_refresh_tokens_for_good(alice, api):
    """Refused while inactive, and still refused once the account is active again: revoked, not paused."""
    pair = api.post("/api/auth/token", {"username": "alice", "password": alice.raw_password}, format="json").json()
    rotated = api.post("/api/auth/token/refresh", {"refresh": pair["refresh"]}, format="json").json()

    alice.is_active = False
    alice.save()
    me = api.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {rotated['access']}")
    refreshed = api.post("/api/auth/token/refresh", {"refresh": rotated["refresh"]}, format="json")
    assert me.status_code == 401 and refreshed.status_code == 401

    alice.is_active = True
    alice.save()
    me = api.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {rotated['access']}")
    refreshed = api.post("/api/auth/token/refresh", {"refresh": rotated["refresh"]}, format="json")
    assert me.status_code == 401 and refreshed.status_code == 401
    assert refreshed.json()["error"]["code"] == "token_revoked"
    time.sleep(1.05 - time.time() % 1)  # tokens count whole seconds: a new one issued in the next second
    signed_in = api.post("/api/auth/token", {"username": "alice", "password": alice.raw_password}, format="json")
    assert api.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {signed_in.json()['access']}").status_code == 200


def test_a_password_change_ends_refresh_tokens_issued_before_it_even_rotated_ones(alice, api):
    pair = api.post("/api/auth/token", {"username": "alice", "password": alice.raw_password}, format="json").json()
    rotated = api.post("/api/auth/token/refresh", {"refresh": pair["refresh"]}, format="json").json()
    alice.set_password("another horse battery")
    alice.save()
    refreshed = api.post("/api/auth/token/refresh", {"refresh": rotated["refresh"]}, format="json")
    assert refreshed.status_code == 401 and refreshed.json()["error"]["code"] == "password_changed"
