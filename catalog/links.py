"""Absolute addresses of product pages and images, for lists of many products (the API, the product feed)."""

from urllib.parse import quote

from django.core.files.storage import FileSystemStorage, default_storage
from django.utils.encoding import filepath_to_uri
from django.utils.http import RFC3986_SUBDELIMS

from catalog.models import Product

_SKU_MARK = "sku0mark0"  # a stand-in SKU that reverse() leaves untouched


class ProductLinks:
    """Build products' absolute page and image addresses under `origin` (a scheme and host, no slash at the end).

    Made once per list: the URL pattern and the storage are looked up once, not once per row (reversing and
    urljoin() per row cost more than all the rest of a row).
    """

    def __init__(self, origin: str):
        self.origin = origin
        self._media_base = default_storage.base_url if isinstance(default_storage, FileSystemStorage) else None
        prefix, found, suffix = Product(sku=_SKU_MARK).get_absolute_url().partition(_SKU_MARK)
        self._page_parts = (origin + prefix, suffix) if found else (origin, None)

    def page(self, sku: str) -> str:
        """Return the absolute Product.get_absolute_url() for this SKU."""
        start, end = self._page_parts
        if end is None:
            return start + Product(sku=sku).get_absolute_url()
        return start + quote(sku, safe=RFC3986_SUBDELIMS + "~:@") + end  # as reverse() quotes

    def image(self, name: str) -> str:
        """Return the absolute default_storage.url(name).

        A file system storage joins its base URL and the quoted name with urljoin(); for a name without
        empty or dot segments (nothing for urljoin to resolve) the join is the two strings end to end.
        """
        path = filepath_to_uri(name).lstrip("/")
        if self._media_base is not None and "//" not in path and "/." not in "/" + path:
            url = self._media_base + path
        else:
            url = default_storage.url(name)
        return self.origin + url if url.startswith("/") and not url.startswith("//") else url  # a CDN's stays
