"""The ACP product feeds (catalog.feeds): valid against schema.feed.json, fresh after changes through the
services, rewritten only where something changed, in Chinese and English, safe with any product text."""

import itertools
import json
import re

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from catalog.feeds.render import FEED_COLUMNS, FEEDS, FeedLines
from catalog.feeds.services import feed_links, feed_rebuild, feed_refresh, feed_refresh_all
from catalog.links import ProductLinks
from catalog.models import Category, FeedEntry, Product, _in_language
from catalog.services import product_delete, product_update
from orders.services import order_cancel, order_place
from policies.models import Policy
from tests.catalog.feed_schema import assert_valid
from tests.conftest import CONTACT
from tests.jobs import queued, run_jobs

pytestmark = pytest.mark.django_db

BASE = "https://shop.example.com"


@pytest.fixture(autouse=True)
def _shop_address(settings):
    settings.SHOP_BASE_URL = BASE


def lines(feed: str = "en") -> dict[str, dict]:
    """Return a feed's products.jsonl as served, by product id, each line checked against the schema."""
    response = Client().get(f"/acp/feeds/{feed}/products.jsonl")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/jsonl; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    assert text.endswith("\n") or not text
    assert text.splitlines() == text.split("\n")[:-1]  # no character any reader takes for a line break inside
    products = [json.loads(line) for line in text.splitlines()]
    for product in products:
        assert_valid(product, "Product")
    assert_valid({"products": products}, "ProductsResponse")
    return {product["id"]: product for product in products}


def refresh() -> None:
    run_jobs(queue="default")


def test_every_product_on_sale_is_a_valid_feed_product(make_product, category):
    green = Category.objects.create(name="绿茶", name_en="Green tea", slug="green", parent=category)
    full = make_product(
        "TEA-1", name="西湖龙井", name_en="West Lake Longjing", description="明前", description_en="Picked early",
        price_cents=12800, stock=5, category=green,
    )  # fmt: skip
    full.image.save("longjing.webp", ContentFile(b"RIFF"), save=False)
    product_update(product=full, image=full.image)
    make_product("TEA-2", name="空罐", stock=0)
    make_product("TEA-3", name="下架", is_active=False)
    refresh()

    feed = lines("en")
    assert set(feed) == {"TEA-1", "TEA-2"}
    assert feed["TEA-1"] == {
        "id": "TEA-1",
        "title": "West Lake Longjing",
        "description": {"plain": "Picked early"},
        "url": f"{BASE}/products/TEA-1/",
        "media": [{"type": "image", "url": f"{BASE}/media/{full.image.name}", "alt_text": "West Lake Longjing"}],
        "variants": [
            {
                "id": "TEA-1",
                "title": "West Lake Longjing",
                "url": f"{BASE}/products/TEA-1/",
                "price": {"amount": 12800, "currency": "CNY"},
                "availability": {"available": True, "status": "in_stock"},
                "categories": [{"value": "Tea > Green tea", "taxonomy": "merchant"}],
            }
        ],
    }
    assert feed["TEA-2"]["variants"][0]["availability"] == {"available": False, "status": "out_of_stock"}
    assert "description" not in feed["TEA-2"] and "media" not in feed["TEA-2"]
    for name in ("en", "zh-hans"):
        metadata = Client().get(f"/acp/feeds/{name}/metadata.json").json()
        assert_valid(metadata, "FeedMetadata")
        assert metadata["id"] == name and metadata["target_country"] == "CN"


def test_chinese_feed_and_english_falling_back_to_chinese(make_product, category):
    make_product("TEA-1", name="西湖龙井", name_en="West Lake Longjing", description="明前", description_en="")
    make_product("TEA-2", name="普洱")
    refresh()
    chinese, english = lines("zh-hans"), lines("en")
    assert chinese["TEA-1"]["title"] == "西湖龙井" and chinese["TEA-1"]["description"] == {"plain": "明前"}
    assert chinese["TEA-1"]["variants"][0]["categories"] == [{"value": "茶叶", "taxonomy": "merchant"}]
    assert english["TEA-1"]["title"] == "West Lake Longjing"
    assert english["TEA-1"]["description"] == {"plain": "明前"}  # no English description: the Chinese one
    assert english["TEA-1"]["variants"][0]["categories"] == [{"value": "Tea", "taxonomy": "merchant"}]
    assert english["TEA-2"]["title"] == chinese["TEA-2"]["title"] == "普洱"


