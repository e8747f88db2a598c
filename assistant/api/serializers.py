from django.conf import settings
from rest_framework import serializers

from assistant.models import Conversation, Message
from cart.api.serializers import CartLineSerializer, CartSerializer


class TextField(serializers.CharField):
    """A string, and only a string (DRF's CharField would take 5 or true as text)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ChatRequestSerializer(serializers.Serializer):
    text = TextField(max_length=settings.ASSISTANT_MAX_INPUT_CHARS, help_text="The shopper's message.")
    conversation_id = TextField(
        max_length=64,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Continue this conversation (from an earlier answer); leave out to start a new one.",
    )


class ChatCartLineSerializer(CartLineSerializer):
    image_url = serializers.CharField()
    url = serializers.CharField()


class ChatCartSerializer(CartSerializer):
    items = ChatCartLineSerializer(many=True)


class ChatResponseSerializer(serializers.Serializer):
    reply = serializers.CharField(help_text="The assistant's answer, as plain text.")
    conversation_id = serializers.CharField(help_text="The conversation's public id (as in WebSocket events).")
    message_id = serializers.IntegerField(allow_null=True)
    actions = serializers.ListField(
        child=serializers.DictField(),
        help_text="What happened besides the text, as WebSocket events: `tool`, `products`, `cart`, "
        "`confirm_required` (with the token for /api/chat/confirm), `order`.",
    )
    cart = ChatCartSerializer(help_text="The shopper's cart after the turn.")


class ConfirmationRequestSerializer(serializers.Serializer):
    token = TextField(max_length=2048, help_text="The token of a `confirm_required` action.")


class ConfirmedSerializer(serializers.Serializer):
    order = serializers.DictField(help_text="The order placed or cancelled.")
    cart = ChatCartSerializer()


class DeclinedSerializer(serializers.Serializer):
    outcome = serializers.CharField(help_text="`declined`: nothing was changed.")


class ConversationSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", help_text="The public id (as in WebSocket events).")
    message_count = serializers.IntegerField()

    class Meta:
        model = Conversation
        fields = ["id", "title", "created_at", "updated_at", "message_count"]


class MessageSerializer(serializers.ModelSerializer):
    tool_calls = serializers.ListField(
        child=serializers.DictField(), help_text="For assistant messages: [{id, name, arguments}]."
    )
    events = serializers.ListField(
        child=serializers.DictField(),
        help_text="For assistant messages with tool calls: what the chat showed, as WebSocket events: "
        "`tool` ({name, label, error}) per call, `products` (the cards) after a search.",
    )

    class Meta:
        model = Message
        fields = ["id", "role", "content", "tool_calls", "tool_call_id", "tool_name", "created_at", "events"]


class ConversationDetailSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    title = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    messages = MessageSerializer(many=True, source="message_list", help_text="Every message, tool calls included.")
