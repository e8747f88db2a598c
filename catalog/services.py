from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.text import slugify

from catalog.exceptions import DuplicateSku, InsufficientStock, ProductNotFound
from catalog.models import Category, Product
from mcpshop_site.exceptions import InvalidInput

PRODUCT_FIELDS = {
    "name",
    "name_en",
    "category",
    "price_cents",
    "stock",
    "description",
    "description_en",
    "image",
    "is_active",
    "is_featured",
}


def _slug_for(product: Product) -> str:
    return (slugify(product.name_en or product.name, allow_unicode=True) or product.sku.lower())[:220]


def _validate(product: Product, *, exclude: list[str]) -> None:
    try:
        product.full_clean(exclude=exclude, validate_unique=False)
    except ValidationError as error:
        fields = error.message_dict
        first = next(iter(fields))
        raise InvalidInput(f"{first}: {fields[first][0]}", fields=fields) from None


@transaction.atomic
def product_create(*, sku: str, name: str, category: Category, price_cents: int, stock: int = 0, **fields) -> Product:
    """Create a product; a taken SKU raises DuplicateSku."""
    product = Product(sku=sku, name=name, category=category, price_cents=price_cents, stock=stock)
    for field, value in fields.items():
        if field not in PRODUCT_FIELDS:
            raise TypeError(f"product_create() got an unexpected field {field!r}")
        setattr(product, field, value)
    product.slug = _slug_for(product)
    _validate(product, exclude=["slug", "image"])
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError:
        if Product.objects.filter(sku=sku).exists():
            raise DuplicateSku(sku=sku) from None
        raise
    return product


@transaction.atomic
def product_update(*, product: Product, **fields) -> Product:
    """Change the given fields of a product (not its SKU).

    Only those columns are written: a stale copy must not put back the stock sold since it was read.
    """
    for field, value in fields.items():
        if field not in PRODUCT_FIELDS:
            raise TypeError(f"product_update() got an unexpected field {field!r}")
        setattr(product, field, value)
    product.slug = _slug_for(product)
    _validate(product, exclude=["slug", "image", "sku"])
    product.save(update_fields=[*fields, "slug", "updated_at"])
    return product


def product_delete(*, product: Product) -> None:
    product.delete()


def product_reserve_stock(*, product_id: int, quantity: int, sku: str = "") -> None:
    """Take `quantity` units off the shelf in one conditional UPDATE, or raise InsufficientStock.

    The `stock >= quantity` condition is checked by the database at write time, so concurrent
    buyers can never take more than there is, on every supported database.
    """
    taken = Product.objects.filter(pk=product_id, is_active=True, stock__gte=quantity).update(
        stock=F("stock") - quantity
    )
    if taken != 1:
        row = Product.objects.filter(pk=product_id).values("sku", "stock", "is_active").first()
        if row is None or not row["is_active"]:
            raise ProductNotFound(sku=sku or (row or {}).get("sku", ""))
        raise InsufficientStock(sku=row["sku"], requested=quantity, available=row["stock"])


def product_release_stock(*, product_id: int, quantity: int) -> None:
    """Put `quantity` units back on the shelf (a cancelled order, a restock)."""
    Product.objects.filter(pk=product_id).update(stock=F("stock") + quantity)
