"""The assistant in the storefront: the widget on every page, the conversation pages, guests at login."""

import json
import re
from html import unescape

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from assistant.chat import collect_turn
from assistant.models import Conversation, Message
from assistant.offline import OfflineBrain
from assistant.services import conversation_start, message_create
from cart.shoppers import GUEST_CART_SESSION_KEY, Shopper
from tests.catalog.test_views import INLINE_CODE
from tests.conftest import page_client_for

CONFIG = re.compile(r'data-config="([^"]*)"')


def widget_config(response) -> dict:
    return json.loads(unescape(CONFIG.search(response.content.decode()).group(1)))


def chat(user, text, **kwargs):
    return async_to_sync(collect_turn)(shopper=Shopper(user=user), text=text, brain=OfflineBrain(), **kwargs)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/cart/", "/search/?q=tea", "/accounts/login/", "/no/such/page/"])
def test_every_storefront_page_carries_the_widget_configured_by_data_attributes(client, product, path):
    response = client.get(path)

    html = response.content.decode()
    assert '<script type="module" src="/static/js/chat/main.js"></script>' in html
    assert 'aria-expanded="false"' in html and 'aria-controls="chat-panel"' in html
    config = widget_config(response)
    assert config["socket"] == "/ws/chat/" and config["user"] == "guest" and config["guest_ready"] is False
    assert config["csrf"] and config["cart_add_url"] == reverse("cart:add")
    assert config["order_url"] == "/orders/0/" and config["history_url"] == "/api/conversations/"
    assert config["strings"]["add"] == "加入购物车"  # the page's language (Chinese by default)
    assert not INLINE_CODE.search(html)


@pytest.mark.django_db
def test_the_widget_speaks_english_on_english_pages_and_knows_a_signed_in_shopper(alice):
    client = page_client_for(alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    config = widget_config(client.get("/"))

    assert config["user"] == f"u{alice.pk}" and config["guest_ready"] is True
    assert config["strings"]["add"] == "Add to cart" and config["strings"]["confirm"] == "Confirm"


@pytest.mark.django_db
def test_a_guest_gets_a_cart_token_and_session_before_the_socket_opens():
    client = Client(enforce_csrf_checks=True)
    config = widget_config(client.get("/"))
    url = config["session_url"]

    refused = client.post(url)
    ok = client.post(url, HTTP_X_CSRFTOKEN=config["csrf"])
    token = client.session[GUEST_CART_SESSION_KEY]
    again = client.post(url, HTTP_X_CSRFTOKEN=config["csrf"])

    assert refused.status_code == 403 and ok.status_code == 200 and ok.json() == {"ok": True}
    assert settings.SESSION_COOKIE_NAME in ok.cookies
    assert again.status_code == 200 and client.session[GUEST_CART_SESSION_KEY] == token
    assert widget_config(client.get("/"))["guest_ready"] is True
    assert client.get(url).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_the_conversation_pages_show_the_shoppers_own_chats_with_their_tool_calls(alice, bob, shop):
    mugs = chat(alice, "show me mugs")
    chat(alice, "add it", conversation_id=mugs.conversation_id)
    chat(bob, "my orders")
    mine = Conversation.objects.get(public_id=mugs.conversation_id)
    client = page_client_for(alice)

    listing = client.get(reverse("assistant:conversation_list"))
    detail = client.get(mine.get_absolute_url())

    assertContains(listing, "show me mugs")
    assertContains(listing, mine.get_absolute_url())
    assertNotContains(listing, "my orders")
    assertContains(detail, "show me mugs")
    assertContains(detail, "把 1 × 陶瓷马克杯 加入了购物车")  # what the call did, in words (Chinese by default)
    assertContains(detail, "&quot;MUG-01&quot;")  # the call's arguments, escaped, under "Details"
    for response in (listing, detail):
        assert not INLINE_CODE.search(response.content.decode())
    assert page_client_for(bob).get(mine.get_absolute_url()).status_code == 404
    assert client.get(reverse("assistant:conversation_detail", args=["not-a-uuid"])).status_code == 404
    anonymous = Client().get(mine.get_absolute_url())
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("accounts:login"))


@pytest.mark.django_db
def test_the_account_page_links_to_the_conversations(alice):
    assertContains(page_client_for(alice).get(reverse("accounts:account")), reverse("assistant:conversation_list"))


