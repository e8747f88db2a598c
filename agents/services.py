"""Agent platforms' API keys: issued (shown once), checked on every request, revoked at once."""

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

from agents.models import AgentPlatform, AgentPlatformKey

KEY_PREFIX = "acpk_"
KEY_VISIBLE_CHARS = 12
KEY_MAX_LENGTH = 128
LAST_USED_GRANULARITY = timedelta(minutes=1)


def platform_key_hash(plain: str) -> str:
    """Return the stored form of an API key: its SHA-256 (the key has 256 random bits)."""
    return hashlib.sha256(plain.encode()).hexdigest()


def platform_key_issue(*, platform: AgentPlatform, name: str = "") -> tuple[AgentPlatformKey, str]:
    """Issue an API key for the platform; return it and the plain key, which is never stored or shown again."""
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    key = AgentPlatformKey.objects.create(
        platform=platform,
        name=" ".join(name.split())[:100],
        key_hash=platform_key_hash(plain),
        prefix=plain[:KEY_VISIBLE_CHARS],
    )
    return key, plain


def platform_keys_revoke(*, keys) -> int:
    """Revoke the given keys at once (the next request with one is refused); return how many were live."""
    return keys.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def platform_authenticate(plain: str | None) -> AgentPlatform | None:
    """Return the active platform a live API key belongs to, or None (unknown, revoked, inactive platform).

    Records the key's last use at most once a minute: one read per request, rarely a write.
    """
    if not plain or not plain.startswith(KEY_PREFIX) or len(plain) > KEY_MAX_LENGTH:
        return None
    try:
        key = AgentPlatformKey.objects.select_related("platform").get(
            key_hash=platform_key_hash(plain), revoked_at__isnull=True, platform__is_active=True
        )
    except AgentPlatformKey.DoesNotExist:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_GRANULARITY:
        AgentPlatformKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key.platform
