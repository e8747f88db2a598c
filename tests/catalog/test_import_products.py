import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_tasks_db.models import DBTaskResult

from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from catalog.models import Category, Product
from catalog.search import product_search, sync
from orders.services import order_place
from tests.conftest import CONTACT
from tests.jobs import queued

pytestmark = pytest.mark.django_db


def to_embed() -> set[int]:
    return {pk for (ids,) in queued(sync.embed) for pk in ids}


HEADER = "sku,name,name_en,category,price_cents,stock,description,description_en,is_active,is_featured\n"


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run the command as if each row's transaction committed; return (stdout, stderr, error or None)."""

    def run(path, *args):
        out, err = StringIO(), StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            try:
                call_command("import_products", str(path), *args, stdout=out, stderr=err)
            except CommandError as error:
                return out.getvalue(), err.getvalue(), str(error)
        return out.getvalue(), err.getvalue(), None

    return run


def write(tmp_path, text, name="products.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def snapshot():
    return {
        row["sku"]: row
        for row in Product.objects.values(
            "sku", "name", "name_en", "category__slug", "price_cents", "stock", "is_active", "updated_at"
        )
    }


def test_good_rows_create_bilingual_products_that_search_finds_at_once(run, tmp_path, category):
    path = write(
        tmp_path,
        HEADER
        + "TEA-100,碧螺春,Biluochun,tea,8800,12,洞庭山的绿茶,Green tea from Dongting,yes,true\n"
        + 'TEA-101,白毫银针,"Silver Needle, white tea",tea,16800,0,,,0,no\n',
    )
    out, err, error = run(path)

    assert error is None
    assert "2 rows: 2 created, 0 updated, 0 unchanged, 0 rejected." in out
    assert "Importing products [" in err and "100%" in err  # the progress bar
    tea = Product.objects.get(sku="TEA-100")
    assert (tea.name, tea.name_en, tea.category, tea.price_cents, tea.stock) == (
        "碧螺春",
        "Biluochun",
        category,
        8800,
        12,
    )
    assert (tea.description_en, tea.is_active, tea.is_featured) == ("Green tea from Dongting", True, True)
    white = Product.objects.get(sku="TEA-101")
    assert (white.name_en, white.is_active, white.description) == ("Silver Needle, white tea", False, "")
    assert product_search(query="碧螺春", mode="keyword")[:10] == [tea]  # keyword search, right away
    assert {tea.pk, white.pk} <= to_embed()  # and queued to be embedded for search by meaning


def test_an_update_changes_only_the_given_values(run, tmp_path, make_product):
    product = make_product("TEA-200", name="龙井", name_en="Longjing", price_cents=1000, stock=3)
    path = write(tmp_path, "sku,stock,name_en,price_cents\nTEA-200,40,,1200\n")  # an empty cell: keep the name
    out, _, error = run(path, "--set-stock")  # its stock was never imported: set it explicitly

    assert error is None and "1 updated" in out
    product.refresh_from_db()
    assert (product.name, product.name_en, product.price_cents, product.stock) == ("龙井", "Longjing", 1200, 40)


def test_bad_rows_are_reported_and_skipped_and_good_rows_imported(run, tmp_path, make_product):
    existing = make_product("TEA-300", name="旧名", price_cents=500, stock=5)
    before = snapshot()
    path = write(
        tmp_path,
        HEADER
        + "GOOD-1,好茶,Good tea,tea,1000,5,,,,\n"  # line 2
        + "BAD-1,坏茶,,coffee,1000,5,,,,\n"  # line 3: no such category
        + "BAD-2,坏茶,,tea,-5,1.5,,,maybe,\n"  # line 4: three bad cells
        + "BAD-3,,,tea,,,,,,\n"  # line 5: a new product needs a name and a price
        + "TEA-300,新名,,tea,abc,,,,,\n"  # line 6: an existing product, a bad price: not touched
        + "GOOD-1,又一次,,tea,1,1,,,,\n"  # line 7: the same SKU twice
        + "BAD 4,坏茶,,tea,1000,5,,,,\n"  # line 8: a space in the SKU (the model's validator)
        + "GOOD-2,好茶二,,tea,2000,0,,,,\n",  # line 9
    )
    out, err, error = run(path)

    assert "8 rows: 2 created, 0 updated, 0 unchanged, 6 rejected." in out
    assert error.startswith("6 rows were not imported")
    assert "line 3 (SKU BAD-1): category: no category has the slug 'coffee'" in err
    assert "line 4 (SKU BAD-2): price_cents: '-5' is not a whole number, 0 or more; stock: '1.5'" in err
    assert "is_active: 'maybe' is not one of true/false" in err
    assert "line 5 (SKU BAD-3): name: required for a new product; price_cents: required" in err
    assert "line 6 (SKU TEA-300): price_cents: 'abc'" in err
    assert "line 7 (SKU GOOD-1): sku: GOOD-1 is already on line 2 of this file" in err
    assert "line 8 (SKU BAD 4): sku:" in err
    after = snapshot()
    assert set(after) == {*before, "GOOD-1", "GOOD-2"}
    assert after["TEA-300"] == before["TEA-300"]
    existing.refresh_from_db()
    assert existing.name == "旧名"


def test_the_same_file_twice_changes_nothing_the_second_time(run, tmp_path, category):
    path = write(tmp_path, HEADER + "TEA-400,普洱,Pu'er,tea,9900,7,,,true,false\nTEA-401,红茶,,tea,100,1,,,,\n")
    assert run(path)[2] is None
    first = snapshot()
    DBTaskResult.objects.all().delete()  # forget the first import's embedding jobs

    out, _, error = run(path)

    assert error is None and "2 rows: 0 created, 0 updated, 2 unchanged, 0 rejected." in out
    assert snapshot() == first  # not even updated_at moved
    assert not to_embed()  # nothing to embed again


def test_a_dry_run_checks_every_row_and_saves_nothing(run, tmp_path, make_product):
    make_product("TEA-500", stock=1)
    before, embedding = snapshot(), to_embed()
    path = write(tmp_path, HEADER + "TEA-500,,,,,99,,,,\nTEA-501,新茶,,tea,100,1,,,,\nTEA-502,,,tea,100,1,,,,\n")

    out, err, error = run(path, "--dry-run", "--set-stock")

    assert "3 rows: 1 would be created, 1 would be updated, 0 unchanged, 1 rejected." in out
    assert "Dry run: nothing was saved." in out and "Checking products [" in err
    assert "line 4 (SKU TEA-502): name: required for a new product" in err
    assert error.startswith("1 row was not valid")
    assert snapshot() == before
    assert to_embed() == embedding


def test_json_files_take_the_same_fields_and_null_keeps_a_value(run, tmp_path, make_product):
    Category.objects.create(name="茶具", name_en="Teaware", slug="teaware")
    make_product("CUP-1", name="茶杯", name_en="Tea cup", stock=2)
    items = [
        {"sku": "CUP-1", "name_en": None, "stock": 30, "category": "teaware"},
        {"sku": "POT-1", "name": "紫砂壶", "category": "teaware", "price_cents": 39900, "is_featured": True},
        {"sku": "POT-2", "name": "玻璃壶", "category": "teaware", "price_cents": "1,000"},
    ]
    path = write(tmp_path, json.dumps(items, ensure_ascii=False), name="products.json")

    out, err, error = run(path, "--set-stock")

    assert "3 rows: 1 created, 1 updated, 0 unchanged, 1 rejected." in out
    assert "item 3 (SKU POT-2): price_cents: '1,000' is not a whole number" in err
    cup = Product.objects.get(sku="CUP-1")
    assert (cup.name_en, cup.stock, cup.category.slug) == ("Tea cup", 30, "teaware")
    assert Product.objects.get(sku="POT-1").is_featured is True
    assert error is not None


def test_a_file_with_an_unknown_column_is_refused_before_anything_is_saved(run, tmp_path, category):
    path = write(tmp_path, "sku,name,category,prcie_cents\nTEA-600,新茶,tea,100\n")
    _, _, error = run(path)
    assert "unknown columns prcie_cents" in error
    assert not Product.objects.exists()


def test_a_spreadsheet_saved_in_gb18030_needs_its_encoding(run, tmp_path, category):
    path = write(tmp_path, "sku,name,category,price_cents\nTEA-700,铁观音,tea,6600\n", encoding="gb18030")
    assert "try --encoding gb18030" in run(path)[2]
    assert run(path, "--encoding", "gb18030")[2] is None
    assert Product.objects.get(sku="TEA-700").name == "铁观音"


# Stock: a file never writes stale stock over sales ----------------------------------------------------


def sell(product, quantity, buyer):
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=buyer)), product=product, quantity=quantity)
    return order_place(user=buyer, **CONTACT)


