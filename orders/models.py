from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Order(models.Model):
    """A placed order. Status moves only along the transitions in `TRANSITIONS`."""

    class Status(models.TextChoices):
        PENDING = "PENDING", _("Pending payment")
        PAID = "PAID", _("Paid")
        SHIPPED = "SHIPPED", _("Shipped")
        DELIVERED = "DELIVERED", _("Delivered")
        CANCELLED = "CANCELLED", _("Cancelled")

    TRANSITIONS = {
        Status.PENDING: {Status.PAID, Status.CANCELLED},
        Status.PAID: {Status.SHIPPED, Status.CANCELLED},
        Status.SHIPPED: {Status.DELIVERED},
        Status.DELIVERED: set(),
        Status.CANCELLED: set(),
    }

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="orders"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    total_cents = models.PositiveBigIntegerField(_("total (cents)"))
    name = models.CharField(_("recipient"), max_length=100)
    phone = models.CharField(_("phone"), max_length=32)
    address = models.CharField(_("address"), max_length=300)
    idempotency_key = models.CharField(_("idempotency key"), max_length=128, null=True, blank=True)  # noqa: DJ001
    request_fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(fields=["user", "idempotency_key"], name="order_unique_idempotency_key"),
            models.CheckConstraint(condition=Q(total_cents__gte=0), name="order_total_cents_gte_0"),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="order_user_created")]

    def __str__(self):
        return f"#{self.pk} {self.get_status_display()}"

    def get_absolute_url(self):
        return reverse("orders:detail", kwargs={"order_id": self.pk})

    @property
    def can_cancel(self) -> bool:
        return self.Status.CANCELLED in self.TRANSITIONS[self.status]

    @property
    def can_pay(self) -> bool:
        return self.status == self.Status.PENDING


class OrderItem(models.Model):
    """A line of an order, with the SKU, name and unit price copied at purchase."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), null=True, blank=True, on_delete=models.SET_NULL
    )
    sku = models.CharField(_("SKU"), max_length=32)
    name = models.CharField(_("name"), max_length=200)
    unit_price_cents = models.PositiveIntegerField(_("unit price (cents)"))
    quantity = models.PositiveIntegerField(_("quantity"))

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
