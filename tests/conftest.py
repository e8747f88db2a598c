import itertools
import os
import time

import pytest
from django.test import Client
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from accounts.models import User
from catalog.models import Category
from catalog.services import product_create

_serial = itertools.count(1)

# Property-based tests run a small budget by default (seconds, in `make test`); HYPOTHESIS_PROFILE=long
# runs a thousand examples each (and longer state machine runs) for a fuzzing session. Tests that need
# the database share one test transaction per example, so the per-example deadline is off.
hypothesis_settings.register_profile("default", max_examples=30, stateful_step_count=20, deadline=None)
hypothesis_settings.register_profile("long", max_examples=1000, stateful_step_count=100, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _embed_on_demand(settings):
    """Saved products wait in the embedding queue until a test flushes it (catalog.search.sync.flush),
    so no background thread changes search results in the middle of a test."""
    from catalog.search import sync

    settings.SEARCH_EMBED_ON_SAVE = "manual"
    yield
    sync._take()  # forget what this test queued


@pytest.fixture(autouse=True)
def _empty_cache():
    """Start every test with an empty cache: catalog counts and grids of another test's rows must not show."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def make_user(db):
    def make(username=None, *, is_staff=False, password="correct horse battery"):
        username = username or f"user{next(_serial)}"
        user = User.objects.create_user(
            username=username, email=f"{username}@example.com", password=password, is_staff=is_staff
        )
        user.raw_password = password
        return user

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def staff(make_user):
    return make_user("staffer", is_staff=True)


@pytest.fixture
def category(db):
    return Category.objects.create(name="茶叶", name_en="Tea", slug="tea")


@pytest.fixture
def make_product(category):
    def make(sku=None, *, price_cents=1000, stock=10, name=None, **fields):
        sku = sku or f"SKU-{next(_serial)}"
        return product_create(
            sku=sku,
            name=name or f"商品 {sku}",
            category=fields.pop("category", category),
            price_cents=price_cents,
            stock=stock,
            **fields,
        )

    return make


@pytest.fixture
def product(make_product):
    return make_product("TEA-001", name="西湖龙井", name_en="West Lake Longjing", price_cents=12800, stock=5)


@pytest.fixture
def api():
    return APIClient()


def api_client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def page_client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


CONTACT = {"name": "张三", "phone": "13800000000", "address": "上海市黄浦区南京东路 1 号"}


@pytest.fixture
def whole_minute():
    """Start with most of a clock minute ahead: the rate limits count per minute, and a count that
    straddles the minute's end starts again at zero (a test that counts would see no limit)."""
    left = 60 - time.time() % 60
    if left < 20:
        time.sleep(left + 0.1)
