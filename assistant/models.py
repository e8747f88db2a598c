import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Conversation(models.Model):
    """A chat between one shopper (an account, or a guest's token) and the assistant.

    Outside the database a conversation is known only by its `public_id`. A guest's token is
    stored as its SHA-256, never in the clear.
    """

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="conversations",
    )
    guest_key = models.CharField(_("guest key"), max_length=64, blank=True, db_index=True, editable=False)
    title = models.CharField(_("title"), max_length=200, blank=True)
    # What the offline engine remembers between turns besides the messages (assistant.offline.state):
    # the list last shown, the product in focus, a pending question, so "add two of those" means something.
    state = models.JSONField(_("state"), default=dict, blank=True)
    # The turn being answered holds the conversation until then (see assistant.services.conversation_lease_take):
    # turns of one conversation run one at a time, across processes; a crashed turn's hold expires.
    turn_lease_until = models.DateTimeField(_("turn lease until"), null=True, blank=True, editable=False)
    turn_lease_holder = models.CharField(_("turn lease holder"), max_length=32, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [
            models.CheckConstraint(condition=Q(user__isnull=False) | ~Q(guest_key=""), name="conversation_has_owner"),
        ]
        indexes = [models.Index(fields=["user", "-updated_at"], name="conversation_user_updated")]

    def __str__(self):
        return self.title or str(self.public_id)

    def get_absolute_url(self):
        return reverse("assistant:conversation_detail", args=[self.public_id])


class Message(models.Model):
    """One message of a conversation, in the order the model saw it, tool calls included."""

    class Role(models.TextChoices):
        USER = "user", _("Shopper")
        ASSISTANT = "assistant", _("Assistant")
        TOOL = "tool", _("Tool result")

    conversation = models.ForeignKey(
        Conversation, verbose_name=_("conversation"), on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    content = models.TextField(_("content"), blank=True)
    # For assistant messages: [{"id", "name", "arguments"}], arguments as the JSON text the model sent.
    tool_calls = models.JSONField(_("tool calls"), default=list, blank=True)
    tool_call_id = models.CharField(_("tool call id"), max_length=255, blank=True)  # providers differ in id length
    tool_name = models.CharField(_("tool name"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [models.Index(fields=["conversation", "created_at", "id"], name="message_conversation_order")]

    def __str__(self):
        return f"{self.role}: {self.content[:60]}"


class PendingConfirmation(models.Model):
    """An action the assistant prepared that only the shopper's own click may carry out.

    The token shown to the shopper's client is single-use and expiring; only its SHA-256 is kept.
    For an order, the fingerprint of the cart (or checkout session) at the time of the summary is kept
    too: one that changed afterwards invalidates the confirmation.
    """

    class Action(models.TextChoices):
        PLACE_ORDER = "place_order", _("Place order")
        CANCEL_ORDER = "cancel_order", _("Cancel order")
        # An MCP client's checkout session (UCP or ACP binding) handed to the shopper: payload {owner, session_id}.
        CHECKOUT_SESSION = "checkout_session", _("Place a checkout session's order")

    class Outcome(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        DECLINED = "declined", _("Declined")
        STALE = "stale", _("Cart changed")

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    conversation = models.ForeignKey(
        Conversation,
        verbose_name=_("conversation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="confirmations",
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    cart_fingerprint = models.CharField(_("cart fingerprint"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    order = models.ForeignKey(
        "orders.Order", verbose_name=_("order"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("pending confirmation")
        verbose_name_plural = _("pending confirmations")

    def __str__(self):
        return f"{self.get_action_display()} for {self.user_id} ({self.outcome or 'open'})"

    @property
    def is_open(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()
