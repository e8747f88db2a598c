"""The assistant over REST: POST /api/chat, its confirmations, and the shopper's conversations."""

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from assistant import chat
from assistant.llm import BrainError
from assistant.models import Conversation, Message
from assistant.offline import OfflineBrain
from cart.models import CartItem
from cart.selectors import cart_view
from cart.signals import GUEST_CART_SESSION_KEY
from orders.models import Order

pytestmark = pytest.mark.django_db(transaction=True)  # a turn runs its ORM work in a thread of its own

CONTACT_TEXT = "name: Li Lei, phone: 13800000000, address: 1 Nanjing Road, Shanghai"


def jwt_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def types(actions) -> list[str]:
    return [action["type"] for action in actions]


class CountingBrain(OfflineBrain):
    calls = 0

    async def complete(self, **kwargs):
        CountingBrain.calls += 1
        return await super().complete(**kwargs)


class BrokenModel:
    name = "broken"

    def __init__(self, code):
        self.code = code

    async def complete(self, **kwargs):
        await kwargs["on_text"]("Let me see")
        raise BrainError(self.code, "The assistant is unavailable right now.")


@pytest.fixture
def brain(monkeypatch):
    def use(instance):
        monkeypatch.setattr(chat, "get_brain", lambda: instance)
        return instance

    return use


def test_a_turn_over_rest_answers_with_the_reply_actions_and_cart(alice, shop):
    client = jwt_client(alice)

    found = client.post("/api/chat", {"text": "show me mugs"}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    added = client.post(
        "/api/chat", {"text": "add it", "conversation_id": found.json()["conversation_id"]}, format="json"
    )

    assert found.status_code == 200, found.json()
    body = found.json()
    assert set(body) == {"reply", "conversation_id", "message_id", "actions", "cart"}
    assert "Ceramic Mug" in body["reply"] and types(body["actions"]) == ["tool", "products"]
    card = body["actions"][1]["items"][0]
    assert card == body["actions"][0]["result"]["products"][0]
    assert (card["sku"], card["name_en"], card["price_cents"], card["stock"], card["url"]) == (
        "MUG-01",
        "Ceramic Mug",
        3900,
        50,
        "/products/MUG-01/",
    )
    assert body["cart"] == cart_view([])  # the order emptied it
    assert added.status_code == 200 and added.json()["conversation_id"] == body["conversation_id"]
    assert added.json()["cart"]["count"] == 1 and added.json()["cart"]["items"][0]["sku"] == "MUG-01"
    assert CartItem.objects.get(cart__user=alice).quantity == 1


def test_the_same_conversation_id_in_answers_and_the_conversation_list(alice, shop):
    client = jwt_client(alice)
    first = client.post("/api/chat", {"text": "show me mugs"}, format="json").json()
    client.post("/api/chat", {"text": "add it", "conversation_id": first["conversation_id"]}, format="json")

    listed = client.get("/api/conversations/").json()
    detail = client.get(f"/api/conversations/{first['conversation_id']}").json()

    assert listed["count"] == 1
    assert listed["results"][0]["id"] == first["conversation_id"] == detail["id"]
    assert listed["results"][0]["title"] == "show me mugs" and listed["results"][0]["message_count"] == 8
    roles = [(message["role"], message["tool_name"]) for message in detail["messages"]]
    assert roles == [
        ("user", ""),
        ("assistant", ""),
        ("tool", "search_products"),
        ("assistant", ""),
        ("user", ""),
        ("assistant", ""),
        ("tool", "add_to_cart"),
        ("assistant", ""),
    ]
    call = detail["messages"][5]["tool_calls"][0]
    assert call["name"] == "add_to_cart" and '"MUG-01"' in call["arguments"]


def test_someone_elses_conversation_is_not_found_anywhere(alice, bob, shop):
    mine = jwt_client(alice).post("/api/chat", {"text": "show me mugs"}, format="json").json()["conversation_id"]
    intruder = jwt_client(bob)

    answers = [
        intruder.post("/api/chat", {"text": "add it", "conversation_id": mine}, format="json"),
        intruder.get(f"/api/conversations/{mine}"),
        APIClient().get(f"/api/conversations/{mine}"),
        intruder.get("/api/conversations/00000000-0000-0000-0000-000000000000"),
        intruder.get("/api/conversations/not-a-uuid"),
    ]

    assert [answer.status_code for answer in answers] == [404] * 5
    assert answers[0].json()["error"]["code"] == "conversation_not_found"
    assert intruder.get("/api/conversations/").json()["count"] == 0
    assert Message.objects.count() == 4 and not CartItem.objects.exists()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"text": ""}, 400),
        ({"text": "   "}, 400),
        ({"text": 5}, 400),
        ({"text": "x" * (settings.ASSISTANT_MAX_INPUT_CHARS + 1)}, 400),
        ({"text": "hi", "conversation_id": "x" * 65}, 400),
        ({"text": "hi", "conversation_id": "not-a-conversation"}, 404),
    ],
)
def test_bad_input_is_refused_in_the_error_shape_before_the_model(alice, brain, body, status):
    CountingBrain.calls = 0
    brain(CountingBrain())

    answer = jwt_client(alice).post("/api/chat", body, format="json")

    assert answer.status_code == status
    assert set(answer.json()["error"]) == {"code", "message", "details"}
    assert CountingBrain.calls == 0


