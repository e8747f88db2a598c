"""A Redis cache that outlives Redis: while the server is unreachable, each process uses its own memory.

Django's RedisCache raises on every call when Redis is down, and the shop uses the cache on its
main paths (login-failure counts, the chat, MCP and API rate limits), so an outage of the cache would
take the shop down. This backend answers from a per-process LocMemCache instead and tries Redis again
on the next call: the shop keeps selling, rate limits still hold (per process rather than shared),
and once Redis answers again it is used again, with nothing to restart.
"""

import logging
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)
WARN_EVERY_SECONDS = 30


class TolerantRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._fallback = LocMemCache(f"redis-fallback:{server}", params)
        self._warned_at = float("-inf")

    def _redis_down(self, error: Exception) -> LocMemCache:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_SECONDS:
            self._warned_at = now
            logger.warning("Redis cache unreachable (%s): using this process's memory until it is back", error)
        return self._fallback

    def clear(self):
        """Clear both stores: what was written to memory during an outage must not outlive a clear."""
        self._fallback.clear()
        try:
            return super().clear()
        except REDIS_DOWN as error:
            self._redis_down(error)
            return None


def _tolerant(name: str):
    redis_method = getattr(RedisCache, name)

    def method(self, *args, **kwargs):
        try:
            return redis_method(self, *args, **kwargs)
        except REDIS_DOWN as error:
            return getattr(self._redis_down(error), name)(*args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = redis_method.__doc__
    return method


for _name in ("add", "get", "set", "touch", "delete", "get_many", "has_key", "incr", "set_many", "delete_many"):
    setattr(TolerantRedisCache, _name, _tolerant(_name))
