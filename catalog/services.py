from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.utils.text import slugify
from django.utils.translation import gettext as _

from catalog.cache import catalog_changed
from catalog.exceptions import DuplicateSku, ImportedStockRefused, InsufficientStock, ProductNotFound
from catalog.feeds.services import feed_mark_stale, feed_stock_changed
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


@transaction.atomic
def product_stock_from_file(*, product_id: int, stock: int, absolute: bool = False) -> tuple[int, int]:
    """Apply an import file's stock figure to a product, its row locked; return (stock before, stock after).

    By default the figure counts from the one the last import gave: the stock moves by their difference, so
    the same file again changes nothing and units sold since stay sold (10 imported, 3 sold, the same file
    again: 7). A product whose stock was never imported takes the figure only if it is already its stock.
    `absolute` sets the figure as it is (a count of the shelves). Raises ImportedStockRefused with the reason.
    """
    locked = Product.objects.select_for_update().filter(pk=product_id)
    current, baseline = locked.values_list("stock", "imported_stock").get()
    if absolute or (baseline is None and stock == current):
        new = stock
    elif baseline is None:
        raise ImportedStockRefused(
            _(
                "the shop has %(current)d in stock and no import gave its stock before: setting %(stock)d "
                "could undo sales (use --set-stock to set it anyway)"
            )
            % {"current": current, "stock": stock},
            current=current,
            stock=stock,
        )
    else:
        new = current + stock - baseline
        if new < 0:
            raise ImportedStockRefused(
                _(
                    "the file lowers the stock by %(fewer)d since the last import (%(baseline)d), but only "
                    "%(current)d are left"
                )
                % {"fewer": baseline - stock, "baseline": baseline, "current": current},
                current=current,
                stock=stock,
                imported_stock=baseline,
            )
    locked.update(stock=new, imported_stock=stock)
    feed_mark_stale([product_id])
    catalog_changed()
    return current, new


def product_delete(*, product: Product) -> None:
    product.delete()


@transaction.atomic(savepoint=False)  # a transaction for the row locks; inside order_place, that one
def product_reserve_stocks(*, quantities: dict[int, int], skus: dict[int, str] | None = None) -> None:
    """Take units of several products (`{product_id: quantity}`) off the shelf, all or none.

    Two queries for any number of products: the rows are locked in primary-key order (so orders that
    share products queue instead of deadlocking, and nobody can sell them in between), checked, then
    all updated by one UPDATE. Raises ProductNotFound (gone or inactive) or InsufficientStock.
    """
    ids = sorted(quantities)
    rows = {
        row["pk"]: row
        for row in Product.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values("pk", "sku", "stock", "is_active")
    }
    for pk in ids:
        row = rows.get(pk)
        if row is None:
            raise ProductNotFound(sku=(skus or {}).get(pk, ""))
        product_check_available(sku=row["sku"], quantity=quantities[pk], stock=row["stock"], is_active=row["is_active"])
    taken = Case(*(When(pk=pk, then=Value(quantity)) for pk, quantity in quantities.items()))
    Product.objects.filter(pk__in=ids).update(stock=F("stock") - taken)
    feed_stock_changed({pk: (rows[pk]["stock"], rows[pk]["stock"] - quantities[pk]) for pk in ids})
    catalog_changed()


def product_check_available(*, sku: str, quantity: int, stock: int, is_active: bool) -> None:
    """Raise ProductNotFound if the product is off sale, InsufficientStock if fewer than `quantity` are left."""
    if not is_active:
        raise ProductNotFound(sku=sku)
    if stock < quantity:
        raise InsufficientStock(sku=sku, requested=quantity, available=stock)


@transaction.atomic(savepoint=False)  # the stock and its feed entry together
def product_release_stock(*, product_id: int, quantity: int) -> None:
    """Put `quantity` units back on the shelf (a cancelled order, a restock)."""
    Product.objects.filter(pk=product_id).update(stock=F("stock") + quantity)
    feed_mark_stale([product_id])
    catalog_changed()
