from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from catalog.exceptions import ProductNotFound
from catalog.models import Category, Product
from mcpshop_site.money import money

PRODUCT_SORTS = {
    "newest": ("-created_at", "-id"),
    "price": ("price_cents", "id"),
    "-price": ("-price_cents", "-id"),
    "name": ("name", "id"),
}


def category_list() -> QuerySet[Category]:
    """Return every category with the number of active products on its page (its own and its children's)."""
    on_page = (
        Product.objects.filter(Q(category_id=OuterRef("pk")) | Q(category__parent_id=OuterRef("pk")), is_active=True)
        .order_by()
        .annotate(one=Value(1))
        .values("one")
        .annotate(count=Count("*"))
        .values("count")
    )
    return Category.objects.annotate(product_count=Coalesce(Subquery(on_page), 0)).order_by("position", "name")


def category_get(*, slug: str) -> Category:
    return Category.objects.get(slug=slug)


def product_list(
    *,
    category: str | None = None,
    min_price: int | None = None,
    max_price: int | None = None,
    in_stock: bool = False,
    sort: str = "newest",
) -> QuerySet[Product]:
    """Return active products matching the filters; `category` is a slug and includes its children."""
    products = Product.objects.filter(is_active=True).select_related("category")
    if category:
        products = products.filter(Q(category__slug=category) | Q(category__parent__slug=category))
    if min_price is not None:
        products = products.filter(price_cents__gte=min_price)
    if max_price is not None:
        products = products.filter(price_cents__lte=max_price)
    if in_stock:
        products = products.filter(stock__gt=0)
    return products.order_by(*PRODUCT_SORTS.get(sort, PRODUCT_SORTS["newest"]))


def product_get(*, sku: str, include_inactive: bool = False) -> Product:
    """Return the product with this SKU, or raise ProductNotFound."""
    if len(sku) > 32 or "\x00" in sku:  # can never match, and PostgreSQL refuses NUL outright
        raise ProductNotFound(sku=sku[:32])
    products = Product.objects.select_related("category")
    if not include_inactive:
        products = products.filter(is_active=True)
    try:
        return products.get(sku=sku)
    except Product.DoesNotExist:
        raise ProductNotFound(sku=sku) from None


def product_by_sku(*, skus) -> dict[str, Product]:
    """Return the active products with these SKUs by SKU, in one query (the cards of a restored chat)."""
    if not skus:
        return {}
    return {p.sku: p for p in Product.objects.filter(sku__in=list(skus), is_active=True).select_related("category")}


def product_featured(*, limit: int = 8) -> QuerySet[Product]:
    """Return featured products in stock, newest first."""
    return product_list(in_stock=True).filter(is_featured=True)[:limit]


def product_list_low_stock(*, threshold: int) -> QuerySet[Product]:
    """Return the active products with `threshold` units or fewer on the shelf, the emptiest first."""
    return Product.objects.filter(is_active=True, stock__lte=threshold).order_by("stock", "sku")


def product_stock_locked(*, product_id: int) -> int | None:
    """Return a product's stock, its row locked until the caller's transaction ends (None if it is gone)."""
    return Product.objects.select_for_update().filter(pk=product_id).values_list("stock", flat=True).first()


# The product's shape, for every door (the API, the tools, MCP, the chat's events and the widget) ---

SNIPPET_CHARS = 160  # a description in a list
DESCRIPTION_CHARS = 1000  # one product's description, for the assistant

# The columns a product list reads: rows of `.values(*PRODUCT_VALUES)` become cards without model instances.
PRODUCT_VALUES = (
    "sku",
    "name",
    "name_en",
    "price_cents",
    "stock",
    "category__slug",
    "description",
    "description_en",
    "image",
)


def product_values(product: Product) -> dict:
    """Return a Product as a `.values(*PRODUCT_VALUES)` row."""
    return {
        **{field: getattr(product, field) for field in PRODUCT_VALUES if field not in ("category__slug", "image")},
        "category__slug": product.category.slug,
        "image": product.image.name,
    }


def _snippet(text: str, limit: int | None) -> str:
    if limit is None:
        return text
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def product_row_card(row: dict, *, image_url, url: str, description_chars: int | None = None) -> dict:
    """Return a product's card from a `.values(*PRODUCT_VALUES)` row; descriptions cut to `description_chars`."""
    return {
        "sku": row["sku"],
        "name": row["name"],
        "name_en": row["name_en"],
        "category": row["category__slug"],
        "price_cents": row["price_cents"],
        "price": money(row["price_cents"]),
        "stock": row["stock"],
        "description": _snippet(row["description"], description_chars),
        "description_en": _snippet(row["description_en"], description_chars),
        "image_url": image_url,
        "url": url,
    }


def product_card(product: Product, *, description_chars: int | None = SNIPPET_CHARS) -> dict:
    """Return a product's card with its image and page as site paths (the tools, MCP, the chat's events)."""
    return product_row_card(
        product_values(product),
        image_url=product.image.url if product.image else "",
        url=product.get_absolute_url(),
        description_chars=description_chars,
    )
