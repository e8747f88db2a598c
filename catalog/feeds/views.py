"""The feeds as the RFC's offline snapshot (acp-spec rfc.product_feeds.md, 3.4): per feed, `metadata.json`
(FeedMetadata) and `products.jsonl` (one `Product` per line), for an agent platform's file ingestion.

Read-only and public, as the RFC allows: the feeds hold what the storefront and `GET /api/products/` already
show anyone (products on sale, their prices and whether they are in stock) and no buyer data. Both files
answer conditional requests (ETag, Last-Modified), so a platform polling them costs one query when nothing
changed.
"""

from django.http import JsonResponse, StreamingHttpResponse
from django.views.decorators.http import condition, require_safe

from catalog.feeds.render import FEEDS
from catalog.feeds.services import feed_lines, feed_metadata, feed_updated_at


def _not_found() -> JsonResponse:
    error = {"type": "invalid_request", "code": "feed_not_found", "message": "Feed not found", "param": "id"}
    return JsonResponse(error, status=404)


def _etag(request, feed: str) -> str | None:
    updated_at = feed_updated_at()
    return f"{feed}-{updated_at.timestamp():.6f}" if feed in FEEDS and updated_at else None


def _last_modified(request, feed: str):
    return feed_updated_at() if feed in FEEDS else None


@require_safe
@condition(etag_func=_etag, last_modified_func=_last_modified)
def metadata(request, feed: str):
    """A feed's FeedMetadata: its id, target country and when its lines last changed."""
    if feed not in FEEDS:
        return _not_found()
    return JsonResponse(feed_metadata(feed))


@require_safe
@condition(etag_func=_etag, last_modified_func=_last_modified)
def products(request, feed: str):
    """Every product on sale as a feed `Product`, one JSON object per line, streamed from the stored lines."""
    if feed not in FEEDS:
        return _not_found()
    return StreamingHttpResponse(feed_lines(feed), content_type="application/jsonl; charset=utf-8")