def test_re_importing_a_file_after_sales_keeps_the_units_sold(run, tmp_path, category, alice):
    """Before, the file's 10 went back over the 7 left after an order of 3: three units sold twice."""
    path = write(tmp_path, HEADER + "TEA-700,龙井,,tea,1000,10,,,,\n")
    assert run(path)[2] is None
    tea = Product.objects.get(sku="TEA-700")
    sell(tea, 3, alice)

    out, _, error = run(path)

    assert error is None and "1 unchanged" in out
    tea.refresh_from_db()
    assert tea.stock == 7


def test_a_new_figure_moves_the_stock_by_its_change_since_the_last_import(run, tmp_path, category, alice):
    assert run(write(tmp_path, HEADER + "TEA-710,龙井,,tea,1000,10,,,,\n"))[2] is None
    tea = Product.objects.get(sku="TEA-710")
    sell(tea, 3, alice)

    out, _, error = run(write(tmp_path, HEADER + "TEA-710,龙井,,tea,1000,15,,,,\n"))  # 5 more delivered

    assert error is None and "1 updated" in out
    tea.refresh_from_db()
    assert (tea.stock, tea.imported_stock) == (12, 15)


def test_a_file_that_lowers_the_stock_below_what_is_left_is_refused_with_the_reason(run, tmp_path, category, alice):
    assert run(write(tmp_path, HEADER + "TEA-720,龙井,,tea,1000,10,,,,\n"))[2] is None
    tea = Product.objects.get(sku="TEA-720")
    sell(tea, 8, alice)

    _, err, error = run(write(tmp_path, HEADER + "TEA-720,新龙井,,tea,1200,1,,,,\n"))

    assert error.startswith("1 row was not imported")
    assert "line 2 (SKU TEA-720): product: the file lowers the stock by 9 since the last import (10), but only 2" in err
    tea.refresh_from_db()
    assert (tea.name, tea.price_cents, tea.stock, tea.imported_stock) == ("龙井", 1000, 2, 10)  # the row is whole


