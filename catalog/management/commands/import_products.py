from catalog.management.importing import ImportCommand, RowError, flag, parse_cells, whole_number
from catalog.models import Category, Product
from catalog.services import product_create, product_stock_from_file, product_update

COLUMNS = (
    "sku",
    "name",
    "name_en",
    "category",
    "price_cents",
    "stock",
    "description",
    "description_en",
    "is_active",
    "is_featured",
)
NEW_PRODUCT_NEEDS = ("name", "category", "price_cents")


class Command(ImportCommand):
    help = (
        "Create or update products from a CSV or JSON file, matched by SKU. Columns (CSV header or JSON keys): "
        f"{', '.join(COLUMNS)}; category is a category slug, prices are in cents. A new product needs name, "
        "category and price_cents; for an existing one only the given values change (an empty CSV cell or a "
        "JSON null leaves the value as it is). Stock counts from the last import: an existing product's stock "
        "moves by the difference between the file's figure and the one the last import gave, so units sold "
        "since stay sold; --set-stock sets the figures as they are. Every row is checked on its own: bad rows "
        "are listed with the reason and not imported, good rows are. Products go through the catalog "
        "services, so they are searchable at once. Importing the same file again changes nothing."
    )
    columns = COLUMNS
    key_columns = ("sku",)
    key_label = "SKU"
    noun, singular = "products", "product"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--set-stock",
            action="store_true",
            help="Set existing products' stock to the file's figures (a count of the shelves), instead of moving "
            "it by the change since the last import. Units sold meanwhile are not counted: use it right after a count.",
        )

    def prepare(self, **options) -> None:
        self.categories = {category.slug: category for category in Category.objects.all()}

    def import_row(self, key: str, row: dict, *, set_stock: bool, **options) -> str:
        """Create or update one product; return "created", "updated" or "unchanged", or raise RowError."""
        if not key:
            raise RowError({"sku": "missing"})
        values = parse_cells(row, self._parsers())
        product = Product.objects.filter(sku=key).first()
        if product is None:
            missing = [name for name in NEW_PRODUCT_NEEDS if name not in values]
            if missing:
                raise RowError(dict.fromkeys(missing, "required for a new product"))
            product = product_create(sku=key, **values)
            product_stock_from_file(product_id=product.pk, stock=product.stock, absolute=True)
            return "created"
        stock = values.pop("stock", None)
        changes = {name: value for name, value in values.items() if _differs(product, name, value)}
        moved = stock is not None and _stock_moves(product, stock, absolute=set_stock)
        if not changes and not moved:
            return "unchanged"
        if moved:
            product_stock_from_file(product_id=product.pk, stock=stock, absolute=set_stock)
        if changes:
            product_update(product=product, **changes)
        return "updated"

    def _parsers(self) -> dict:
        return {
            "sku": None,
            "category": self._category,
            "price_cents": whole_number,
            "stock": whole_number,
            "is_active": flag,
            "is_featured": flag,
        }

    def _category(self, raw) -> Category:
        slug = str(raw).strip()
        if slug not in self.categories:
            raise ValueError(f"no category has the slug {slug!r}")
        return self.categories[slug]


def _stock_moves(product: Product, stock: int, *, absolute: bool) -> bool:
    """Return whether the file's stock figure changes anything: the stock, or the figure the last import gave."""
    if absolute:
        return (product.stock, product.imported_stock) != (stock, stock)
    return product.imported_stock != stock


def _differs(product: Product, name: str, value) -> bool:
    if name == "category":
        return product.category_id != value.pk  # without loading the current category
    return getattr(product, name) != value
