import itertools
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from accounts.models import User
from catalog.models import Category
from catalog.services import product_create

_serial = itertools.count(1)
ROOT = Path(__file__).resolve().parent.parent

# Property-based tests run a small budget by default (seconds, in `make test`); HYPOTHESIS_PROFILE=long
# runs a thousand examples each (and longer state machine runs) for a fuzzing session. Tests that need
# the database share one test transaction per example, so the per-example deadline is off.
hypothesis_settings.register_profile("default", max_examples=30, stateful_step_count=20, deadline=None)
hypothesis_settings.register_profile("long", max_examples=1000, stateful_step_count=100, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


class OneRoundPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """Django's PBKDF2 with one round: hashes made in tests cost microseconds, not half a second of CPU each
    (hundreds of accounts and logins a run). The algorithm name is the same and the rounds are stored in
    the hash, so a shop process in another process (LiveServer, daphne), with Django's hashers only,
    checks these passwords too."""

    iterations = 1


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["tests.conftest.OneRoundPBKDF2PasswordHasher", *settings.PASSWORD_HASHERS]


@pytest.fixture(autouse=True)
def _default_language():
    """Start every test in the shop's default language: a test client request activates its language in the
    test's thread and Django's LocaleMiddleware leaves it active after the response (harmless in a server,
    where every request activates its own), so English leaked into the next test's Chinese text."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Start every test with empty caches: catalog counts, grids and responses of another test's rows must not show."""
    from django.core.cache import caches

    for alias in settings.CACHES:
        caches[alias].clear()


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
# The checkout page's form for a typed address, and the one line an order prints of it.
CHECKOUT = {
    "address_choice": "new",
    "name": "张三",
    "phone": "13800000000",
    "country": "CN",
    "region": "上海市",
    "city": "黄浦区",
    "street": "南京东路 1 号",
}
CHECKOUT_ADDRESS = "上海市 黄浦区 南京东路 1 号"
RETURN_URL = "http://testserver/orders/"  # where a payment provider sends the shopper back (order_pay)


def shop_env(directory: Path) -> dict:
    """The environment of a shop served from `directory` as `make run` does: SQLite, its own media, no model."""
    return {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{directory / 'shop.sqlite3'}",
        "MEDIA_ROOT": str(directory / "media"),
        "OPENAI_API_KEY": "",
    }


def manage(directory: Path, *command: str, stdin: str | None = None, env: dict | None = None) -> None:
    """Run a manage.py command on the shop in `directory`."""
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *command],
        cwd=ROOT,
        env={**shop_env(directory), **(env or {})},
        check=True,
        capture_output=True,
        input=stdin,
        text=True,
    )


@pytest.fixture(scope="session")
def shop_files(tmp_path_factory):
    """Copy a migrated SQLite shop into a directory: `shop_files(directory)` with the demo catalog and its
    pictures (`seed_demo`), `shop_files(directory, demo=False)` empty. Each kind is migrated (and seeded)
    once a run, for the browser tests that serve a shop with daphne; each gets its own copy."""
    made = {}

    def template(demo: bool) -> Path:
        if demo not in made:
            directory = tmp_path_factory.mktemp("demo-shop" if demo else "empty-shop")
            if demo:
                copy(directory, demo=False)
                manage(directory, "seed_demo")
            else:
                manage(directory, "migrate", "--noinput", "-v", "0")
            made[demo] = directory
        return made[demo]

    def copy(directory: Path, *, demo: bool = True) -> None:
        source = template(demo)
        # SQLite's backup copies what is still in the write-ahead log too.
        origin, target = sqlite3.connect(source / "shop.sqlite3"), sqlite3.connect(directory / "shop.sqlite3")
        origin.backup(target)
        origin.close()
        target.close()
        if (source / "media").exists():
            shutil.copytree(source / "media", directory / "media")

    return copy