def test_a_price_change_through_the_services_is_in_the_feed_after_the_job(product):
    refresh()
    product_update(product=product, price_cents=9900)
    assert FeedEntry.objects.get(pk=product.pk).stale  # marked with the change ...
    assert queued(feed_refresh) == [[[product.pk]]]  # ... and its job queued with it
    assert lines()[product.sku]["variants"][0]["price"]["amount"] == 12800  # until the job runs
    refresh()
    assert lines()[product.sku]["variants"][0]["price"]["amount"] == 9900


def test_a_checkout_that_empties_the_shelf_and_its_cancellation_show_in_the_feed(alice, product):
    refresh()
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=product, quantity=5)
    order = order_place(user=alice, **CONTACT)
    refresh()
    assert lines()[product.sku]["variants"][0]["availability"] == {"available": False, "status": "out_of_stock"}
    order_cancel(order=order)
    refresh()
    assert lines()[product.sku]["variants"][0]["availability"] == {"available": True, "status": "in_stock"}


def test_a_sale_that_leaves_stock_costs_the_checkout_no_feed_work(alice, product):
    refresh()
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=product, quantity=2)
    order_place(user=alice, **CONTACT)
    assert not FeedEntry.objects.get(pk=product.pk).stale
    assert queued(feed_refresh) == []


def test_the_mark_is_part_of_the_change_and_rolls_back_with_it(product):
    refresh()
    with pytest.raises(RuntimeError), transaction.atomic():
        product_update(product=product, price_cents=1)
        raise RuntimeError
    assert not FeedEntry.objects.get(pk=product.pk).stale
    assert queued(feed_refresh) == []


def _ids_in(sql: str) -> set[int]:
    """Return the ids of the statement's `"catalog_feedentry"."product_id" IN (...)`."""
    column = f"{connection.ops.quote_name('catalog_feedentry')}.{connection.ops.quote_name('product_id')}"
    found = re.search(rf"{re.escape(column)} IN \(([^)]*)\)", sql)
    return {int(pk) for pk in found.group(1).split(",")}


def _refresh_queries() -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        refresh()
    tables = [connection.ops.quote_name(table) for table in ("catalog_feedentry", "catalog_product")]
    return [q["sql"] for q in queries if any(table in q["sql"] for table in tables)]


@pytest.mark.parametrize("changed", [1, 30])
def test_an_incremental_update_touches_only_the_changed_rows(make_product, changed):
    products = [make_product(f"P-{i}", price_cents=100 + i) for i in range(60)]
    refresh()
    before = dict(FeedEntry.objects.values_list("pk", "changed_at"))
    for product in products[:changed]:
        product_update(product=product, price_cents=product.price_cents + 1)
    product_update(product=products[-1], is_featured=True)  # a save the feed does not show
    touched = {p.pk for p in products[:changed]}

    queries = _refresh_queries()
    # Whatever the number of changed rows: take the stale ones, read them with their products, lock those whose
    # lines changed (the featured one rendered the same: left alone) and write them in one upsert.
    assert len(queries) == 4, queries
    claim, read, lock, write = queries
    assert claim.startswith("UPDATE") and read.startswith("SELECT") and write.startswith("INSERT")
    assert _ids_in(claim) == touched | {products[-1].pk}  # the rows marked, not the 60
    assert _ids_in(lock) == touched
    after = dict(FeedEntry.objects.values_list("pk", "changed_at"))
    assert {pk for pk in after if after[pk] != before[pk]} == touched
    assert not FeedEntry.objects.filter(stale=True).exists()


def test_inactive_products_leave_the_feed_and_come_back(product):
    refresh()
    assert product.sku in lines()
    product_update(product=product, is_active=False)
    refresh()
    assert product.sku not in lines() and product.sku not in lines("zh-hans")
    product_update(product=product, is_active=True)
    refresh()
    assert product.sku in lines()


def test_a_deleted_product_leaves_the_feed_and_its_date_moves(client, product, make_product):
    make_product("OTHER")
    refresh()
    before = client.get("/acp/feeds/en/metadata.json").json()["updated_at"]
    product_delete(product=product)
    assert product.sku not in lines()
    assert client.get("/acp/feeds/en/metadata.json").json()["updated_at"] > before


def test_a_renamed_category_renames_its_products_shelf(product, category):
    refresh()
    category.name_en = "Fine tea"
    category.save()
    refresh()
    assert lines()[product.sku]["variants"][0]["categories"] == [{"value": "Fine tea", "taxonomy": "merchant"}]


