"""Staff read conversations in the admin, with the tool calls and the orders they led to."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from assistant.models import Conversation, Message, PendingConfirmation
from assistant.services import confirmation_create, message_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(alice):
    conversation = Conversation.objects.create(user=alice, title="tea please")
    message_create(conversation=conversation, role=Message.Role.USER, content="<script>alert(1)</script> tea?")
    message_create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        tool_calls=[{"id": "c1", "name": "search_products", "arguments": json.dumps({"query": "<b>tea</b>"})}],
    )
    message_create(conversation=conversation, role=Message.Role.TOOL, content='{"products": []}', tool_call_id="c1")
    message_create(conversation=conversation, role=Message.Role.ASSISTANT, content="No tea today.")
    confirmation_create(user=alice, action="place_order", payload={}, summary={}, conversation=conversation)
    return conversation


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_staff_with_the_view_permission_read_a_conversation_with_its_tool_calls(make_user, conversation):
    reader = make_user("reader", is_staff=True)
    reader.user_permissions.add(*Permission.objects.filter(codename__in=["view_conversation", "view_message"]))
    client = _client(reader)

    listing = client.get("/admin/assistant/conversation/")
    page = client.get(f"/admin/assistant/conversation/{conversation.pk}/change/")

    assert listing.status_code == 200 and "tea please" in listing.text
    assert page.status_code == 200
    html = page.text
    assert "search_products(" in html and "&lt;b&gt;tea&lt;/b&gt;" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "No tea today." in html
    assert 'name="_save"' not in html  # read-only


def test_a_superuser_reads_confirmations_without_their_token_hash(make_user, conversation):
    boss = make_user("boss", is_staff=True)
    boss.is_superuser = True
    boss.save()
    confirmation = PendingConfirmation.objects.get()

    page = _client(boss).get(f"/admin/assistant/pendingconfirmation/{confirmation.pk}/change/")

    assert page.status_code == 200
    assert confirmation.token_hash not in page.text


def test_conversations_are_not_for_shoppers_or_staff_without_permission(make_user, alice, conversation):
    assert _client(alice).get("/admin/assistant/conversation/").status_code == 302
    clerk = make_user("clerk", is_staff=True)
    assert _client(clerk).get(f"/admin/assistant/conversation/{conversation.pk}/change/").status_code == 403
