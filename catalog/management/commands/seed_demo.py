import random

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Length
from django.utils.text import slugify

from catalog.cache import catalog_changed
from catalog.management.demo_catalog import BENCH_VARIANTS, CATEGORIES, PRODUCTS, DemoCategory, DemoProduct
from catalog.management.demo_images import draw_product_image
from catalog.management.progress import Progress
from catalog.models import Category, Product
from catalog.search import sync
from catalog.services import product_create, product_update
from orders.management.demo_pricing import load_demo_pricing
from policies.management.demo_policies import load_demo_policies

BENCH_PREFIX = "BENCH-"


class Command(BaseCommand):
    help = (
        "Load the demo catalog: bilingual products in several categories, each with a picture drawn "
        "locally. Safe to run again: products are matched by SKU and kept as they are (live stock and "
        "staff edits survive); only a missing picture is drawn again. With --products N, also add N "
        "generated products (SKUs BENCH-000001, ...) in bulk for benchmarks."
    )

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="Do nothing if there is any product already.")
        parser.add_argument(
            "--products",
            type=int,
            default=0,
            metavar="N",
            help="Also add N generated benchmark products (bulk inserts that share one picture per category).",
        )
        parser.add_argument("--batch-size", type=int, default=2000, help="Rows per bulk insert (default 2000).")

    def handle(self, *args, if_empty: bool, products: int, batch_size: int, **options):
        if products < 0 or batch_size < 1:
            raise CommandError("--products must be 0 or more and --batch-size at least 1.")
        if if_empty and Product.objects.exists():
            self.stdout.write("The catalog already has products: nothing to do.")
            return
        categories = self._load_categories()
        created, redrawn = self._load_products(categories)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo catalog: {len(PRODUCTS)} products in {len(categories)} categories "
                f"({created} created, {len(PRODUCTS) - created} already there, {redrawn} pictures redrawn)."
            )
        )
        self.stdout.write(self.style.SUCCESS(load_demo_pricing()))
        self.stdout.write(self.style.SUCCESS(load_demo_policies()))
        if products:
            first, last = self._add_bench_products(products, categories, batch_size)
            self.stdout.write(self.style.SUCCESS(f"Added {products:,} benchmark products, {first} to {last}."))
            # Bulk inserts skip the per-product search hooks: keyword documents are caught up here
            # (MariaDB/MySQL; triggers did it elsewhere), vectors by `embed_products`.
            sync.backfill_documents()
            self.stdout.write("Run `python manage.py embed_products` to make them searchable by meaning.")

    def _load_categories(self) -> dict[str, Category]:
        categories = {}
        for position, demo in enumerate(CATEGORIES):
            category = Category.objects.filter(Q(slug=demo.slug) | Q(name=demo.name)).first()
            if category is None:
                category = Category.objects.create(
                    name=demo.name,
                    name_en=demo.name_en,
                    slug=demo.slug,
                    parent=categories.get(demo.parent),
                    position=position,
                )
            categories[demo.slug] = category
        return categories

    @transaction.atomic
    def _load_products(self, categories: dict[str, Category]) -> tuple[int, int]:
        demo_categories = {demo.slug: demo for demo in CATEGORIES}
        existing = {product.sku: product for product in Product.objects.filter(sku__in=[p.sku for p in PRODUCTS])}
        created = redrawn = 0
        with Progress(len(PRODUCTS), "Loading the demo catalog", stream=self.stderr) as progress:
            for index, demo in enumerate(PRODUCTS):
                product = existing.get(demo.sku)
                if product is None:
                    product_create(
                        sku=demo.sku,
                        name=demo.name,
                        name_en=demo.name_en,
                        category=categories[demo.category],
                        price_cents=demo.price_cents,
                        stock=demo.stock,
                        description=demo.description,
                        description_en=demo.description_en,
                        is_featured=demo.featured,
                        image=self._picture(demo, demo_categories[demo.category], index),
                    )
                    created += 1
                elif not (product.image and product.image.storage.exists(product.image.name)):
                    product_update(product=product, image=self._picture(demo, demo_categories[demo.category], index))
                    redrawn += 1
                progress.advance()
        return created, redrawn

    def _picture(self, demo: DemoProduct, category: DemoCategory, index: int) -> ContentFile:
        """Draw the product's picture, replacing a stale file of the same name (not a `_x7Gh2` copy)."""
        name = f"{demo.sku.lower()}.webp"
        self._forget_file(f"products/{name}")
        data = draw_product_image(
            name=demo.name,
            name_en=demo.name_en,
            label=f"{category.name} · {category.name_en}",
            colour=category.colour,
            icon=category.icon,
            variant=index,
        )
        return ContentFile(data, name=name)

    def _category_picture(self, demo: DemoCategory) -> str:
        """Return the storage name of the category's shared picture, drawing it if it is missing."""
        storage = Product._meta.get_field("image").storage
        name = f"products/category-{demo.slug}.webp"
        if not storage.exists(name):
            data = draw_product_image(
                name=demo.name, name_en=demo.name_en, label="MCPshop", colour=demo.colour, icon=demo.icon
            )
            name = storage.save(name, ContentFile(data))
        return name

    @staticmethod
    def _forget_file(name: str) -> None:
        storage = Product._meta.get_field("image").storage
        if storage.exists(name):
            storage.delete(name)

    def _add_bench_products(self, count: int, categories: dict[str, Category], batch_size: int) -> tuple[str, str]:
        """Bulk-insert `count` variants of the demo products with the next free BENCH- numbers.

        These bypass product_create (it would take minutes for 100,000 rows), so anything it triggers
        per product, such as search indexing, must be caught up by that feature's own backfill.
        """
        pictures = {demo.slug: self._category_picture(demo) for demo in CATEGORIES}
        start = self._last_bench_number() + 1
        random_ = random.Random(start)
        slugs: dict[tuple[str, str], str] = {}
        with Progress(count, "Adding products", stream=self.stderr) as progress:
            for batch_start in range(start, start + count, batch_size):
                rows = []
                for number in range(batch_start, min(batch_start + batch_size, start + count)):
                    demo = PRODUCTS[number % len(PRODUCTS)]
                    variant, variant_en = BENCH_VARIANTS[(number // len(PRODUCTS)) % len(BENCH_VARIANTS)]
                    name_en = f"{demo.name_en}, {variant_en}"
                    slug = slugs.setdefault((demo.sku, variant_en), slugify(name_en)[:220])
                    rows.append(
                        Product(
                            sku=f"{BENCH_PREFIX}{number:06d}",
                            name=f"{demo.name} {variant}",
                            name_en=name_en,
                            slug=slug,
                            category=categories[demo.category],
                            price_cents=max(900, round(demo.price_cents * random_.uniform(0.7, 1.6), -3) - 100),
                            stock=0 if random_.random() < 0.05 else random_.randint(1, 500),
                            description=demo.description,
                            description_en=demo.description_en,
                            image=pictures[demo.category],
                        )
                    )
                with transaction.atomic():
                    Product.objects.bulk_create(rows)
                    catalog_changed()  # bulk_create sends no signal
                progress.advance(len(rows))
        return f"{BENCH_PREFIX}{start:06d}", f"{BENCH_PREFIX}{start + count - 1:06d}"

    @staticmethod
    def _last_bench_number() -> int:
        last = (
            Product.objects.filter(sku__startswith=BENCH_PREFIX)
            .order_by(Length("sku").desc(), "-sku")
            .values_list("sku", flat=True)
            .first()
        )
        return int(last.removeprefix(BENCH_PREFIX)) if last else 0
