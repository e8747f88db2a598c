from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from catalog.exceptions import ProductNotFound
from catalog.models import Category, Product

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


def product_featured(*, limit: int = 8) -> QuerySet[Product]:
    """Return featured products in stock, newest first."""
    return product_list(in_stock=True).filter(is_featured=True)[:limit]


def product_list_low_stock(*, threshold: int) -> QuerySet[Product]:
    """Return the active products with `threshold` units or fewer on the shelf, the emptiest first."""
    return Product.objects.filter(is_active=True, stock__lte=threshold).order_by("stock", "sku")


def product_stock_locked(*, product_id: int) -> int | None:
    """Return a product's stock, its row locked until the caller's transaction ends (None if it is gone)."""
    return Product.objects.select_for_update().filter(pk=product_id).values_list("stock", flat=True).first()
