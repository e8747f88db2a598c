"""Reads of the policy pages: one published page, and the published pages as links (every page's footer, agents'
checkout sessions, the product feeds), the list cached under the catalog's version (a saved page starts a new one:
apps.py)."""

from dataclasses import dataclass

from django.core.cache import cache

from catalog.cache import catalog_version
from mcpshop_site.mail import shop_link
from policies.models import Policy

LIST_TIMEOUT = 600
_POSITION = {kind: position for position, kind in enumerate(Policy.Kind.values)}


def policy_get_published(*, kind: str) -> Policy:
    """Return the published page of this kind; raise Policy.DoesNotExist for an unpublished or missing one."""
    return Policy.objects.get(kind=kind, is_published=True)


def policy_list_published() -> list[Policy]:
    """Return the published pages (their titles, not their texts) in the order of `Policy.Kind`."""
    key = f"policies:published:{catalog_version()}"
    pages = cache.get(key)
    if pages is None:
        rows = Policy.objects.filter(is_published=True).only("kind", "title", "title_en")
        pages = sorted(rows, key=lambda page: _POSITION[page.kind])
        cache.set(key, pages, LIST_TIMEOUT)
    return pages


@dataclass(frozen=True)
class PolicyLink:
    kind: str  # a Policy.Kind: each protocol names it its own way
    title: str
    url: str


def policy_links(*, base_url: str) -> list[PolicyLink]:
    """Return the published pages as absolute links, titled in the active language: what agents' checkout sessions
    list (UCP's and ACP's `links`) and the product feeds' sellers (catalog.feeds.render). Addresses are under
    SHOP_BASE_URL, else `base_url` (the request's own)."""
    return [
        PolicyLink(kind=page.kind, title=page.display_title, url=shop_link(page.get_absolute_url(), base_url=base_url))
        for page in policy_list_published()
    ]
