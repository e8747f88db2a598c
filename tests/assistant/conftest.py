import pytest
from asgiref.sync import sync_to_async
from django.core.cache import cache
from django.db import connections
from django.utils import translation

from assistant.db_threads import database_threads
from assistant.tools import ToolContext
from cart.shoppers import Shopper
from catalog.models import Category
from catalog.services import product_create


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
async def async_db():
    """Close the database connection the test's own async ORM calls opened (in asgiref's shared thread).

    The code under test closes its connections itself; without this, PostgreSQL keeps a session open
    to the test database and cannot drop it at the end.
    """
    yield
    await sync_to_async(connections.close_all)()
    database_threads.close()  # the database threads' kept connections too (the chat socket's sign-in checks)


@pytest.fixture
def english():
    """Speak English in shopper-facing messages (the shop's default language is Chinese)."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """These tests make many accounts and never log in with a password: hash them cheaply."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def shop(db, category):
    """A small bilingual catalog: tea, a mug and running shoes, with known prices (in cents) and stock."""
    ware = Category.objects.create(name="家居", name_en="Home", slug="home", position=1)
    shoes = Category.objects.create(name="运动鞋", name_en="Sports shoes", slug="shoes", position=2)
    rows = [  # sku, name, English name, category, price in cents, stock, description, English description
        ("TEA-LJ", "西湖龙井", "West Lake Longjing", category, 12800, 5, "明前龙井。", "Early spring green tea."),
        ("TEA-TGY", "安溪铁观音", "Anxi Tieguanyin", category, 8800, 20, "浓香型乌龙茶。", "A fragrant oolong tea."),
        ("TEA-PU", "云南普洱", "Yunnan Pu-erh", category, 19900, 0, "熟普洱茶饼。", "A ripe pu-erh tea cake."),
        ("MUG-01", "陶瓷马克杯", "Ceramic Mug", ware, 3900, 50, "350 毫升白瓷杯。", "A 350 ml white mug."),
        ("SHOE-RUN", "轻量跑鞋", "Light Running Shoes", shoes, 39900, 8, "透气跑步鞋。", "Breathable running shoes."),
        ("SHOE-TRL", "越野跑鞋", "Trail Running Shoes", shoes, 25900, 3, "防滑越野鞋。", "Grippy trail running shoes."),
    ]
    products = {}
    for sku, name, name_en, shelf, price, stock, description, description_en in rows:
        products[sku] = product_create(
            sku=sku,
            name=name,
            name_en=name_en,
            category=shelf,
            price_cents=price,
            stock=stock,
            description=description,
            description_en=description_en,
        )
    return products


@pytest.fixture
def ctx_for():
    def make(user=None, *, guest_token=None, conversation=None):
        return ToolContext(shopper=Shopper(user=user, guest_token=guest_token), conversation=conversation)

    return make


@pytest.fixture
async def fake_model():
    """Start a scripted OpenAI-compatible server; return it with a brain pointed at it.

    The brains' HTTP clients are closed on the test's own event loop at the end.
    """
    from assistant import llm
    from assistant.llm import OpenAIBrain
    from tests.assistant.fake_openai import FakeOpenAI

    servers, brains = [], []

    def start(script, *, timeout=5.0, max_retries=2):
        server = FakeOpenAI(script).__enter__()
        servers.append(server)
        brain = OpenAIBrain(
            api_key="test-key", base_url=server.base_url, model="fake-model", timeout=timeout, max_retries=max_retries
        )
        brains.append(brain)
        return server, brain

    yield start
    for brain in brains:
        await brain.aclose()
    if llm._openai_brain is not None:  # the configured brain, if a test used it
        await llm._openai_brain.aclose()
    for server in servers:
        server.__exit__(None, None, None)
