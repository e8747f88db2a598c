"""Idempotency keys for agents' writes: (agent, key) -> the status and body the first request got.

`idempotent()` runs a write and stores its answer in the same transaction, so a retry with the same key
and the same request gets the stored answer (checked before anything else, also after the session has
been completed or canceled), and the same key with a different request raises IdempotencyKeyReused.
Two requests racing with one key: the second to store its answer rolls its whole write back and
replays the first one's.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mcpshop_site.exceptions import InvalidInput
from orders.exceptions import IdempotencyKeyReused
from orders.models import IdempotencyRecord

MAX_KEY_LENGTH = 255


class _Raced(Exception):
    """A twin request with the same key stored its answer first."""


def request_fingerprint(request) -> str:
    """Return a hash of a request (any JSON value: method, path, body) that ignores key order."""
    canonical = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent(*, owner: str, key: str, request, run: Callable[[], tuple[int, dict]]) -> tuple[int, dict]:
    """Return `run()`'s (status, body), or the stored answer of an earlier request with this `key` by `owner`.

    `request` is what makes two requests "the same" (e.g. {"method", "path", "body"}); `run` does the write and
    renders its answer, errors included (an error answer is stored too, and replayed, as the first one was).
    """
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_LENGTH or "\x00" in key:
        raise InvalidInput(_("Idempotency-Key must be 1 to 255 characters."), field="Idempotency-Key")
    fingerprint = request_fingerprint(request)
    try:
        with transaction.atomic():
            stored = _replay(owner=owner, key=key, fingerprint=fingerprint)
            if stored is not None:
                return stored
            status, body = run()
            try:
                with transaction.atomic():
                    IdempotencyRecord.objects.create(
                        owner=owner, key=key, fingerprint=fingerprint, status=status, body=body
                    )
            except IntegrityError:
                raise _Raced() from None
            return status, body
    except _Raced:
        return _replay(owner=owner, key=key, fingerprint=fingerprint)


def _replay(*, owner: str, key: str, fingerprint: str) -> tuple[int, dict] | None:
    record = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
    if record is None:
        return None
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(key=key)
    return record.status, record.body


def idempotency_prune() -> int:
    """Delete the answers kept longer than IDEMPOTENCY_KEEP_HOURS (a periodic job); return how many."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEEP_HOURS)
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
