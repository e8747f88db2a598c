import re
from urllib.parse import quote

from django.core.files.storage import FileSystemStorage, default_storage
from django.utils.encoding import filepath_to_uri
from django.utils.functional import cached_property
from django.utils.http import RFC3986_SUBDELIMS
from rest_framework import serializers

from catalog.models import Category, Product, sku_validator
from catalog.selectors import product_row_card, product_values
from mcpshop_site.api import PageQuerySerializer, WholeNumberField

MAX_CENTS = 2**31 - 1  # the widest value a PositiveIntegerField holds on every database
MAX_TEXT = 10_000

_SLUG = re.compile(r"[-\w]{1,64}")
_SKU_MARK = "sku0mark0"  # a stand-in SKU that reverse() leaves untouched


class CategorySerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    parent = serializers.SlugField(source="parent__slug", allow_null=True, help_text="The parent category's slug.")
    product_count = serializers.IntegerField(help_text="Active products directly in this category.")


class ProductSerializer(serializers.Serializer):
    """A product as clients see it, built by hand from a `.values()` row (or a Product) to keep lists cheap."""

    sku = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    price_cents = serializers.IntegerField()
    price = serializers.CharField(help_text="The price for people, in the shop's currency, e.g. ¥128.00.")
    stock = serializers.IntegerField()
    category = serializers.SlugField(help_text="The category's slug.")
    description = serializers.CharField()
    description_en = serializers.CharField()
    image_url = serializers.URLField(allow_null=True)
    url = serializers.URLField(help_text="The product's storefront page.")

    def to_representation(self, product):
        row = product if isinstance(product, dict) else product_values(product)
        image = row["image"]
        return product_row_card(
            row, image_url=self._absolute(self._image_url(image)) if image else None, url=self._page_url(row["sku"])
        )

    @cached_property
    def _origin(self) -> str:
        """The request's scheme and host: checked and built once per response, not once per row."""
        return self.context["request"].build_absolute_uri("/")[:-1]

    @cached_property
    def _media_base(self) -> str | None:
        """The storage's base URL if it is a file system storage (looked up once per response), else None."""
        return default_storage.base_url if isinstance(default_storage, FileSystemStorage) else None

    def _image_url(self, name: str) -> str:
        """Return default_storage.url(name).

        A file system storage joins its base URL and the quoted name with urljoin(), which costs more than
        the rest of the row; for a name without empty or dot segments (nothing for urljoin to resolve) the
        join is the two strings end to end.
        """
        path = filepath_to_uri(name).lstrip("/")
        if self._media_base is not None and "//" not in path and "/." not in "/" + path:
            return self._media_base + path
        return default_storage.url(name)

    def _absolute(self, url: str) -> str:
        """Return `url` (a path, or already absolute, e.g. on a CDN) as request.build_absolute_uri() would."""
        return self._origin + url if url.startswith("/") and not url.startswith("//") else url

    def _page_url(self, sku: str) -> str:
        """Return the absolute Product.get_absolute_url() for this SKU.

        A list reuses this serializer for every row, so the URL pattern is looked up once per response
        (reversing per row costs more than all the rest of the row).
        """
        if not hasattr(self, "_url_parts"):
            prefix, found, suffix = Product(sku=_SKU_MARK).get_absolute_url().partition(_SKU_MARK)
            self._url_parts = (self._origin + prefix, suffix) if found else (self._origin, None)
        start, end = self._url_parts
        if end is None:
            return start + Product(sku=sku).get_absolute_url()
        return start + quote(sku, safe=RFC3986_SUBDELIMS + "~:@") + end  # as reverse() quotes


class ProductDetailSerializer(ProductSerializer):
    is_active = serializers.BooleanField()

    def to_representation(self, product):
        return {**super().to_representation(product), "is_active": product.is_active}


class ProductListQuerySerializer(PageQuerySerializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200, help_text="Keywords.")
    category = serializers.SlugField(
        required=False, allow_blank=True, max_length=64, help_text="A category slug; includes its children."
    )
    min_price = WholeNumberField(required=False, min_value=0, max_value=MAX_CENTS, help_text="In cents.")
    max_price = WholeNumberField(required=False, min_value=0, max_value=MAX_CENTS, help_text="In cents.")
    in_stock = serializers.BooleanField(required=False, default=False)
    mode = serializers.ChoiceField(
        choices=["keyword", "semantic", "hybrid"],
        default="keyword",
        help_text="`keyword`: every word must match (the database's full-text index); `semantic`: nearest in "
        "meaning, any language; `hybrid`: both rankings fused. Without a working embedding model `semantic` "
        "answers 400 `search_mode_unavailable` and `hybrid` returns the keyword matches.",
    )


class CategorySlugField(serializers.SlugRelatedField):
    """A category by slug; text that cannot be a slug is refused before any query (PostgreSQL rejects NUL)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and not _SLUG.fullmatch(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=data[:64])
        return super().to_internal_value(data)


class ProductWriteSerializer(serializers.Serializer):
    """The fields staff may set on a product; PATCH takes any subset of them."""

    name = serializers.CharField(max_length=200)
    name_en = serializers.CharField(max_length=200, required=False, allow_blank=True)
    price_cents = WholeNumberField(min_value=0, max_value=MAX_CENTS)
    stock = WholeNumberField(min_value=0, max_value=MAX_CENTS, required=False)
    description = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)
    description_en = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False, default=True)
    category = CategorySlugField(slug_field="slug", queryset=Category.objects.all(), help_text="The category's slug.")


class ProductCreateSerializer(ProductWriteSerializer):
    sku = serializers.CharField(max_length=32, validators=[sku_validator])
