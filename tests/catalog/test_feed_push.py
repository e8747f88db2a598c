"""Pushing changed feed lines to agent platforms' Feed APIs (catalog.feeds.push), against a local fake platform."""

from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory
from django.utils import timezone

from catalog.feeds.push import feed_push
from catalog.feeds.services import feed_rebuild
from catalog.models import FeedDestination, Product
from catalog.services import product_update
from tests.catalog.feed_schema import assert_valid
from tests.fake_receiver import FakeReceiver
from tests.jobs import queued, run_jobs

pytestmark = pytest.mark.django_db

PATH = "/api/feeds/feed_8f3K2x/products"
ACCEPTED = {"json": {"id": "feed_8f3K2x", "accepted": True}}


@pytest.fixture
def platform(settings):
    settings.OUTBOUND_ALLOW_HOSTS = ["localhost"]
    with FakeReceiver(host="localhost") as server:
        server.script[PATH] = [ACCEPTED]
        yield server


@pytest.fixture
def destination(platform):
    return FeedDestination.objects.create(
        name="Agent", feed="en", api_base_url=f"{platform.url}/api/", feed_id="feed_8f3K2x", token="sk_feed_1"
    )


def pushed(platform) -> list[dict]:
    """Return the products of every PATCH the platform received, each request checked against the schema."""
    products = []
    for request in platform.requests:
        assert (request.method, request.path) == ("PATCH", PATH)
        assert request.headers["Authorization"] == "Bearer sk_feed_1"
        assert request.headers["API-Version"] == "2026-04-17"
        assert_valid(request.json(), "UpsertProductsRequest")
        products += request.json()["products"]
    return products


def test_only_the_changed_products_are_pushed(platform, destination, make_product):
    products = [make_product(f"P-{i}", name=f"茶 {i}", name_en=f"Tea {i}") for i in range(5)]
    run_jobs(queue="default")
    assert {p["id"] for p in pushed(platform)} == {f"P-{i}" for i in range(5)}  # new products are changes too
    platform.requests.clear()

    product_update(product=products[1], price_cents=4321)
    product_update(product=products[3], is_active=False)
    run_jobs(queue="default")
    sent = {p["id"]: p for p in pushed(platform)}
    assert set(sent) == {"P-1", "P-3"} and len(platform.requests) == 1
    assert sent["P-1"]["title"] == "Tea 1" and sent["P-1"]["variants"][0]["price"]["amount"] == 4321
    # Taken off sale: pushed as discontinued (the RFC defers deletion through upserts).
    assert sent["P-3"]["variants"][0]["availability"] == {"available": False, "status": "discontinued"}
    destination.refresh_from_db()
    assert destination.last_pushed_at is not None and destination.last_error == ""


def test_products_the_rebuild_finds_without_a_line_are_pushed(platform, destination, make_product):
    make_product("P-1")
    run_jobs(queue="default")
    platform.requests.clear()
    category = Product.objects.get().category
    Product.objects.bulk_create([Product(sku="BULK-1", name="批量", slug="bulk-1", category=category, price_cents=1)])
    feed_rebuild()  # a bulk insert sent no signal: the rebuild gives it its lines
    run_jobs(queue="default")
    assert [p["id"] for p in pushed(platform)] == ["BULK-1"]


def test_a_platform_down_is_retried_and_a_refusal_is_recorded(platform, destination, make_product):
    platform.script[PATH] = [{"status": 503}, ACCEPTED]
    make_product("P-1")
    start = timezone.now()
    run_jobs(queue="default")
    destination.refresh_from_db()
    assert destination.last_error.startswith("HTTP 503") and queued(feed_push)  # back in the queue
    run_jobs(queue="default", at=start + timedelta(minutes=5))
    assert len(platform.requests) == 2 and not queued(feed_push)
    destination.refresh_from_db()
    assert destination.last_error == ""

    platform.script[PATH] = [{"status": 400, "json": {"type": "invalid_request", "code": "x", "message": "no"}}]
    make_product("P-2")
    run_jobs(queue="default", at=start + timedelta(minutes=6))
    destination.refresh_from_db()
    assert destination.last_error.startswith("HTTP 400") and not queued(feed_push)  # given up at once


@pytest.mark.parametrize(
    "address",
    ["http://127.0.0.1:9/api", "https://10.0.0.8/api", "https://169.254.169.254/latest", "http://93.184.215.14/api"],
)
def test_an_address_that_is_not_public_https_is_never_reached(settings, make_product, address):
    settings.OUTBOUND_ALLOW_HOSTS = []
    destination = FeedDestination.objects.create(name="x", feed="en", api_base_url=address, feed_id="f", token="t")
    make_product("P-1")
    run_jobs(queue="default")
    destination.refresh_from_db()
    assert destination.last_error.split(":")[0] in {"address_refused", "scheme_refused"}
    assert not queued(feed_push)


def test_inactive_destinations_get_nothing(platform, destination, make_product):
    destination.is_active = False
    destination.save()
    make_product("P-1")
    run_jobs(queue="default")
    assert platform.requests == []


def test_the_admin_pushes_the_whole_feed_to_a_new_destination(platform, make_product, staff):
    for i in range(3):
        make_product(f"P-{i}")
    make_product("OFF", is_active=False)
    run_jobs(queue="default")  # no destination yet: nothing pushed
    destination = FeedDestination.objects.create(
        name="New", feed="zh-hans", api_base_url=f"{platform.url}/api", feed_id="feed_8f3K2x", token="sk_feed_1"
    )
    request = RequestFactory().post("/")
    request.user, request._messages = staff, type("Messages", (), {"add": lambda *a, **k: None})()
    site._registry[FeedDestination].push_everything(request, FeedDestination.objects.filter(pk=destination.pk))
    run_jobs(queue="default")
    assert sorted(p["id"] for p in pushed(platform)) == ["P-0", "P-1", "P-2"]
    assert pushed(platform)[0]["title"].startswith("商品")
