"""The offline engine on whole dialogues (tests/assistant/dialogues.py), graded by the database only.

Every dialogue runs through the real turn loop, as one new shopper on the demo catalog (embedded,
so search works as in the shop); "!confirm" redeems the last confirmation as the shopper's click
does. The end state (cart lines and quantities, orders with status and lines) must be the labelled
one. The pass rate is printed; every development dialogue must pass. The held-out set is measured
and printed too, against a floor: it was written with the development set and not tuned against.
"""

import itertools

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings

from accounts.addresses import address_create
from assistant import chat
from assistant.offline import OfflineBrain
from cart.models import CartDiscount, CartItem
from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from catalog.management.demo_catalog import CATEGORIES, PRODUCTS
from catalog.models import Category, Product
from catalog.search import embeddings, product_search, vectors
from catalog.services import product_create
from orders.management.demo_pricing import load_demo_pricing
from orders.models import Order
from orders.services import order_place
from tests.assistant.dialogues import DEV, HELD_OUT, Dialogue
from tests.conftest import CONTACT


def played(test):
    """Mark a test that plays dialogues through the real turn loop (async, on committed data)."""
    for mark in (pytest.mark.anyio, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("async_db")):
        test = mark(test)
    return test


# Measured: 9/13 when the set was written, 8/13 later, 12/13 after four of its failures were fixed on request
# (so those four are no longer unseen); a collapse fails, one dialogue's swing does not.
HELD_OUT_FLOOR = 0.5
_passages: dict[str, object] = {}
_serial = itertools.count()
HOME = {
    "recipient": "张三",
    "phone": "13800000000",
    "country": "CN",
    "region": "上海",
    "city": "上海市",
    "street": "测试路 1 号",
}


def _demo_catalog() -> dict[str, Product]:
    categories = {}
    for position, demo in enumerate(CATEGORIES):
        categories[demo.slug] = Category.objects.create(
            name=demo.name, name_en=demo.name_en, slug=demo.slug, parent=categories.get(demo.parent), position=position
        )
    products = {}
    for demo in PRODUCTS:
        products[demo.sku] = product_create(
            sku=demo.sku, name=demo.name, name_en=demo.name_en, category=categories[demo.category],
            price_cents=demo.price_cents, stock=demo.stock, description=demo.description,
            description_en=demo.description_en,
        )  # fmt: skip
    load_demo_pricing()
    backend = embeddings.get_backend()
    embed = backend.passages

    def remembered(texts):  # the catalog is embedded once per process, not once per test
        missing = [text for text in texts if text not in _passages]
        if missing:
            _passages.update(zip(missing, embed(missing), strict=True))
        return [_passages[text] for text in texts]

    import numpy as np

    backend.passages = lambda texts: np.asarray(remembered(list(texts)), dtype=np.float32)
    try:
        vectors.embed_products(Product.objects.values_list("pk", flat=True))
    finally:
        del backend.passages
    return products


@pytest.fixture
def demo_shop():
    with override_settings(EMBEDDING_BACKEND="local"):
        embeddings.reset()
        yield _demo_catalog()
    embeddings.reset()


def _scene(dialogue: Dialogue, user, shop) -> list[str]:
    numbers = []
    if dialogue.home:
        address_create(user=user, make_default=True, **HOME)
    for lines in dialogue.before_orders:
        for sku, quantity in lines.items():
            cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=user)), product=shop[sku], quantity=quantity)
        numbers.append(order_place(user=user, **CONTACT).number)
    for sku, quantity in dialogue.before_cart.items():
        cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=user)), product=shop[sku], quantity=quantity)
    return numbers


def _end_state(user, dialogue: Dialogue) -> tuple[dict, list, list | None, tuple]:
    cart = dict(CartItem.objects.filter(cart__user=user).values_list("product__sku", "quantity"))
    placed = list(
        Order.objects.filter(user=user).order_by("id").select_related("shipping_method").prefetch_related("items")
    )
    orders = [(order.status, {item.sku: item.quantity for item in order.items.all()}) for order in placed]
    checkout = None
    if dialogue.checkout is not None:  # how the orders placed in the dialogue were priced
        checkout = [
            (tuple(d["code"] for d in order.discounts if d["code"]), getattr(order.shipping_method, "name_en", ""))
            for order in placed[len(dialogue.before_orders) :]
        ]
    codes = tuple(CartDiscount.objects.filter(cart__user=user).order_by("id").values_list("code__code", flat=True))
    return cart, orders, checkout, codes


