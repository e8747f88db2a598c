import json

from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from assistant.models import Conversation, Message, PendingConfirmation
from mcpshop_site.parsers import json_loads


class ReadOnlyAdmin:
    """A record of what happened: staff read it, nobody edits it here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MessageInline(ReadOnlyAdmin, admin.TabularInline):
    model = Message
    fields = ["created_at", "role", "content", "calls", "tool_call_id"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["created_at", "id"]

    @admin.display(description=_("tool calls"))
    def calls(self, message):
        """Show each tool call as name(arguments), escaped."""
        return format_html_join(
            "",
            "<div><code>{}({})</code></div>",
            ((call.get("name", "?"), _pretty(call.get("arguments", ""))) for call in message.tool_calls or []),
        )


class ConfirmationInline(ReadOnlyAdmin, admin.TabularInline):
    model = PendingConfirmation
    fields = ["created_at", "action", "outcome", "used_at", "expires_at", "order_link"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description=_("order"))
    def order_link(self, confirmation):
        if confirmation.order_id is None:
            return "-"
        url = reverse("admin:orders_order_change", args=[confirmation.order_id]) if _order_admin() else ""
        return format_html('<a href="{}">#{}</a>', url, confirmation.order_id) if url else f"#{confirmation.order_id}"


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ["__str__", "user", "message_count", "created_at", "updated_at"]
    list_filter = ["created_at"]
    search_fields = ["title", "user__username", "user__email", "=public_id"]
    readonly_fields = ["public_id", "user", "title", "state", "created_at", "updated_at"]
    fields = readonly_fields
    inlines = [MessageInline, ConfirmationInline]
    list_select_related = ["user"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(message_count=Count("messages"))

    @admin.display(description=_("messages"), ordering="message_count")
    def message_count(self, conversation):
        return conversation.message_count


@admin.register(PendingConfirmation)
class PendingConfirmationAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ["action", "user", "outcome", "created_at", "expires_at", "used_at", "order"]
    list_filter = ["action", "outcome"]
    search_fields = ["user__username", "=public_id"]
    readonly_fields = [
        "public_id", "user", "conversation", "action", "payload", "summary", "created_at", "expires_at", "used_at",
        "outcome", "order",
    ]  # fmt: skip
    exclude = ["token_hash", "cart_fingerprint"]
    list_select_related = ["user", "order"]


def _pretty(arguments: str) -> str:
    try:
        return json.dumps(json_loads(arguments or "{}"), ensure_ascii=False)
    except ValueError:
        return arguments


def _order_admin() -> bool:
    from orders.models import Order

    return admin.site.is_registered(Order)
