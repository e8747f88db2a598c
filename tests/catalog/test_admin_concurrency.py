"""Staff type a new stock figure while a shopper buys: the sale is never undone.

The admin checks the typed figure against the one its page showed (clean_stock), then saves it.
Here a real order, in another thread, tries to land exactly between the check and the save: it
must wait for the save and take its units from the new figure, not be overwritten by it. Real threads, real
database (SQLite, MariaDB and PostgreSQL alike).
"""

import threading

import pytest
from django.urls import reverse

from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from catalog.admin import ProductAdminForm
from catalog.models import Product
from orders.models import Order
from orders.services import order_place
from tests.catalog.test_admin import changelist_data, form_data
from tests.conftest import CONTACT, page_client_for
from tests.orders.test_concurrency import Outcomes, race

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def superuser(make_user):
    user = make_user("boss", is_staff=True)
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    return user


def change_form(client, product) -> dict:
    page = client.get(reverse("admin:catalog_product_change", args=[product.pk]))
    return form_data(page.context["adminform"].form, stock=8)


def list_form(client, product) -> dict:
    page = client.get(reverse("admin:catalog_product_changelist"))
    return changelist_data(page, {product.pk: {"stock": 8}})


@pytest.mark.parametrize(
    ("url", "post_data"),
    [
        pytest.param(
            lambda product: reverse("admin:catalog_product_change", args=[product.pk]), change_form, id="form"
        ),
        pytest.param(lambda product: reverse("admin:catalog_product_changelist"), list_form, id="list"),
    ],
)
def test_a_sale_between_the_admin_s_check_and_its_save_is_not_undone(
    make_user, make_product, superuser, monkeypatch, url, post_data
):
    tea = make_product("TEA-ADMIN", stock=5)
    buyer = make_user("buyer")
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=buyer)), product=tea, quantity=2)
    staff = page_client_for(superuser)
    data = post_data(staff, tea)  # the page shows 5; staff type 8 (three more came in)

    checked, sold = threading.Event(), threading.Event()
    clean_stock = ProductAdminForm.clean_stock

    def let_the_sale_in_after_the_check(form):
        stock = clean_stock(form)
        checked.set()
        sold.wait(timeout=1)  # the sale goes first where it can; where it is held back, the save goes on
        return stock

    monkeypatch.setattr(ProductAdminForm, "clean_stock", let_the_sale_in_after_the_check)

    def act(who):
        if who == "staff":
            return staff.post(url(tea), data).status_code
        checked.wait(timeout=30)
        try:
            return order_place(user=buyer, **CONTACT)
        finally:
            sold.set()

    outcomes = race(act, ["staff", "buyer"])

    assert outcomes[0] == 302 and isinstance(outcomes[1], Order), Outcomes(outcomes)
    assert Product.objects.get(pk=tea.pk).stock == 8 - 2  # the two sold are not back on the shelf
