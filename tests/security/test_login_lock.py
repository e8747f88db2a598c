"""The one login lock of every password door (accounts/throttles.py): the storefront's form, the admin's login and
`POST /api/auth/token` count failures together, per address and username and per address alone."""

import httpx2
import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from tests.assistant.mcp_live import LiveServer

pytestmark = pytest.mark.django_db

ATTACKER, SHOPPER = "203.0.113.7", "198.51.100.20"


def form_login(username, password, address=ATTACKER, path="/accounts/login/"):
    return Client(REMOTE_ADDR=address).post(path, {"username": username, "password": password})


def api_login(username, password, address=ATTACKER):
    return APIClient(REMOTE_ADDR=address).post(
        "/api/auth/token", {"username": username, "password": password}, format="json"
    )


def test_a_password_sprayed_over_many_usernames_from_one_address_is_locked(alice):
    """25 usernames, one password each, from one address: before, every one was tried (the lock was per pair)."""
    statuses = [form_login(f"user{n}", "Summer2026!").status_code for n in range(25)]
    limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    assert statuses == [200] * limit + [429] * (25 - limit)

    # From the attacker's address even a right password is refused now, at every door...
    assert form_login("alice", alice.raw_password).status_code == 429
    assert api_login("alice", alice.raw_password).status_code == 429
    # ...but the attack locks no one out elsewhere: alice signs in from her own address.
    assert form_login("alice", alice.raw_password, address=SHOPPER).status_code == 302
    assert api_login("alice", alice.raw_password, address=SHOPPER).status_code == 200


def test_the_api_locks_a_spray_too_and_says_when_to_retry(db):
    limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    statuses = [api_login(f"user{n}", "Summer2026!").status_code for n in range(limit + 1)]
    assert statuses == [401] * limit + [429]
    refused = api_login("user-next", "Summer2026!")
    assert refused.json()["error"]["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0


def test_failures_at_the_api_the_form_and_the_admin_add_up(staff):
    staff.set_password("staff password 1")
    staff.save()
    limit = settings.LOGIN_FAILURE_LIMIT
    for n in range(limit):
        door = n % 3
        if door == 0:
            assert api_login(staff.username, "wrong").status_code == 401
        else:
            assert (
                form_login(
                    staff.username, "wrong", path="/accounts/login/" if door == 1 else "/admin/login/"
                ).status_code
                == 200
            )
    admin = Client(REMOTE_ADDR=ATTACKER)
    response = admin.post("/admin/login/?next=/admin/", {"username": staff.username, "password": "staff password 1"})
    assert response.status_code == 200 and "_auth_user_id" not in admin.session
    assert api_login(staff.username, "staff password 1").status_code == 429
    # Another username from the same address is not locked by one account's failures.
    User.objects.create_user(username="carol", email="carol@example.com", password="correct horse battery")
    assert api_login("carol", "correct horse battery").status_code == 200


def test_signing_in_to_an_own_account_does_not_reset_a_spray(make_user):
    """An attacker's own account, signed in between guesses, forgets that pair's failures only."""
    mallory = make_user("mallory")
    limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    for n in range(limit):
        form_login(f"user{n}", "Summer2026!")
        if n % 5 == 4:
            form_login("mallory", mallory.raw_password)
    assert form_login("user-next", "Summer2026!").status_code == 429


def test_only_failures_count(alice):
    """A shopper who signs in often from a shared address is never locked."""
    for _ in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT + 5):
        assert api_login("alice", alice.raw_password).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_procfile_web_process_is_not_fooled_by_a_forged_x_forwarded_for():
    """The Procfile's `web` command, run as a platform runs it: a spray with a new X-Forwarded-For per attempt
    is still one address. (With daphne's --proxy-headers, REMOTE_ADDR was the header's first entry, the one
    the client writes, and no attempt was ever locked; behind a platform's router, NUM_PROXIES reads it.)"""
    server = LiveServer("procfile")
    try:
        statuses = [
            httpx2.post(
                f"{server.url}/api/auth/token",
                json={"username": f"user{n}", "password": "Summer2026!"},
                headers={"X-Forwarded-For": f"10.0.{n}.1"},
                timeout=30,
            ).status_code
            for n in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT + 1)
        ]
    finally:
        server.stop()
    assert statuses == [401] * settings.LOGIN_ADDRESS_FAILURE_LIMIT + [429]


def test_a_spray_from_one_ipv6_network_is_one_address():
    """A host holds a whole IPv6 /64: a new address of it per attempt is not a new client (each was)."""
    limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    statuses = [
        api_login(f"user{n}", "Summer2026!", address=f"2001:db8:1:2::{n + 1:x}").status_code for n in range(limit + 1)
    ]
    assert statuses == [401] * limit + [429]
    assert form_login("user-next", "Summer2026!", address="2001:db8:1:2:ffff::1").status_code == 429
    # Another /64 (another host) is another client.
    assert api_login("user-next", "Summer2026!", address="2001:db8:1:3::1").status_code == 401


def test_the_register_throttle_counts_an_ipv6_network_too(db):
    statuses = [
        APIClient(REMOTE_ADDR=f"2001:db8:9:9::{n + 1:x}").post("/api/auth/register", {}, format="json").status_code
        for n in range(21)
    ]
    assert statuses == [400] * 20 + [429]


def test_spelling_a_username_another_way_is_the_same_account_to_the_lock(alice):
    """Case, blanks and full-width letters name one account (MariaDB's unicode_ci collation signs "ａlice" in
    as alice), so they cannot buy another LOGIN_FAILURE_LIMIT guesses at it."""
    spellings = ["alice", "ALICE", " Alice ", "ａlice", "ａｌｉｃｅ"]
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        form_login(spellings[n % len(spellings)], "wrong")
    assert form_login("alice", alice.raw_password).status_code == 429
