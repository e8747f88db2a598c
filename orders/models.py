import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import _in_language
from mcpshop_site.i18n import active_language

# Public order numbers: 12 characters from an alphabet without look-alikes (no 0/O, 1/I/L), 31**12 (about 2**59)
# of them, drawn at random: a shopper's numbers say nothing of the shop's volume and cannot be guessed.
ORDER_NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ORDER_NUMBER_LENGTH = 12


def new_order_number() -> str:
    """Return a fresh random public order number."""
    return "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(ORDER_NUMBER_LENGTH))


class Order(models.Model):
    """A placed order. Status moves only along the transitions in `TRANSITIONS`.

    `paid_cents` and `refunded_cents` are the sums of the order's Payment and Refund rows, kept by the
    payment services in the transaction that writes each row (one query for the dashboard and the API).
    """

    class Status(models.TextChoices):
        PENDING = "PENDING", _("Pending payment")
        PAID = "PAID", _("Paid")
        SHIPPED = "SHIPPED", _("Shipped")
        DELIVERED = "DELIVERED", _("Delivered")
        CANCELLED = "CANCELLED", _("Cancelled")
        EXPIRED = "EXPIRED", _("Expired (not paid in time)")

    TRANSITIONS = {
        Status.PENDING: {Status.PAID, Status.CANCELLED, Status.EXPIRED},
        Status.PAID: {Status.SHIPPED, Status.CANCELLED},  # cancelling a paid order refunds it
        Status.SHIPPED: {Status.DELIVERED},
        Status.DELIVERED: set(),
        Status.CANCELLED: set(),
        Status.EXPIRED: set(),
    }

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="orders"
    )
    number = models.CharField(_("order number"), max_length=16, unique=True, default=new_order_number, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    total_cents = models.PositiveBigIntegerField(_("total (cents)"))
    name = models.CharField(_("recipient"), max_length=100)
    phone = models.CharField(_("phone"), max_length=32)
    address = models.CharField(_("address"), max_length=300)
    idempotency_key = models.CharField(_("idempotency key"), max_length=128, null=True, blank=True)  # noqa: DJ001
    request_fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    payment_due_at = models.DateTimeField(_("pay by"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    paid_cents = models.PositiveBigIntegerField(_("paid (cents)"), default=0, editable=False)
    refunded_cents = models.PositiveBigIntegerField(_("refunded (cents)"), default=0, editable=False)
    # The language the shopper used when placing the order; its emails are written in it.
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default=active_language)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(fields=["user", "idempotency_key"], name="order_unique_idempotency_key"),
            models.CheckConstraint(condition=Q(total_cents__gte=0), name="order_total_cents_gte_0"),
            models.CheckConstraint(
                condition=Q(refunded_cents__lte=models.F("paid_cents")), name="order_refunded_lte_paid"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="order_user_created"),
            models.Index(fields=["status", "payment_due_at"], name="order_status_due"),
        ]

    def __str__(self):
        return f"#{self.number} {self.get_status_display()}"

    def get_absolute_url(self):
        return reverse("orders:detail", kwargs={"order_id": self.pk})

    @property
    def can_cancel(self) -> bool:
        return self.Status.CANCELLED in self.TRANSITIONS[self.status]

    @property
    def can_pay(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def awaits_payment(self) -> bool:
        """Return whether the order is pending and its payment deadline has not passed."""
        return self.status == self.Status.PENDING and timezone.now() < self.payment_due_at


class OrderItem(models.Model):
    """A line of an order, with the SKU, both names and unit price copied at purchase.

    A line of a paid order can be cancelled on its own (`cancelled_at`): its paid amount is refunded.
    """

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), null=True, blank=True, on_delete=models.SET_NULL
    )
    sku = models.CharField(_("SKU"), max_length=32)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    unit_price_cents = models.PositiveIntegerField(_("unit price (cents)"))
    quantity = models.PositiveIntegerField(_("quantity"))
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("order item")
        verbose_name_plural = _("order items")
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="orderitem_quantity_gte_1")]

    def __str__(self):
        return f"{self.quantity} x {self.sku}"

    @property
    def line_total_cents(self) -> int:
        return self.quantity * self.unit_price_cents

    @property
    def display_name(self) -> str:
        """Return the line's name in the active language (the Chinese one when it has no English name)."""
        return _in_language(self.name, self.name_en)

    @property
    def paid_amount_cents(self) -> int:
        """Return what the shopper paid for this line: the amount refunded when the line is cancelled."""
        return self.line_total_cents


class Payment(models.Model):
    """Money received for an order through a payment provider, one row per payment."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(_("provider"), max_length=16)
    reference = models.CharField(_("provider reference"), max_length=255)
    amount_cents = models.PositiveBigIntegerField(_("amount (cents)"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(fields=["provider", "reference"], name="payment_unique_reference"),
        ]

    def __str__(self):
        return f"{self.provider} {self.reference}"


class Refund(models.Model):
    """Money given back for a payment: a cancelled order or line, or a payment that came too late."""

    class Reason(models.TextChoices):
        ORDER_CANCELLED = "ORDER_CANCELLED", _("Order cancelled")
        LINE_CANCELLED = "LINE_CANCELLED", _("Line cancelled")
        NOT_PAYABLE = "NOT_PAYABLE", _("Payment for an order that was no longer awaiting payment")

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, verbose_name=_("payment"), on_delete=models.PROTECT, related_name="refunds")
    item = models.ForeignKey(
        OrderItem, verbose_name=_("order line"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    provider = models.CharField(_("provider"), max_length=16)
    reference = models.CharField(_("provider reference"), max_length=255)
    amount_cents = models.PositiveBigIntegerField(_("amount (cents)"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.UniqueConstraint(fields=["provider", "reference"], name="refund_unique_reference"),
            models.UniqueConstraint(fields=["item"], name="refund_unique_item"),  # NULLs (whole orders) are distinct
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="refund_amount_gt_0"),
        ]

    def __str__(self):
        return f"{self.provider} {self.reference}"


class PaymentEvent(models.Model):
    """A provider's notification (a webhook event) that was applied, so a replay is applied only once."""

    provider = models.CharField(_("provider"), max_length=16)
    event_id = models.CharField(_("event id"), max_length=255)
    type = models.CharField(_("type"), max_length=100)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment event")
        verbose_name_plural = _("payment events")
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="paymentevent_unique_event")]

    def __str__(self):
        return f"{self.provider} {self.event_id}"


class OrderEmail(models.Model):
    """An email sent for an order event, one per order and event: the job that sends it checks this first."""

    class Event(models.TextChoices):
        PLACED = "placed", _("Order placed")
        PAID = "paid", _("Payment received")
        SHIPPED = "shipped", _("Shipped")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="emails")
    event = models.CharField(_("event"), max_length=16, choices=Event.choices)
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("order email")
        verbose_name_plural = _("order emails")
        constraints = [models.UniqueConstraint(fields=["order", "event"], name="orderemail_unique_event")]

    def __str__(self):
        return f"{self.order_id} {self.event}"
