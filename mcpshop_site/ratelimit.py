"""Rate limits over a sliding minute, counted in the cache (Redis when REDIS_URL is set, so shared by every
app process).

A fixed per-minute counter lets a client spend its whole limit in the last second of one minute and again
in the first second of the next: twice the limit in two seconds. Here each key keeps one counter per clock
minute, and a request is judged by the current minute's count plus the previous minute's, weighted by how
much of that minute still lies inside the last 60 seconds (the sliding-window estimate; exact when requests
were spread evenly, and never more than the limit over any 60 seconds by more than that minute's share).
"""

import math
import time

from django.core.cache import cache

WINDOW = 60  # seconds


def rate_limit_spend(key: str, limit: int, *, now: float | None = None) -> int | None:
    """Count one request for `key`; return None if it is within `limit` per sliding minute, else the seconds
    until one more request would be, for Retry-After. Refused requests count too: a client that keeps
    hammering stays refused. A limit of 0 or less means no limit."""
    if limit <= 0:
        return None
    now = time.time() if now is None else now
    minute, elapsed = divmod(now, WINDOW)
    current_key = f"rate:{key}:{int(minute)}"
    if cache.add(current_key, 1, timeout=2 * WINDOW):
        current = 1
    else:
        try:
            current = cache.incr(current_key)
        except ValueError:  # expired between add() and incr()
            cache.add(current_key, 1, timeout=2 * WINDOW)
            current = 1
    previous = cache.get(f"rate:{key}:{int(minute) - 1}", 0)
    share = 1 - elapsed / WINDOW  # of the previous minute, the part still inside the last 60 seconds
    if previous * share + current <= limit:
        return None
    return max(1, math.ceil(_seconds_until_room(previous, current, limit, elapsed)))


def _seconds_until_room(previous: int, current: int, limit: int, elapsed: float) -> float:
    """Seconds until the estimate leaves room for one more request, if nothing else arrives meanwhile."""
    room = limit - 1  # what the estimate must fall to
    if current <= room and previous:
        # Still in this minute: the previous minute's weight falls to room - current.
        return WINDOW * (1 - (room - current) / previous) - elapsed
    # Only in the next minute, where this minute's count is the one that fades.
    return WINDOW - elapsed + WINDOW * max(0.0, 1 - room / current)
