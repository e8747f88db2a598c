"""The sliding-minute rate limit: no double allowance across a minute's end, and an honest Retry-After."""

import hashlib
import itertools

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from mcpshop_site.ratelimit import rate_limit_reset, rate_limit_spend, rate_limit_wait

MINUTE = 29_000_000 * 60.0  # some clock minute's start
keys = (f"test-{n}" for n in itertools.count())


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


def spend(key, limit, at, times=1):
    return [rate_limit_spend(key, limit, now=at) for _ in range(times)]


def test_the_limit_holds_within_a_minute_and_frees_up_after_it():
    key = next(keys)
    assert spend(key, 3, MINUTE + 5, times=3) == [None, None, None]
    # Refused: 4 requests this minute, so one more fits once they weigh 2: 30 s into the next minute.
    assert rate_limit_spend(key, 3, now=MINUTE + 6) == 84
    assert rate_limit_spend(key, 3, now=MINUTE + 90) is None
    # Two minutes on, nothing of that burst is inside the last 60 seconds.
    assert spend(key, 3, MINUTE + 180.5, times=3) == [None, None, None]


def test_a_burst_straddling_a_minutes_end_gets_the_limit_once_not_twice():
    key = next(keys)
    assert spend(key, 5, MINUTE + 59.5, times=5) == [None] * 5
    # Half a second later, in the next clock minute: a per-minute counter would allow 5 more.
    after = spend(key, 5, MINUTE + 60.5, times=5)
    assert all(after), after


def test_the_previous_minute_fades_as_it_leaves_the_window():
    key = next(keys)
    assert spend(key, 10, MINUTE + 30, times=10) == [None] * 10
    # 45 s into the next minute, a quarter of the previous minute is still inside the window: 2.5 requests.
    assert spend(key, 10, MINUTE + 105, times=7) == [None] * 7
    assert rate_limit_spend(key, 10, now=MINUTE + 105) == 9


@pytest.mark.parametrize("wait, allowed", [(8, False), (9, True)])
def test_retry_after_is_the_first_whole_second_with_room(wait, allowed):
    """The same history each time; a request exactly Retry-After seconds later fits, one second earlier not."""
    key = next(keys)
    spend(key, 10, MINUTE + 30, times=10)
    spend(key, 10, MINUTE + 105, times=7)
    retry_after = rate_limit_spend(key, 10, now=MINUTE + 105)
    assert retry_after == 9
    assert (rate_limit_spend(key, 10, now=MINUTE + 105 + wait) is None) is allowed


def test_keys_are_counted_apart():
    first, second = next(keys), next(keys)
    assert spend(first, 2, MINUTE, times=3)[-1] is not None
    assert spend(second, 2, MINUTE, times=2) == [None, None]


@pytest.mark.parametrize("limit", [0, -1])
def test_no_limit(limit):
    assert spend(next(keys), limit, MINUTE, times=100) == [None] * 100


def test_a_longer_window_slides_the_same_way():
    """The login form's ten minutes and the register throttle's hour are sliding windows of the same limiter."""
    key, start = next(keys), 600.0 * 4_000_000
    assert [rate_limit_spend(key, 2, window=600, now=start + 5) for _ in range(2)] == [None, None]
    assert (
        rate_limit_wait(key, 2, window=600, now=start + 10) == 990
    )  # 590 s to the next window, where two thirds of it must pass
    assert rate_limit_wait(key, 2, window=600, now=start + 600 + 300) is None
    rate_limit_reset(key, window=600, now=start + 11)
    assert rate_limit_wait(key, 2, window=600, now=start + 12) is None


@pytest.mark.django_db
def test_the_api_login_and_the_login_form_count_in_the_shops_limiter(client):
    api = APIClient()
    for _ in range(3):
        api.post("/api/auth/token", {"username": "nobody", "password": "guess"}, format="json")
        client.post("/accounts/login/", {"username": "nobody", "password": "guess"})
    failures = "login-failures:" + hashlib.sha256(b"127.0.0.1\0nobody").hexdigest()  # six counted, by both doors
    assert rate_limit_wait(failures, 7, window=600) is None and rate_limit_wait(failures, 6, window=600) is not None