def test_publishing_and_unpublishing_a_policy_page_refreshes_every_seller(client, product, make_product):
    make_product("TEA-2", name="普洱")
    refresh()
    assert "seller" not in lines()[product.sku]["variants"][0]
    before = client.get("/acp/feeds/en/metadata.json").json()["updated_at"]

    returns = Policy.objects.create(
        kind=Policy.Kind.RETURNS, title="退换货政策", title_en="Returns and refunds", body="x", is_published=True
    )
    assert FeedEntry.objects.filter(stale=True).count() == 2  # marked with the change ...
    assert queued(feed_refresh_all) == [[]]  # ... and one job for them all
    refresh()
    link = {"type": "refund_policy", "url": f"{BASE}/policies/returns/"}
    for sku in (product.sku, "TEA-2"):
        assert lines("en")[sku]["variants"][0]["seller"] == {"links": [{**link, "title": "Returns and refunds"}]}
        assert lines("zh-hans")[sku]["variants"][0]["seller"] == {"links": [{**link, "title": "退换货政策"}]}
    assert client.get("/acp/feeds/en/metadata.json").json()["updated_at"] > before

    returns.body = "Another text"  # the feed shows no text: rendered again, nothing written
    returns.save()
    before = dict(FeedEntry.objects.values_list("pk", "changed_at"))
    refresh()
    assert dict(FeedEntry.objects.values_list("pk", "changed_at")) == before

    returns.is_published = False
    returns.save()
    refresh()
    assert "seller" not in lines("en")[product.sku]["variants"][0]
    assert "seller" not in lines("zh-hans")["TEA-2"]["variants"][0]

    Policy.objects.create(kind=Policy.Kind.PRIVACY, title="隐私政策", body="x", is_published=True)
    refresh()
    privacy = lines("en")[product.sku]["variants"][0]["seller"]["links"]
    assert privacy == [{"type": "privacy_policy", "title": "隐私政策", "url": f"{BASE}/policies/privacy/"}]
    Policy.objects.filter(kind=Policy.Kind.PRIVACY).delete()
    refresh()
    assert "seller" not in lines("en")[product.sku]["variants"][0]


HOSTILE = [
    'quote " backslash \\ slash /',
    "new\nline\r\ncarriage\ttab",
    "</script><script>alert(1)</script>",
    '{"id":"EVIL","variants":[]}\n{"id":"EVIL2"}',
    "\u2028line separator\u2029paragraph",
    "bell \x07 escape \x1b delete \x7f C1 \x85",
    "🍵 emoji, ‮right-to-left override, 零宽\u200b空格",
]


# Policy.Kind -> its seller link's type, as schema.feed.json's Link names them
SELLER_LINKS = {"shipping": "shipping_policy", "returns": "refund_policy", "terms": "terms_of_service",
                "privacy": "privacy_policy"}  # fmt: skip


def seller(language: str) -> dict | None:
    """Return the variants' `seller` in `language`, written out plainly: the published policy pages as links, in the
    footer's order (shipping, returns, terms, privacy), or None when none is published."""
    pages = sorted(Policy.objects.filter(is_published=True), key=lambda page: list(SELLER_LINKS).index(page.kind))
    if not pages:
        return None
    return {
        "links": [
            {
                "type": SELLER_LINKS[page.kind],
                "title": _in_language(page.title, page.title_en, language),
                "url": f"{BASE}/policies/{page.kind}/",
            }
            for page in pages
        ]
    }


def feed_product(row: dict, *, language: str, links: ProductLinks, shop: dict | None = None) -> dict:
    """Return a `.values(*FEED_COLUMNS)` row as the feed `Product` object its line in `language` encodes (with the
    variant's `seller`, `shop`, when given), written out plainly: FeedLines assembles the lines from pieces,
    checked against this."""
    title = _in_language(row["name"], row["name_en"], language)
    page = links.page(row["sku"])
    product = {"id": row["sku"], "title": title}
    description = _in_language(row["description"], row["description_en"], language)
    if description:
        product["description"] = {"plain": description}
    product["url"] = page
    if row["image"]:
        product["media"] = [{"type": "image", "url": links.image(row["image"]), "alt_text": title}]
    if not row["is_active"]:
        availability = {"available": False, "status": "discontinued"}
    else:
        availability = {"available": row["stock"] > 0, "status": "in_stock" if row["stock"] > 0 else "out_of_stock"}
    shelf = _in_language(row["category__name"], row["category__name_en"], language)
    if row["category__parent__name"] is not None:
        parent = _in_language(row["category__parent__name"], row["category__parent__name_en"], language)
        shelf = f"{parent} > {shelf}"
    product["variants"] = [
        {
            "id": row["sku"],
            "title": title,
            "url": page,
            "price": {"amount": row["price_cents"], "currency": settings.SHOP_CURRENCY},
            "availability": availability,
            "categories": [{"value": shelf, "taxonomy": "merchant"}],
        }
    ]
    if shop is not None:
        product["variants"][0]["seller"] = shop
    return product


