import pytest

from catalog.models import Category
from catalog.selectors import category_list

pytestmark = pytest.mark.django_db


def test_a_category_counts_the_active_products_on_its_page_including_its_childrens(category, make_product):
    green = Category.objects.create(name="绿茶", name_en="Green tea", slug="green-tea", parent=category)
    make_product(category=category)
    make_product(category=green)
    make_product(category=green)
    make_product(category=green, is_active=False)

    counts = {c.slug: c.product_count for c in category_list()}

    assert counts == {"tea": 3, "green-tea": 2}
