import io

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from catalog.models import Category, Product
from catalog.services import product_reserve_stocks
from tests.conftest import page_client_for

pytestmark = pytest.mark.django_db

PRODUCTS = "admin:catalog_product_changelist"


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def get(client, url, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    response.query_count = len(queries)
    return response


def form_data(form, **changes) -> dict:
    """Return what the browser would post back for this (model) form, with some fields changed."""
    data = {}
    for name, field in form.fields.items():
        value = changes.get(name, form.initial.get(name))
        if name == "id":
            value = form.instance.pk
        if isinstance(field, forms.FileField):
            continue
        if isinstance(field, forms.BooleanField):
            if value:
                data[form.add_prefix(name)] = "on"
        else:
            data[form.add_prefix(name)] = "" if value is None else field.prepare_value(value)  # as rendered
        if field.show_hidden_initial:
            data[form.add_initial_prefix(name)] = form.initial.get(name)
    return data


def changelist_data(response, changes: dict[int, dict]) -> dict:
    """Return the POST of the editable product list, with `changes` per product pk."""
    formset = response.context["cl"].formset
    data = {formset.management_form.add_prefix(k): v for k, v in formset.management_form.initial.items()}
    for form in formset.forms:
        data.update(form_data(form, **changes.get(form.instance.pk, {})))
    return {**data, "_save": "Save"}


def png(color="red") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 40), color).save(out, "PNG")
    return SimpleUploadedFile("photo.png", out.getvalue(), content_type="image/png")


def test_product_list_shows_thumbnails_in_a_fixed_number_of_queries(admin_client, make_product, category):
    make_product(image="products/one.webp")
    one = get(admin_client, reverse(PRODUCTS))
    coffee = Category.objects.create(name="咖啡", name_en="Coffee", slug="coffee")
    for number in range(20):
        make_product(category=coffee if number % 2 else category, image=f"products/{number}.webp")

    many = get(admin_client, reverse(PRODUCTS))

    assert many.query_count == one.query_count
    assert many.content.count(b'<img src="/media/products/') == 21
    assert "咖啡" in many.content.decode()


def test_product_list_searches_sku_and_both_names_and_filters(admin_client, product, make_product):
    make_product("COF-001", name="云南咖啡豆", name_en="Yunnan coffee beans", is_featured=True)

    def skus(**params):
        return [p.sku for p in get(admin_client, reverse(PRODUCTS), **params).context["cl"].result_list]

    assert skus(q="longjing") == ["TEA-001"]
    assert skus(q="咖啡") == ["COF-001"]
    assert skus(q="tea-001") == ["TEA-001"]
    assert skus(is_featured__exact="1") == ["COF-001"]
    assert skus(category__id__exact=str(product.category_id)) == ["COF-001", "TEA-001"]


def test_price_and_stock_are_edited_in_the_list(admin_client, product):
    listing = get(admin_client, reverse(PRODUCTS))
    data = changelist_data(listing, {product.pk: {"price_cents": "99.00", "stock": 40}})

    response = admin_client.post(reverse(PRODUCTS), data)

    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.price_cents, product.stock) == (9900, 40)


def test_a_list_edit_never_undoes_sales_made_while_the_page_was_open(admin_client, product):
    listing = get(admin_client, reverse(PRODUCTS))  # shows 5 in stock
    product_reserve_stocks(quantities={product.pk: 2})  # a shopper buys 2 meanwhile

    price_only = admin_client.post(reverse(PRODUCTS), changelist_data(listing, {product.pk: {"price_cents": "99"}}))
    product.refresh_from_db()
    assert price_only.status_code == 302
    assert (product.price_cents, product.stock) == (9900, 3)

    new_stock = admin_client.post(reverse(PRODUCTS), changelist_data(listing, {product.pk: {"stock": 50}}))
    assert new_stock.status_code == 200
    assert "changed from 5 to 3" in new_stock.content.decode()
    product.refresh_from_db()
    assert product.stock == 3


def test_the_change_page_previews_the_image_and_saves_only_what_changed(admin_client, make_product, media):
    product = make_product("TEA-009", stock=5, image="products/tea-009.webp")
    url = reverse("admin:catalog_product_change", args=[product.pk])
    page = get(admin_client, url)
    assert '<img src="/media/products/tea-009.webp" alt="商品 TEA-009" width="300"' in page.content.decode()
    assert "sku" not in page.context["adminform"].form.fields  # read-only once created
    product_reserve_stocks(quantities={product.pk: 4})

    data = form_data(page.context["adminform"].form, name_en="Spring Longjing", description="今年的新茶。")
    response = admin_client.post(url, data)

    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.name_en, product.slug, product.description, product.stock, product.price_cents) == (
        "Spring Longjing",
        "spring-longjing",
        "今年的新茶。",
        1,
        1000,  # shown as 10.00 and posted back unchanged
    )


def test_adding_a_product_goes_through_the_service_and_stores_the_upload(admin_client, category, media):
    page = get(admin_client, reverse("admin:catalog_product_add"))
    assert '<img src="/media' not in page.content.decode()
    data = {
        "sku": "TEA-777",
        "name": "白牡丹",
        "name_en": "White Peony",
        "category": category.pk,
        "price_cents": "88.00",
        "stock": 12,
        "is_active": "on",
        "description": "福鼎白茶。",
        "description_en": "White tea from Fuding.",
        "image": png(),
    }

    response = admin_client.post(reverse("admin:catalog_product_add"), data)

    assert response.status_code == 302
    product = Product.objects.get(sku="TEA-777")
    assert (product.slug, product.price_cents, product.stock) == ("white-peony", 8800, 12)
    assert (media / product.image.name).is_file()
    duplicate = admin_client.post(reverse("admin:catalog_product_add"), {**data, "image": png()})
    assert duplicate.status_code == 200 and Product.objects.filter(sku="TEA-777").count() == 1


def test_actions_hide_and_show_products_and_delete_them(admin_client, product, make_product):
    other = make_product()
    selected = {"_selected_action": [product.pk, other.pk], "index": 0}

    admin_client.post(reverse(PRODUCTS), {**selected, "action": "make_inactive"})
    assert not Product.objects.filter(is_active=True).exists()
    admin_client.post(reverse(PRODUCTS), {**selected, "action": "make_active"})
    assert Product.objects.filter(is_active=True).count() == 2
    admin_client.post(reverse(PRODUCTS), {**selected, "action": "delete_selected", "post": "yes"})
    assert not Product.objects.exists()


def test_categories_get_a_slug_from_the_english_name(admin_client, category):
    page = get(admin_client, reverse("admin:catalog_category_add"))
    [prepopulated] = page.context["adminform"].prepopulated_fields
    assert prepopulated["field"].name == "slug"
    assert [field.name for field in prepopulated["dependencies"]] == ["name_en"]
    listing = get(admin_client, reverse("admin:catalog_category_changelist"))
    assert "Tea" in listing.content.decode()


def test_only_staff_with_permissions_get_in(client, alice, staff, product):
    url = reverse(PRODUCTS)
    assert client.get(url).status_code == 302  # to the login page
    shopper = page_client_for(alice).get(url)
    assert shopper.status_code == 302 and "/admin/login/" in shopper["Location"]
    assert page_client_for(staff).get(url).status_code == 403  # staff, but no catalog permissions
    assert (
        page_client_for(alice).post(url, {"_selected_action": [product.pk], "action": "make_inactive"}).status_code
        == 302
    )
    product.refresh_from_db()
    assert product.is_active
