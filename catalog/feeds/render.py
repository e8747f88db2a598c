"""Catalog rows as feed lines: ACP `Product` objects (acp-spec schema.feed.json), one JSON text per line.

The shop has no variants: each product is one `Product` with one `Variant`, both identified by the SKU,
which is the item id `POST /checkout_sessions` takes. Rows come from `.values(*FEED_COLUMNS)`, so a feed of
any size is rendered without model instances.
"""

import json
import re

from django.conf import settings

from catalog.links import ProductLinks
from catalog.models import _in_language

# feed id (a language of settings.LANGUAGES) -> the FeedEntry column holding its lines
FEEDS = {"zh-hans": "line_zh_hans", "en": "line_en"}

FEED_COLUMNS = (
    "pk",
    "sku",
    "name",
    "name_en",
    "description",
    "description_en",
    "price_cents",
    "stock",
    "image",
    "is_active",
    "category__name",
    "category__name_en",
    "category__parent__name",
    "category__parent__name_en",
)


def _availability(row: dict) -> dict:
    if not row["is_active"]:
        return {"available": False, "status": "discontinued"}
    if row["stock"] > 0:
        return {"available": True, "status": "in_stock"}
    return {"available": False, "status": "out_of_stock"}


def _category(row: dict, language: str) -> str:
    """Return the product's shelf as a path, "Parent > Child", in `language`."""
    shelf = _in_language(row["category__name"], row["category__name_en"], language)
    if row["category__parent__name"] is None:
        return shelf
    return f"{_in_language(row['category__parent__name'], row['category__parent__name_en'], language)} > {shelf}"


def feed_product(row: dict, *, language: str, links: ProductLinks) -> dict:
    """Return a `.values(*FEED_COLUMNS)` row as a feed `Product` in `language` (English falls back to Chinese)."""
    title = _in_language(row["name"], row["name_en"], language)
    page = links.page(row["sku"])
    product = {"id": row["sku"], "title": title}
    description = _in_language(row["description"], row["description_en"], language)
    if description:
        product["description"] = {"plain": description}
    product["url"] = page
    if row["image"]:
        product["media"] = [{"type": "image", "url": links.image(row["image"]), "alt_text": title}]
    product["variants"] = [
        {
            "id": row["sku"],
            "title": title,
            "url": page,
            "price": {"amount": row["price_cents"], "currency": settings.SHOP_CURRENCY},
            "availability": _availability(row),
            "categories": [{"value": _category(row, language), "taxonomy": "merchant"}],
        }
    ]
    return product


# Line breaks JSON leaves raw in strings, which readers that split on every Unicode line break (Python's
# str.splitlines, JavaScript before ES2019) would cut a line at: written escaped, as the JSON they are anyway.
_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})
_BREAK = re.compile("[\x85\u2028\u2029]")


def feed_line(row: dict, *, language: str, links: ProductLinks) -> str:
    """Return the row's feed `Product` as one line of JSON: no character in it is a line break to any reader."""
    product = feed_product(row, language=language, links=links)
    line = json.dumps(product, ensure_ascii=False, separators=(",", ":"))
    return line.translate(_BREAKS) if _BREAK.search(line) else line  # translate() is slow: only when needed