def test_a_product_whose_stock_was_never_imported_needs_set_stock(run, tmp_path, make_product):
    """A product made in the admin: the file cannot know what sold since it was written."""
    product = make_product("TEA-730", stock=7)
    path = write(tmp_path, "sku,stock\nTEA-730,10\n")

    _, err, error = run(path)
    assert error is not None
    assert "the shop has 7 in stock and no import gave its stock before: setting 10 could undo sales" in err
    product.refresh_from_db()
    assert product.stock == 7

    out, _, error = run(path, "--set-stock")
    assert error is None and "1 updated" in out
    product.refresh_from_db()
    assert (product.stock, product.imported_stock) == (10, 10)
    assert "1 unchanged" in run(path)[0]  # from now on the figures count from this one


def test_hostile_cells_are_refused_row_by_row_on_every_database(run, tmp_path, category):
    """A NUL in a cell (PostgreSQL cannot store one: the import stopped with a traceback at that row on it)
    and figures beyond what the database's column holds are each a rejected row, never the end of the import."""
    path = write(
        tmp_path,
        HEADER
        + "NUL-1,坏\x00茶,,tea,1000,5,,,,\n"  # line 2: a NUL in the name
        + "NUL-2,好茶,,tea,1000,5,说明\x00,,,\n"  # line 3: in the description
        + "NUL\x00-3,好茶,,tea,1000,5,,,,\n"  # line 4: in the SKU, which finds the product
        + "BIG-1,大茶,,tea,99999999999999999999999,5,,,,\n"  # line 5: a price no column holds
        + "BIG-2,大茶,,tea,1000,99999999999999999999999,,,,\n"  # line 6: a stock no column holds
        + "GOOD-1,好茶,,tea,1000,5,,,,\n",  # line 7
    )
    out, err, error = run(path)

    assert "6 rows: 1 created, 0 updated, 0 unchanged, 5 rejected." in out
    assert error.startswith("5 rows were not imported")
    assert "line 2 (SKU NUL-1): name: Null characters are not allowed." in err
    assert "line 3 (SKU NUL-2): description: Null characters are not allowed." in err
    assert "line 4 (SKU NUL\x00-3): sku: Null characters are not allowed." in err
    assert "line 5 (SKU BIG-1): price_cents: Ensure this value is less than or equal to" in err
    assert "line 6 (SKU BIG-2): stock: Ensure this value is less than or equal to" in err
    assert set(Product.objects.values_list("sku", flat=True)) == {"GOOD-1"}
