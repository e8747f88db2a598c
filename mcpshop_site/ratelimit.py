"""The shop's one rate limiter: sliding windows counted in the cache (Redis when REDIS_URL is set, so shared by
every app process). The chat and MCP spend it per request, the API's register throttle
(`ScopedRateLimit`) and the login lock of every password door (accounts/throttles.py) count on it too.

A fixed per-window counter lets a client spend its whole limit at the end of one window and again at the
start of the next: twice the limit in a moment. Here each key keeps one counter per clock window, and a
request is judged by the current window's count plus the previous window's, weighted by how much of that
window still lies inside the last `window` seconds (the sliding-window estimate; exact when requests were
spread evenly, and never more than the limit over any window by more than that window's share).
"""

import ipaddress
import math
import time

from django.core.cache import cache
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle

WINDOW = 60  # seconds: the chat's and MCP's limits are per minute


def client_address(request) -> str:
    """Return the caller's network address as every limit of the shop sees it: REMOTE_ADDR, or with
    `NUM_PROXIES` set the address the nearest trusted proxy wrote into X-Forwarded-For (DRF's rule).

    An IPv6 address counts as its /64 network: a host (a home line, a rented server) is given a whole /64,
    and each of its 2**64 addresses was a fresh client to every limit, the login lock included."""
    address = BaseThrottle().get_ident(request) or ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ip.ipv4_mapped or ipaddress.IPv6Network((ip, 64), strict=False))
    return address


def _clock(window: int, now: float | None) -> tuple[int, float]:
    """Return the number of the current clock window and the seconds already spent in it."""
    period, elapsed = divmod(time.time() if now is None else now, window)
    return int(period), elapsed


def _counted(key: str, period: int) -> str:
    return f"rate:{key}:{period}"


def rate_limit_count(key: str, *, window: int = WINDOW, now: float | None = None) -> int:
    """Count one event for `key` in the current window; return the window's count."""
    period, _elapsed = _clock(window, now)
    current_key = _counted(key, period)
    if cache.add(current_key, 1, timeout=2 * window):
        return 1
    try:
        return cache.incr(current_key)
    except ValueError:  # expired between add() and incr()
        cache.add(current_key, 1, timeout=2 * window)
        return 1


def rate_limit_wait(
    key: str, limit: int, *, window: int = WINDOW, now: float | None = None, current: int | None = None
) -> int | None:
    """Return None if one more event for `key` stays within `limit` per sliding window, else the seconds until
    it would (for Retry-After). Counts nothing. A limit of 0 or less means no limit."""
    if limit <= 0:
        return None
    period, elapsed = _clock(window, now)
    if current is None:
        current = cache.get(_counted(key, period), 0) + 1
    previous = cache.get(_counted(key, period - 1), 0)
    share = 1 - elapsed / window  # of the previous window, the part still inside the last `window` seconds
    if previous * share + current <= limit:
        return None
    return max(1, math.ceil(_seconds_until_room(previous, current, limit, elapsed, window)))


def rate_limit_spend(key: str, limit: int, *, window: int = WINDOW, now: float | None = None) -> int | None:
    """Count one request for `key`; return None if it is within `limit` per sliding window, else the seconds
    until one more request would be, for Retry-After. Refused requests count too: a client that keeps
    hammering stays refused. A limit of 0 or less means no limit."""
    if limit <= 0:
        return None
    current = rate_limit_count(key, window=window, now=now)
    return rate_limit_wait(key, limit, window=window, now=now, current=current)


def rate_limit_reset(key: str, *, window: int = WINDOW, now: float | None = None) -> None:
    """Forget what `key` spent (a successful login clears its failures)."""
    period, _elapsed = _clock(window, now)
    cache.delete_many([_counted(key, period), _counted(key, period - 1)])


def _seconds_until_room(previous: int, current: int, limit: int, elapsed: float, window: int) -> float:
    """Seconds until the estimate leaves room for one more request, if nothing else arrives meanwhile."""
    room = limit - 1  # what the estimate must fall to
    if current <= room and previous:
        # Still in this window: the previous window's weight falls to room - current.
        return window * (1 - (room - current) / previous) - elapsed
    # Only in the next window, where this window's count is the one that fades.
    return window - elapsed + window * max(0.0, 1 - room / current)


class ScopedRateLimit(ScopedRateThrottle):
    """DRF's scoped throttle (`throttle_scope`, rates in DEFAULT_THROTTLE_RATES, clients by address), counted
    by the shop's limiter. As DRF's own, a refused request does not count."""

    def get_ident(self, request) -> str:
        return client_address(request)

    def allow_request(self, request, view):
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.num_requests, self.duration = self.parse_rate(self.get_rate())
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.retry_after = rate_limit_wait(key, self.num_requests, window=self.duration)
        if self.retry_after is None:
            rate_limit_count(key, window=self.duration)
        return self.retry_after is None

    def wait(self):
        return self.retry_after