def test_the_rate_limit_answers_429_before_the_model(alice, brain, settings):
    settings.ASSISTANT_RATE_LIMIT_PER_MINUTE = 1
    CountingBrain.calls = 0
    brain(CountingBrain())
    client = jwt_client(alice)

    first = client.post("/api/chat", {"text": "hello"}, format="json")
    limited = client.post("/api/chat", {"text": "hello"}, format="json")

    assert first.status_code == 200
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
    # One turn a sliding minute: the next fits once the first has left the window, a minute or two away.
    assert 60 <= int(limited["Retry-After"]) <= 120
    assert CountingBrain.calls == 1


@pytest.mark.parametrize(
    ("code", "status"),
    [("model_unavailable", 502), ("model_interrupted", 502), ("model_busy", 503), ("model_timeout", 504)],
)
def test_a_model_failure_is_a_5xx_with_the_conversation_kept(alice, brain, code, status):
    brain(BrokenModel(code))

    answer = jwt_client(alice).post("/api/chat", {"text": "hello"}, format="json")

    assert answer.status_code == status
    error = answer.json()["error"]
    assert error["code"] == code and error["details"]["reply"] == "Let me see"
    conversation = Conversation.objects.get()
    assert error["details"]["conversation_id"] == str(conversation.public_id)
    last = conversation.messages.order_by("-id").first()
    assert last.role == "assistant" and last.content.startswith("Let me see")


def test_a_guest_chats_with_their_session_and_the_usual_csrf_check(shop):
    client = Client(enforce_csrf_checks=True)

    first = client.post("/api/chat", {"text": "add 3 mugs to my cart"}, content_type="application/json")
    forged = client.post("/api/chat", {"text": "add 3 mugs to my cart"}, content_type="application/json")
    csrf = client.cookies[settings.CSRF_COOKIE_NAME].value
    second = client.post(
        "/api/chat",
        {"text": "what's in my cart", "conversation_id": first.json()["conversation_id"]},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf,
    )

    assert first.status_code == 200 and first.json()["cart"]["count"] == 3
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "permission_denied"
    assert second.status_code == 200 and second.json()["cart"]["count"] == 3
    token = client.session[GUEST_CART_SESSION_KEY]
    assert CartItem.objects.get(cart__session_key=token).quantity == 3
    detail = client.get(f"/api/conversations/{first.json()['conversation_id']}")
    assert detail.status_code == 200 and detail.json()["messages"][0]["content"] == "add 3 mugs to my cart"
    assert client.get("/api/conversations/").status_code in (401, 403)
    other_guest = Client().get(f"/api/conversations/{first.json()['conversation_id']}")
    assert other_guest.status_code == 404


def test_confirm_and_cancel_over_rest_for_the_owner_only(alice, bob, shop):
    client = jwt_client(alice)
    client.post("/api/chat", {"text": "add two mugs"}, format="json")
    prepared = client.post("/api/chat", {"text": CONTACT_TEXT}, format="json").json()
    confirmation = next(action for action in prepared["actions"] if action["type"] == "confirm_required")
    token = confirmation["token"]

    assert jwt_client(bob).post("/api/chat/confirm", {"token": token}, format="json").status_code == 404
    assert APIClient().post("/api/chat/confirm", {"token": token}, format="json").status_code == 401
    assert not Order.objects.exists()
    placed = client.post("/api/chat/confirm", {"token": token}, format="json")
    again = client.post("/api/chat/confirm", {"token": token}, format="json")

    assert placed.status_code == 200, placed.json()
    assert placed.json()["order"]["total_cents"] == 7800 and placed.json()["cart"]["count"] == 0
    assert again.status_code == 409 and again.json()["error"]["code"] == "confirmation_used"
    assert Order.objects.get().user == alice

    client.post("/api/chat", {"text": "add a mug"}, format="json")
    second = client.post("/api/chat", {"text": "place my order"}, format="json").json()
    token = next(action["token"] for action in second["actions"] if action["type"] == "confirm_required")
    declined = client.post("/api/chat/cancel", {"token": token}, format="json")
    assert declined.status_code == 200 and declined.json() == {"outcome": "declined"}
    assert client.post("/api/chat/confirm", {"token": token}, format="json").status_code == 409
    assert client.post("/api/chat/confirm", {"token": ""}, format="json").status_code == 400
    assert Order.objects.count() == 1


def test_the_conversation_list_pages_in_a_constant_number_of_queries(alice, shop):
    client = jwt_client(alice)
    for text in ("hello", "show me mugs", "my orders"):
        client.post("/api/chat", {"text": text}, format="json")

    with CaptureQueriesContext(connection) as one:
        small = client.get("/api/conversations/?limit=1")
    with CaptureQueriesContext(connection) as three:
        large = client.get("/api/conversations/?limit=3")

    assert small.json()["count"] == 3 and len(small.json()["results"]) == 1 and small.json()["next"]
    assert [row["title"] for row in large.json()["results"]] == ["my orders", "show me mugs", "hello"]
    assert len(one) == len(three)


def test_the_chat_endpoints_are_in_the_schema(client):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]

    assert "post" in paths["/api/chat"] and "post" in paths["/api/chat/confirm"] and "post" in paths["/api/chat/cancel"]
    assert "get" in paths["/api/conversations/"] and "get" in paths["/api/conversations/{conversation_id}"]
    assert {"400", "404", "429", "502", "503", "504"} <= set(paths["/api/chat"]["post"]["responses"])
