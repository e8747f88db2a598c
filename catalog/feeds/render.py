"""Catalog rows as feed lines: ACP `Product` objects (acp-spec schema.feed.json), one JSON text per line.

The shop has no variants: each product is one `Product` with one `Variant`, both identified by the SKU,
which is the item id `POST /checkout_sessions` takes. Rows come from `.values(*FEED_COLUMNS)`, so a feed of
any size is rendered without model instances.
"""

import json
from json.encoder import encode_basestring

from django.conf import settings
from django.utils import translation

from catalog.links import ProductLinks
from policies.models import Policy
from policies.selectors import policy_links

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

_string = encode_basestring  # a str as json.dumps(..., ensure_ascii=False) writes it (in C)

# Line breaks JSON leaves raw in strings, which readers that split on every Unicode line break (Python's
# str.splitlines, JavaScript before ES2019) would cut a line at: written escaped, as the JSON they are anyway.
_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})

# Policy.Kind -> the type of its seller link, in the feed schema's words (Link.type)
LINK_TYPES = {
    Policy.Kind.SHIPPING: "shipping_policy",
    Policy.Kind.RETURNS: "refund_policy",
    Policy.Kind.TERMS: "terms_of_service",
    Policy.Kind.PRIVACY: "privacy_policy",
}

_AVAILABILITY = {  # (is_active, in stock) -> the variant's availability
    (False, False): '{"available":false,"status":"discontinued"}',
    (False, True): '{"available":false,"status":"discontinued"}',
    (True, True): '{"available":true,"status":"in_stock"}',
    (True, False): '{"available":false,"status":"out_of_stock"}',
}


class FeedLines:
    """Render `.values(*FEED_COLUMNS)` rows as their lines in every feed (FEEDS), for one run over many rows.

    A line is the product's feed `Product`, which tests/catalog/test_feed.py writes out as an object, exactly as
    `json.dumps(product, ensure_ascii=False, separators=(",", ":"))` writes it, line breaks escaped:

        {"id", "title", "description": {"plain"} (when there is one), "url",
         "media": [{"type": "image", "url", "alt_text": title}] (when there is an image),
         "variants": [{"id", "title", "url", "price": {"amount", "currency"}, "availability": {"available", "status"},
                       "categories": [{"value": "Parent > Shelf", "taxonomy": "merchant"}],
                       "seller": {"links": [{"type", "title", "url"}]} (when a policy page is published)}]}

    English texts fall back to the Chinese ones. The lines are assembled from JSON strings encoded once each:
    what every language shares (SKU, addresses, price, availability) once per row, the shelves once per run,
    the seller (the shop's published policy pages, the same on every line) once per run;
    json.dumps of two nested objects per row cost most of a rebuild (bench B12).
    """

    def __init__(self, links: ProductLinks):
        self.links = links
        self._currency = _string(settings.SHOP_CURRENCY)
        self._english = [language.startswith("en") for language in FEEDS]
        self._shelves = {}  # the row's four category names -> (Chinese path, English path), encoded
        self._sellers = [self._seller(language) for language in FEEDS]

    def _seller(self, language: str) -> str:
        """Return the variants' `seller` member in a feed's language, encoded: the published policy pages as
        links (`policies.selectors.policy_links`, under the products' origin), or "" when none is published."""
        with translation.override(language):
            pages = policy_links(base_url=self.links.origin)
        if not pages:
            return ""
        links = [{"type": LINK_TYPES[page.kind], "title": page.title, "url": page.url} for page in pages]
        return ',"seller":' + json.dumps({"links": links}, ensure_ascii=False, separators=(",", ":"))

    def _shelf(self, row: dict) -> tuple[str, str]:
        key = (row["category__name"], row["category__name_en"], row["category__parent__name"])
        key += (row["category__parent__name_en"],)
        if (shelf := self._shelves.get(key)) is None:
            name, name_en, parent, parent_en = key
            paths = [name, name_en or name]
            if parent is not None:
                paths = [f"{parent} > {name}", f"{parent_en or parent} > {name_en or name}"]
            shelf = self._shelves[key] = tuple(_string(path) for path in paths)
        return shelf

    def __call__(self, row: dict) -> tuple[str, ...]:
        """Return the row's line in each feed, in the order of FEEDS."""
        sku = _string(row["sku"])
        page = _string(self.links.page(row["sku"]))
        image = _string(self.links.image(row["image"])) if row["image"] else ""
        availability = _AVAILABILITY[row["is_active"], row["stock"] > 0]
        offer = f',"price":{{"amount":{row["price_cents"]},"currency":{self._currency}}},"availability":{availability}'
        titles = [_string(row["name"])]
        titles.append(_string(row["name_en"]) if row["name_en"] else titles[0])
        descriptions = [row["description"], row["description_en"] or row["description"]]
        descriptions = [f',"description":{{"plain":{_string(text)}}}' if text else "" for text in descriptions]
        shelves = self._shelf(row)
        lines = []
        for english, seller in zip(self._english, self._sellers, strict=True):
            title, shelf = titles[english], shelves[english]
            media = f',"media":[{{"type":"image","url":{image},"alt_text":{title}}}]' if image else ""
            line = (
                f'{{"id":{sku},"title":{title}{descriptions[english]},"url":{page}{media},"variants":[{{"id":{sku},'
                f'"title":{title},"url":{page}{offer},"categories":[{{"value":{shelf},"taxonomy":"merchant"}}]{seller}}}]}}'
            )
            # translate() only when needed; three `in` find out many times faster than a regular expression
            broken = "\u2028" in line or "\u2029" in line or "\x85" in line
            lines.append(line.translate(_BREAKS) if broken else line)
        return tuple(lines)