@pytest.mark.parametrize("pages", ["none", "unpublished", "published"])
def test_lines_are_json_dumps_of_the_feed_product_byte_for_byte(pages):
    """Every awkward text in every field, with and without English, image, description, parent shelf; without
    policy pages, with unpublished ones only, and with awkward titles published (the seller's links)."""
    if pages != "none":
        for kind, title, title_en in (
            (Policy.Kind.PRIVACY, HOSTILE[0], ""),
            (Policy.Kind.SHIPPING, HOSTILE[4], "Shipping \u2028 \x85"),
            (Policy.Kind.RETURNS, "退换货", HOSTILE[6][:100]),
            (Policy.Kind.TERMS, HOSTILE[3][:100], HOSTILE[1]),
        ):
            published = pages == "published" and kind != Policy.Kind.TERMS
            Policy.objects.create(kind=kind, title=title, title_en=title_en, body="x", is_published=published)
    sellers = {language: seller(language) for language in FEEDS}
    if pages == "published":
        types = ["shipping_policy", "refund_policy", "privacy_policy"]
        assert [link["type"] for link in sellers["en"]["links"]] == types
        assert [link["title"] for link in sellers["en"]["links"]] == ["Shipping \u2028 \x85", HOSTILE[6], HOSTILE[0]]
    else:
        assert sellers == {"zh-hans": None, "en": None}
    texts = [*HOSTILE, "", "西湖龙井 明前", "a\u2028 not a break", "\x85\u2029\u2028", "\x00\x1f"]
    shelves = [("茶叶", "", None, None), ("绿茶", "Green tea", "茶叶", ""), ('"引号"\u2028', "", "父\x85", "Parent")]
    links = feed_links()
    render = FeedLines(links)
    rows = 0
    for i, (text, other, shelf, image, (active, stock)) in enumerate(
        itertools.product(
            texts,
            ["", "English 🍵"],
            shelves,
            ["", "products/longjing 西湖 #1.webp"],
            [(True, 5), (True, 0), (False, 5), (False, 0)],
        )
    ):
        row = dict(
            zip(FEED_COLUMNS, (i, f"S.K_U-{i}", text or "名", other, text, other, 12800 + i, stock), strict=False)
        )
        row |= {"image": image, "is_active": active}
        row |= dict(zip(FEED_COLUMNS[-4:], shelf, strict=True))
        swapped = row | {"name": other or "名", "name_en": text, "description": other, "description_en": text}
        for each in (row, swapped):
            for language, line in zip(FEEDS, render(each), strict=True):
                product = feed_product(each, language=language, links=links, shop=sellers[language])
                plain = json.dumps(product, ensure_ascii=False, separators=(",", ":"))
                assert line == plain.replace("\x85", "\\u0085").replace("\u2028", "\\u2028").replace(
                    "\u2029", "\\u2029"
                )
                assert line.splitlines() == [line]
            rows += 1
    assert rows == 2 * len(texts) * 2 * len(shelves) * 2 * 4


def test_hostile_product_text_stays_one_valid_line_each(make_product):
    for i, text in enumerate(HOSTILE):
        make_product(f"H-{i}", name=text[:200], name_en=text[:200], description=text, description_en=text)
    refresh()
    for feed in ("en", "zh-hans"):
        served = lines(feed)  # one line per product, each parsed back and validated
        assert set(served) == {f"H-{i}" for i in range(len(HOSTILE))}
        for i, text in enumerate(HOSTILE):
            assert served[f"H-{i}"]["title"] == text[:200]
            assert served[f"H-{i}"]["description"] == {"plain": text}


