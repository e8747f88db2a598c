"""No stale read across processes: two real app processes (daphne) on one database, each with the response
cache on (responses in each process's memory), with Redis (the catalog's version in it) and without (the version
read from the database). A change made through one process, or by a third (this
test's own process, as a job worker or a command would), shows on the other's next read, which it had cached.

Redis: REDIS_TEST_URL (database 11 of the local server by default), under a key prefix of this test's own,
deleted afterwards. The database is this run's test database (SQLite, MariaDB or PostgreSQL).
"""

import os
import uuid

import httpx2
import pytest
import redis
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from catalog.models import Category, Product
from catalog.services import product_reserve_stocks, product_update
from tests.assistant.mcp_live import two_servers
from tests.conftest import CONTACT

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/11")
SKU = "TEA-LJ"
READS = (f"/api/products/{SKU}", f"/products/{SKU}/", "/api/products/?limit=20", "/c/tea/")


@pytest.fixture(params=["redis", "no-redis"])
def processes(request, django_db_setup, settings):
    """Start the two app processes A and B, with or without Redis; check that neither logged a traceback.

    With Redis, this test's process (the third that changes the catalog) uses the same cache, as a worker would."""
    env = {"RESPONSE_CACHE_SECONDS": "600", "REDIS_URL": ""}
    client = None
    if request.param == "redis":
        client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=3)
        try:
            client.ping()
        except redis.RedisError as error:
            if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
                pytest.fail(f"Redis at {REDIS_TEST_URL} does not answer ({error})")
            pytest.skip(f"Redis at {REDIS_TEST_URL} does not answer ({error}); set REDIS_TEST_URL")
        env.update(REDIS_URL=REDIS_TEST_URL, REDIS_KEY_PREFIX=f"mcpshop-test-{uuid.uuid4().hex[:12]}")
        shared = {
            "BACKEND": "mcpshop_site.cache.TolerantRedisCache",
            "LOCATION": REDIS_TEST_URL,
            "KEY_PREFIX": env["REDIS_KEY_PREFIX"],
        }
        settings.CACHES = {**settings.CACHES, "default": shared}
    try:
        with two_servers(**env) as pair:
            yield pair
    finally:
        if client is not None:
            keys = list(client.scan_iter(match=f"{env['REDIS_KEY_PREFIX']}*", count=1000))
            if keys:
                client.delete(*keys)
            client.close()


@pytest.fixture
def product(db):
    category = Category.objects.create(name="茶叶", name_en="Tea", slug="tea")
    return Product.objects.create(
        sku=SKU, name="西湖龙井", slug="longjing", category=category, price_cents=12800, stock=1
    )


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {AccessToken.for_user(user)}"}


def read(http, server, path=f"/api/products/{SKU}"):
    answer = http.get(f"{server.url}{path}")
    assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    return answer.json() if path.startswith("/api/") else answer.text


def test_a_price_change_on_one_process_shows_at_once_on_the_other(processes, product):
    a, b = processes
    staff = User.objects.create_user(username="staffer", email="s@example.com", password="x" * 12, is_staff=True)
    with httpx2.Client(timeout=30) as http:
        for path in READS * 2:  # cached on both (a URL with a query string on its second request)
            read(http, a, path), read(http, b, path)
        Product.objects.filter(pk=product.pk).update(price_cents=1)  # no version change: the cache stays
        assert read(http, a)["price_cents"] == 12800

        changed = http.patch(f"{b.url}/api/products/{SKU}", json={"price_cents": 9900}, headers=bearer(staff))
        assert changed.status_code == 200, changed.text[:300]

        assert read(http, a)["price_cents"] == 9900
        assert "¥99.00" in read(http, a, f"/products/{SKU}/") and "¥99.00" in read(http, a, "/c/tea/")
        assert read(http, a, "/api/products/?limit=20")["results"][0]["price_cents"] == 9900

        product_update(product=Product.objects.get(pk=product.pk), price_cents=5000)  # a third process
        assert read(http, a)["price_cents"] == 5000 and read(http, b)["price_cents"] == 5000


def test_the_last_unit_sold_on_one_process_shows_at_once_on_the_other(processes, product):
    a, b = processes
    buyer = User.objects.create_user(username="buyer", email="b@example.com", password="x" * 12)
    with httpx2.Client(timeout=30) as http:
        for path in READS * 2:
            read(http, a, path), read(http, b, path)

        added = http.post(f"{b.url}/api/cart/", json={"sku": SKU, "quantity": 1}, headers=bearer(buyer))
        assert added.status_code in (200, 201), added.text[:300]
        order = http.post(
            f"{b.url}/api/orders/", json=CONTACT, headers={**bearer(buyer), "Idempotency-Key": uuid.uuid4().hex}
        )
        assert order.status_code == 201, order.text[:300]

        assert read(http, a)["stock"] == 0
        assert "data-cart-add" not in read(http, a, f"/products/{SKU}/")  # no add-to-cart form: sold out

        cancelled = http.post(f"{a.url}/api/orders/{order.json()['id']}/cancel", headers=bearer(buyer))
        assert cancelled.status_code == 200, cancelled.text[:300]
        assert read(http, b)["stock"] == 1

        product_reserve_stocks(quantities={product.pk: 1})  # a third process takes it again
        assert read(http, a)["stock"] == 0 and read(http, b)["stock"] == 0
