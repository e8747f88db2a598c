from django.db import models
from django.utils.translation import gettext_lazy as _

from orders.models import CheckoutSession, Order


class Buyer(models.Model):
    """A buyer agents name by email: the shop's own customers (imported) and buyers agents saved addresses for."""

    email = models.EmailField(_("email"), unique=True)  # stored in lower case
    reference = models.CharField(_("customer reference"), max_length=64, blank=True)
    name = models.CharField(_("name"), max_length=200, blank=True)

    class Meta:
        ordering = ["email"]
        verbose_name = _("agent buyer")
        verbose_name_plural = _("agent buyers")

    def __str__(self):
        return self.email


class BuyerAddress(models.Model):
    """An address of a buyer's book. `owner` empty: the shop's own (imported), offered to every agent that
    names the buyer's email; otherwise the agent that saved it, and only that agent sees it."""

    buyer = models.ForeignKey(Buyer, verbose_name=_("buyer"), on_delete=models.CASCADE, related_name="addresses")
    owner = models.CharField(_("agent"), max_length=300, blank=True)
    address_id = models.CharField(_("address id"), max_length=100)
    name = models.CharField(_("recipient"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    street = models.CharField(_("street"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    region = models.CharField(_("region / province"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("agent buyer address")
        verbose_name_plural = _("agent buyer addresses")
        constraints = [
            models.UniqueConstraint(fields=["buyer", "owner", "address_id"], name="buyeraddress_unique_id"),
        ]

    def __str__(self):
        return f"{self.address_id} {self.street} {self.city} {self.country}".strip()


class UcpOrder(models.Model):
    """What UCP keeps of an order an agent's checkout placed: the fulfillment line it was promised (the chosen
    option's title), and the fulfillment events and adjustments reported since (append-only)."""

    order = models.OneToOneField(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="ucp")
    session = models.OneToOneField(
        CheckoutSession, verbose_name=_("checkout session"), on_delete=models.CASCADE, related_name="ucp_order"
    )
    description = models.CharField(_("fulfillment description"), max_length=200, blank=True)
    events = models.JSONField(_("fulfillment events"), default=list, blank=True)
    adjustments = models.JSONField(_("adjustments"), default=list, blank=True)

    class Meta:
        verbose_name = _("UCP order")
        verbose_name_plural = _("UCP orders")

    def __str__(self):
        return str(self.order)
