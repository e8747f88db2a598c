import re

from django.utils.functional import cached_property
from rest_framework import serializers

from catalog.links import ProductLinks
from catalog.models import Category, sku_validator
from catalog.selectors import product_row_card, product_values
from mcpshop_site.api import PageQuerySerializer, WholeNumberField

MAX_CENTS = 2**31 - 1  # the widest value a PositiveIntegerField holds on every database
MAX_TEXT = 10_000

_SLUG = re.compile(r"[-\w]{1,64}")


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
            row, image_url=self._links.image(image) if image else None, url=self._links.page(row["sku"])
        )

    @cached_property
    def _links(self) -> ProductLinks:
        """The request's scheme and host, checked and built once per response, not once per row."""
        return ProductLinks(self.context["request"].build_absolute_uri("/")[:-1])


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