@pytest.mark.django_db
def test_an_empty_conversation_list_says_how_to_start(alice):
    response = page_client_for(alice).get(reverse("assistant:conversation_list"))

    assert response.status_code == 200
    assertContains(response, 'class="empty"')


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("door", ["login", "signup"])
def test_a_guests_conversation_follows_them_into_their_account(alice, shop, door):
    client = Client()
    started = client.post("/api/chat", {"text": "add 2 mugs to my cart"}, content_type="application/json").json()
    assert started["cart"]["count"] == 2

    if door == "login":
        client.post(reverse("accounts:login"), {"username": "alice", "password": alice.raw_password})
        owner = alice
    else:
        password = "a long, unusual passphrase 42"
        client.post(
            reverse("accounts:signup"),
            {"username": "newcomer", "email": "new@example.com", "password1": password, "password2": password},
        )
        owner = Conversation.objects.get().user
        assert owner is not None and owner.username == "newcomer"

    conversation = Conversation.objects.get()
    assert conversation.user == owner and conversation.guest_key == ""
    detail = client.get(f"/api/conversations/{started['conversation_id']}")
    assert detail.status_code == 200 and detail.json()["messages"][0]["content"] == "add 2 mugs to my cart"
    follow = client.post(
        "/api/chat",
        {"text": "what's in my cart", "conversation_id": started["conversation_id"]},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies[settings.CSRF_COOKIE_NAME].value,
    )
    assert follow.status_code == 200 and follow.json()["cart"]["count"] == 2


def record(user, steps) -> Conversation:
    """Store a conversation whose assistant made these tool calls: [(name, arguments, result)]."""
    conversation = conversation_start(shopper=Shopper(user=user), title_from="mugs")
    message_create(conversation=conversation, role=Message.Role.USER, content="mugs")
    calls = [
        {"id": f"c{n}", "name": name, "arguments": json.dumps(arguments)}
        for n, (name, arguments, _) in enumerate(steps)
    ]
    message_create(conversation=conversation, role=Message.Role.ASSISTANT, content="", tool_calls=calls)
    for call, (name, _, result) in zip(calls, steps, strict=True):
        content = json.dumps(result, ensure_ascii=False)
        message_create(
            conversation=conversation, role=Message.Role.TOOL, content=content, tool_call_id=call["id"], tool_name=name
        )
    message_create(conversation=conversation, role=Message.Role.ASSISTANT, content="Done.")
    return conversation


STEPS = [
    ("search_products", {"query": "mugs"}, {"products": [{"sku": "MUG-01", "name": "陶瓷马克杯"}], "count": 1}),
    (
        "add_to_cart",
        {"sku": "MUG-01", "quantity": 2},
        {"added": {"sku": "MUG-01", "name": "陶瓷马克杯", "name_en": "Ceramic Mug", "quantity_added": 2}},
    ),
    ("place_order", {}, {"error": {"code": "login_required", "message": "Please sign in first.", "details": {}}}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", ["Searched for “mugs”", "Added 2 × Ceramic Mug to the cart", "Could not prepare your order"]),
        ("zh-hans", ["搜索了“mugs”", "把 2 × 陶瓷马克杯 加入了购物车", "没能准备订单"]),
    ],
)
def test_the_transcript_tells_each_step_in_words_not_tool_names(alice, shop, language, said):
    client = page_client_for(alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    detail = client.get(record(alice, STEPS).get_absolute_url())

    labels = re.findall(r'<span class="transcript-step-label">(.*?)</span>', detail.content.decode())
    assert [unescape(label) for label in labels] == said
    for name in ("search_products", "add_to_cart", "place_order"):
        assert name not in "".join(labels)
    assertContains(detail, '<li class="transcript-step transcript-step-failed">', count=1)


@pytest.mark.django_db
def test_a_restored_conversation_shows_the_live_notes_and_cards(alice, shop):
    conversation = record(alice, STEPS)
    client = page_client_for(alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    body = client.get(reverse("api:conversation-detail", args=[conversation.public_id])).json()

    events = [event for message in body["messages"] for event in message["events"]]
    assert [(event["type"], event.get("label")) for event in events] == [
        ("tool", "Searched for “mugs”"),
        ("products", None),
        ("tool", "Added 2 × Ceramic Mug to the cart"),
        ("tool", "Could not prepare your order"),
    ]
    assert [event["error"] for event in events if event["type"] == "tool"][2]["code"] == "login_required"
    card = events[1]["items"][0]
    assert card["sku"] == "MUG-01" and card["url"] == "/products/MUG-01/" and "image_url" in card
    assert (card["name"], card["name_en"]) == ("陶瓷马克杯", "Ceramic Mug")  # the widget picks by language
