import functools
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from catalog.management.commands import seed_demo
from catalog.management.demo_images import draw_product_image
from catalog.models import Category, Product
from catalog.search import product_search

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")
_drawn_once = functools.cache(draw_product_image)


@pytest.fixture
def media(settings, tmp_path, monkeypatch):
    """Write pictures to a temporary MEDIA_ROOT; draw each distinct picture once per test run."""
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(seed_demo, "draw_product_image", _drawn_once)
    return tmp_path


def seed(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_loads_a_bilingual_catalog_with_a_picture_for_every_product(media):
    _, err = seed()

    assert "Loading the demo catalog [" in err and "100%" in err  # the progress bar

    products = list(Product.objects.select_related("category"))
    assert len(products) >= 60
    assert len({product.category_id for product in products}) >= 6
    assert len({product.slug for product in products}) == len(products)
    for product in products:
        assert CJK.search(product.name) and CJK.search(product.description), product.sku
        assert product.name_en and product.description_en and not CJK.search(product.name_en + product.description_en)
        assert product.description.count("。") >= 2 and product.description_en.count(". ") >= 1, product.sku
        assert 100 <= product.price_cents < 1_000_000 and product.is_active
        with Image.open(media / product.image.name) as picture:
            assert picture.size == (600, 600)
    assert sum(p.stock == 0 for p in products) >= 3
    assert sum(1 <= p.stock <= 3 for p in products) >= 3
    assert sum(p.is_featured for p in products) >= 5
    assert Category.objects.get(slug="running-shoes").parent.slug == "sports"


def test_the_demo_products_are_found_like_any_other(media):
    seed()
    assert [p.sku for p in product_search(query="龙井", mode="keyword")[:10]] == ["TEA-001"]
    assert "RUN-005" in {p.sku for p in product_search(query="running shoe", mode="keyword", category="sports")[:10]}


def test_running_it_again_duplicates_nothing_and_keeps_live_data(media):
    seed()
    Product.objects.filter(sku="TEA-001").update(stock=7, price_cents=50000)
    files = sorted(path.name for path in (media / "products").iterdir())

    out, _ = seed()

    assert "0 created" in out
    assert Product.objects.count() == len(seed_demo.PRODUCTS)
    assert Category.objects.count() == len(seed_demo.CATEGORIES)
    assert Product.objects.values_list("stock", "price_cents").get(sku="TEA-001") == (7, 50000)
    assert sorted(path.name for path in (media / "products").iterdir()) == files


def test_a_missing_picture_is_drawn_again_under_the_same_name(media):
    seed()
    product = Product.objects.get(sku="COF-001")
    (media / product.image.name).unlink()

    out, _ = seed()

    assert "1 pictures redrawn" in out
    product.refresh_from_db()
    assert product.image.name == "products/cof-001.webp" and (media / product.image.name).is_file()


def test_if_empty_leaves_a_shop_with_products_alone(media, make_product):
    make_product("MINE-1")
    out, _ = seed("--if-empty")
    assert "nothing to do" in out
    assert list(Product.objects.values_list("sku", flat=True)) == ["MINE-1"]


def test_if_empty_fills_an_empty_shop(media):
    seed("--if-empty")
    assert Product.objects.count() >= 60


def test_products_adds_that_many_benchmark_products_each_time(media):
    _, progress = seed("--products", "500", "--batch-size", "200")
    bench = Product.objects.filter(sku__startswith="BENCH-")
    assert bench.count() == 500
    assert "100%" in progress and "500/500" in progress

    seed("--products", "500")

    assert bench.count() == 1000
    assert sorted(bench.values_list("sku", flat=True))[::999] == ["BENCH-000001", "BENCH-001000"]
    assert Product.objects.count() == 1000 + len(seed_demo.PRODUCTS)
    sample = bench.select_related("category").order_by("?").first()
    assert CJK.search(sample.name) and sample.name_en and sample.category.products.exists()
    assert (media / sample.image.name).is_file()
    assert bench.filter(stock=0).exists() and bench.filter(stock__gt=0).exists()


def test_negative_counts_are_refused(media):
    with pytest.raises(CommandError, match="--products"):
        seed("--products", "-1")
