"""Pushing changed lines to agent platforms' Feed APIs (acp-spec rfc.product_feeds.md, 3.4 and 5.4).

When a refresh rewrites lines, each active FeedDestination gets a `feed_push` job with those products: one
`PATCH {api_base_url}/feeds/{feed_id}/products` of their current lines, through mcpshop_site.outbound (https
to public addresses only, bounded in time and size). The RFC defers deletion through upserts: a product taken
off sale is pushed with `availability.status` `discontinued`; a deleted one cannot be (only the snapshot files
drop it). A network failure, 5xx or 429 is retried with backoff; any other answer is recorded on the
destination (`last_error`, shown in the admin) and given up.
"""

import hashlib
import logging

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from catalog.feeds.render import FEEDS
from catalog.models import FeedDestination, FeedEntry
from mcpshop_site import outbound
from mcpshop_site.jobs.retries import retrying
from mcpshop_site.outbound import OutboundError

logger = logging.getLogger(__name__)

API_VERSION = "2026-04-17"
PUSH_BATCH = 500  # products per PATCH


class FeedPushFailed(Exception):
    """The platform did not take the products this time (network, 5xx, 429): the job runs again later."""


def feed_push_changed(product_ids: list[int]) -> None:
    """Queue a push of these products' lines to every active destination (in the caller's transaction)."""
    for destination in FeedDestination.objects.filter(is_active=True).values_list("pk", flat=True):
        for start in range(0, len(product_ids), PUSH_BATCH):
            feed_push.enqueue(destination, sorted(product_ids)[start : start + PUSH_BATCH])


@transaction.atomic
def feed_push_everything(destination: FeedDestination) -> int:
    """Queue a push of every rendered line to `destination` (a new platform's first load); return the jobs queued."""
    ids = list(FeedEntry.objects.filter(listed=True).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), PUSH_BATCH):
        feed_push.enqueue(destination.pk, ids[start : start + PUSH_BATCH])
    return -(-len(ids) // PUSH_BATCH)


def _record(destination: FeedDestination, error: str) -> None:
    fields = {"last_error": error} if error else {"last_error": "", "last_pushed_at": timezone.now()}
    FeedDestination.objects.filter(pk=destination.pk).update(**fields)


@retrying(attempts=6, backoff=60, on=(FeedPushFailed,))
@task()
def feed_push(destination_id: int, product_ids: list[int]) -> int | None:
    """PATCH these products' current lines to the destination's feed; return the platform's HTTP status."""
    destination = FeedDestination.objects.filter(pk=destination_id, is_active=True).first()
    if destination is None:
        return None  # removed or switched off since
    column = FEEDS[destination.feed]
    lines = FeedEntry.objects.filter(pk__in=product_ids).exclude(changed_at=None).order_by("pk")
    lines = list(lines.values_list(column, flat=True))
    if not lines:
        return None
    body = ('{"products":[' + ",".join(lines) + "]}").encode()  # the stored lines are JSON objects already
    url = f"{destination.api_base_url.rstrip('/')}/feeds/{destination.feed_id}/products"
    headers = {
        "Authorization": f"Bearer {destination.token}",
        "API-Version": API_VERSION,
        "Content-Type": "application/json",
        "Idempotency-Key": hashlib.sha256(body).hexdigest()[:32],  # the same on a retry of the same lines
    }
    try:
        answer = outbound.request("PATCH", url, content=body, headers=headers)
    except OutboundError as error:
        _record(destination, f"{error.code}: {error.message}")
        if error.retryable:
            raise FeedPushFailed(error.code) from error
        logger.error("Feed push to %s (%s) given up: %s", destination, url, error.code)
        return None
    if answer.ok:
        _record(destination, "")
        return answer.status
    _record(destination, f"HTTP {answer.status}: {answer.content[:500].decode(errors='replace')}")
    if answer.status >= 500 or answer.status in (408, 425, 429):
        raise FeedPushFailed(f"HTTP {answer.status}")
    logger.error("Feed push to %s (%s) given up: HTTP %d", destination, url, answer.status)
    return answer.status
