from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Cart(models.Model):
    """A shopper's cart: a signed-in user's, or a guest session's until they log in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True, on_delete=models.CASCADE
    )
    # NULL, not "", for signed-in carts: the unique constraint must not collide on them.
    session_key = models.CharField(_("session key"), max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(session_key__isnull=False), name="cart_has_owner"
            ),
        ]

    def __str__(self):
        return f"cart of {self.user or 'guest'}"


class CartItem(models.Model):
    """One line of a cart: one row per product, quantity at least one."""

    cart = models.ForeignKey(Cart, verbose_name=_("cart"), on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey("catalog.Product", verbose_name=_("product"), on_delete=models.CASCADE)
    quantity = models.PositiveIntegerField(_("quantity"))
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
        verbose_name = _("cart item")
        verbose_name_plural = _("cart items")
        constraints = [
            models.UniqueConstraint(fields=["cart", "product"], name="cartitem_one_row_per_product"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="cartitem_quantity_gte_1"),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.product_id}"

    @property
    def line_total_cents(self) -> int:
        return self.quantity * self.product.price_cents


class CartDiscount(models.Model):
    """A discount code the shopper applied to the cart; priced (and checked again) at every look and at checkout."""

    cart = models.ForeignKey(Cart, verbose_name=_("cart"), on_delete=models.CASCADE, related_name="discounts")
    code = models.ForeignKey(
        "orders.DiscountCode", verbose_name=_("code"), on_delete=models.CASCADE, related_name="cart_discounts"
    )
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
        verbose_name = _("cart discount code")
        verbose_name_plural = _("cart discount codes")
        constraints = [models.UniqueConstraint(fields=["cart", "code"], name="cartdiscount_once_per_cart")]

    def __str__(self):
        return f"{self.code_id} on {self.cart_id}"