async def _play(dialogue: Dialogue, make_user, shop) -> tuple[bool, str]:
    user = await sync_to_async(make_user)(f"shopper{next(_serial)}")
    numbers = await sync_to_async(_scene)(dialogue, user, shop)
    brain, conversation_id, token, transcript = OfflineBrain(), None, None, []
    for text in dialogue.turns:
        if text == "!confirm":
            events = await chat.confirm(user=user, token=token) if token else [{"type": "error"}]
            transcript.append(f"  [confirm] -> {[event['type'] for event in events]}")
            continue
        text = text.format(**{f"order{n}": number for n, number in enumerate(numbers)})
        result = await collect(user, text, conversation_id, brain)
        conversation_id = result.conversation_id
        tokens = [event["token"] for event in result.events if event["type"] == "confirm_required"]
        token = tokens[-1] if tokens else token
        calls = [f"{event['name']}{event['arguments']}" for event in result.events if event["type"] == "tool"]
        transcript.append(f"  > {text}\n    {calls}\n    {result.reply!r}")
    got = await sync_to_async(_end_state)(user, dialogue)
    expected = (
        dialogue.cart,
        [(status, lines) for status, lines in dialogue.orders],
        dialogue.checkout,
        dialogue.codes,
    )
    ok = got == expected
    report = f"{dialogue.name}: got cart, orders, checkout, codes={got}, expected {expected}"
    return ok, report + "\n" + "\n".join(transcript)


async def collect(user, text, conversation_id, brain):
    return await chat.collect_turn(shopper=Shopper(user=user), text=text, conversation_id=conversation_id, brain=brain)


def _search_knows_no_match() -> bool:
    """Return whether the shop's search answers gibberish with nothing (its relevance floor)."""
    return not list(product_search(query="asdfgh qwerty zxcvb")[:1])


async def _run(dialogues: list[Dialogue], make_user, shop, label: str) -> tuple[float, list[str]]:
    """Play the dialogues; return the pass rate and the failures that count.

    A dialogue that needs search to say "nothing matches" cannot end right while search lists
    something for any query: it is played and its result printed, but it is not counted then.
    """
    knows_no_match = await sync_to_async(_search_knows_no_match)()
    failures, waiting = [], []
    for dialogue in dialogues:
        ok, report = await _play(dialogue, make_user, shop)
        if not ok and dialogue.needs_no_match and not knows_no_match:
            waiting.append(dialogue.name)
        elif not ok:
            failures.append(report)
    counted = len(dialogues) - len(waiting)
    rate = 1 - len(failures) / counted
    chinese = sum(1 for dialogue in dialogues if dialogue.name.startswith("zh"))
    print(
        f"\n{label}: {counted - len(failures)}/{counted} dialogues end right ({rate:.0%}; "
        f"{chinese} Chinese, {len(dialogues) - chinese} English)"
    )
    if waiting:
        print(f"  not counted (search lists products for gibberish, no relevance floor yet): {', '.join(waiting)}")
    return rate, failures


@played
async def test_every_development_dialogue_ends_right(demo_shop, make_user, capsys):
    with capsys.disabled():
        _, failures = await _run(DEV, make_user, demo_shop, "Offline engine, development dialogues")
    assert not failures, "\n\n".join(failures)


@played
async def test_held_out_dialogues(demo_shop, make_user, capsys):
    with capsys.disabled():
        rate, failures = await _run(HELD_OUT, make_user, demo_shop, "Offline engine, held-out dialogues")
    assert rate >= HELD_OUT_FLOOR, "\n\n".join(failures)


def test_the_development_set_is_large_and_bilingual():
    chinese = [dialogue for dialogue in DEV if dialogue.name.startswith("zh")]
    assert len(DEV) >= 40 and len(chinese) >= len(DEV) / 2 - 1
    assert len({dialogue.name for dialogue in DEV + HELD_OUT}) == len(DEV) + len(HELD_OUT)
    assert all(len(dialogue.turns) >= 1 for dialogue in DEV)