def test_the_rebuild_catches_up_on_bulk_inserts_and_a_new_address(settings, category, product):
    Product.objects.bulk_create([Product(sku="BULK-1", name="批量", slug="bulk-1", category=category, price_cents=1)])
    refresh()
    assert "BULK-1" not in lines()  # a bulk insert sends no signal
    settings.SHOP_BASE_URL = "https://new.example.com"
    assert feed_rebuild() == 2
    feed = lines()
    assert feed["BULK-1"]["url"] == "https://new.example.com/products/BULK-1/"
    assert feed[product.sku]["url"].startswith("https://new.example.com/")
    assert feed_rebuild() == 0  # nothing changed since: nothing written


@pytest.mark.parametrize("count", [3, 40])
def test_a_rebuild_from_no_entries_writes_each_batch_in_one_insert(category, count):
    Product.objects.bulk_create(
        [Product(sku=f"B-{i}", name=f"批量 {i}", slug=f"b-{i}", category=category, price_cents=i) for i in range(count)]
    )
    with CaptureQueriesContext(connection) as queries:
        assert feed_rebuild() == count
    entries = connection.ops.quote_name("catalog_feedentry")
    statements = [q["sql"].split()[0] for q in queries if entries in q["sql"]]
    # Mark the existing entries stale; read the products without one (with their lines' data: nothing stored to
    # compare with) and insert their entries, rendered; then the next batch (none) and the stale entries (none).
    assert statements == ["UPDATE", "SELECT", "INSERT", "SELECT", "SELECT"], statements
    assert set(lines()) == {f"B-{i}" for i in range(count)}
    assert not FeedEntry.objects.filter(stale=True).exists()


def test_an_entry_made_during_the_rebuild_is_not_overwritten(monkeypatch, make_product):
    """A product changed while the rebuild renders it gets a stale entry first: the rebuild leaves it to be
    rendered again, never writes its older line over it."""
    product = make_product("TEA-1", price_cents=100)
    FeedEntry.objects.all().delete()
    render = FeedLines.__call__

    def changed_meanwhile(self, row):
        rendered = render(self, row)  # from the row as read: price 100
        if not FeedEntry.objects.filter(pk=product.pk).exists():
            product_update(product=product, price_cents=200)  # its entry, stale, and its job
        return rendered

    monkeypatch.setattr(FeedLines, "__call__", changed_meanwhile)
    feed_rebuild()
    assert lines()[product.sku]["variants"][0]["price"]["amount"] == 200
    assert not FeedEntry.objects.filter(stale=True).exists()


def test_the_rebuild_is_a_periodic_job(settings):
    assert settings.JOBS_PERIODIC["catalog.feeds.services.feed_rebuild"] == 24 * 3600


def test_unknown_feeds_and_writes_are_refused(client):
    for path in ("/acp/feeds/fr/products.jsonl", "/acp/feeds/fr/metadata.json", "/acp/feeds/%00/metadata.json"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json() == {
            "type": "invalid_request",
            "code": "feed_not_found",
            "message": "Feed not found",
            "param": "id",
        }
        assert_valid(response.json(), "Error")
    assert client.post("/acp/feeds/en/products.jsonl").status_code == 405


def test_conditional_requests_answer_304_until_the_feed_changes(client, product):
    refresh()
    first = client.get("/acp/feeds/en/products.jsonl")
    etag = first["ETag"]
    assert client.get("/acp/feeds/en/products.jsonl", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert (
        client.get("/acp/feeds/en/metadata.json", HTTP_IF_NONE_MATCH=etag.replace("en-", "zh-hans-")).status_code == 200
    )
    product_update(product=product, price_cents=1)
    refresh()
    assert client.get("/acp/feeds/en/products.jsonl", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_the_command_writes_the_snapshot_files(tmp_path, make_product):
    make_product("TEA-1", name="龙井", name_en="Longjing")
    Product.objects.bulk_create(
        [Product(sku="BULK-1", name="批量", slug="bulk-1", category=Category.objects.get(), price_cents=1)]
    )
    call_command("product_feed", "--rebuild", "--output", str(tmp_path))
    for feed in ("en", "zh-hans"):
        metadata = json.loads((tmp_path / feed / "metadata.json").read_text())
        assert_valid(metadata, "FeedMetadata")
        products = [json.loads(line) for line in (tmp_path / feed / "products.jsonl").read_text().splitlines()]
        assert [p["id"] for p in products] == ["TEA-1", "BULK-1"]
        assert (tmp_path / feed / "products.jsonl").read_text() == b"".join(
            Client().get(f"/acp/feeds/{feed}/products.jsonl").streaming_content
        ).decode()
