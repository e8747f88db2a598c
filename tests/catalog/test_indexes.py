"""Every product sort and filter of the catalog has an index, and the lists use it (B2, B5)."""

import pytest
from django.db import connection

from catalog.models import Product
from catalog.selectors import PRODUCT_SORTS, product_list

pytestmark = pytest.mark.django_db


def _product_indexes() -> list[list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Product._meta.db_table)
    return [info["columns"] for info in constraints.values() if info["index"] or info["unique"]]


def _columns(fields) -> list[str]:
    return [Product._meta.get_field(field.lstrip("-")).column for field in fields]


# Each sort of PRODUCT_SORTS (tie-breaker included), and a shelf's default order within its category.
ORDERS = [_columns(fields) for fields in PRODUCT_SORTS.values()] + [["category_id", "created_at", "id"]]


@pytest.mark.parametrize("wanted", ORDERS, ids=lambda columns: "+".join(columns))
def test_every_list_order_has_an_index(wanted):
    indexes = _product_indexes()
    assert any(columns[: len(wanted)] == wanted for columns in indexes), f"no index on {wanted}: {indexes}"


def test_lookups_by_sku_are_indexed():
    assert ["sku"] in _product_indexes()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the plan text is SQLite's")
@pytest.mark.parametrize("sort", PRODUCT_SORTS)
def test_sqlite_reads_a_page_in_index_order_without_sorting(sort, make_product):
    make_product()
    plan = product_list(sort=sort)[:20].explain()
    assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
    assert "TEMP B-TREE" not in plan, plan
