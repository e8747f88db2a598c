import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.models import _in_language
from mcpshop_site.countries import COUNTRY_CODES
from mcpshop_site.i18n import active_language

# Public order numbers: 12 characters from an alphabet without look-alikes (no 0/O, 1/I/L), 31**12 (about 2**59)
# of them, drawn at random: a shopper's numbers say nothing of the shop's volume and cannot be guessed.
ORDER_NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ORDER_NUMBER_LENGTH = 12


def new_order_number() -> str:
    """Return a fresh random public order number, with at least one digit: one of letters only (about 1 in 35)
    could read as a word, and the assistant tells an order number in a sentence from words by its digits."""
    while True:
        number = "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(ORDER_NUMBER_LENGTH))
        if any(character.isdigit() for character in number):
            return number


def _in_language_field(obj, field: str) -> str:
    """Return `field` in the active language: its `_en` twin on English pages when there is one."""
    return _in_language(getattr(obj, field), getattr(obj, f"{field}_en"))


def _code_field():
    """An optional stable code naming a shipping method or rate to agents (a UCP option id, an import key).

    NULL when empty (the admin and the importer store none as NULL): NULLs are distinct on every database, so
    codes are unique where given, also on MariaDB, which has no partial unique index.
    """
    return models.SlugField(
        _("code"),
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        help_text=_("Optional stable identifier (letters, digits, - and _), e.g. std-ship; unique."),
    )


def _code_taken(code: str | None, *, method_id: int | None) -> bool:
    """Whether another method, or a rate of another method, already uses `code` (shipping options of one
    destination would then share an id)."""
    if not code:
        return False
    methods = ShippingMethod.objects.filter(code=code).exclude(pk=method_id)
    rates = ShippingRate.objects.filter(code=code).exclude(method_id=method_id)
    return methods.exists() or rates.exists()


class ShippingMethod(models.Model):
    """A way to ship (standard, express...); what it costs where is in its rates."""

    code = _code_field()
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0, help_text=_("Lower comes first."))

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("shipping method")
        verbose_name_plural = _("shipping methods")

    def __str__(self):
        return self.name

    @property
    def display_name(self) -> str:
        return _in_language_field(self, "name")

    def clean(self):
        self.code = self.code or None
        if _code_taken(self.code, method_id=self.pk):
            raise ValidationError({"code": gettext("Another shipping method or rate already uses this code.")})


class ShippingRate(models.Model):
    """The price of a method for a country, or one region of it; the most specific rate wins.

    An empty region covers the whole country; an empty country covers every country without a rate.
    """

    method = models.ForeignKey(ShippingMethod, verbose_name=_("method"), on_delete=models.CASCADE, related_name="rates")
    code = _code_field()
    country = models.CharField(
        _("country"), max_length=2, blank=True, help_text=_("ISO 3166-1 alpha-2 code; empty for every other country.")
    )
    region = models.CharField(
        _("region / province"), max_length=100, blank=True, help_text=_("Empty for the whole country.")
    )
    price_cents = models.PositiveIntegerField(_("price"))
    estimated_days = models.PositiveSmallIntegerField(_("estimated days"))

    class Meta:
        ordering = ["method", "country", "region"]
        verbose_name = _("shipping rate")
        verbose_name_plural = _("shipping rates")
        constraints = [
            models.UniqueConstraint(fields=["method", "country", "region"], name="shippingrate_unique_place"),
            models.CheckConstraint(condition=~Q(country="") | Q(region=""), name="shippingrate_region_needs_country"),
        ]

    def __str__(self):
        return f"{self.method} {self.country or '*'} {self.region}".strip()

    def clean(self):
        """Take the country in any case; refuse one that is not a country (a rate no destination would match)."""
        self.country = self.country.strip().upper()
        if self.country and self.country not in COUNTRY_CODES:
            raise ValidationError({"country": gettext("Country must be a two-letter ISO 3166-1 code, e.g. CN.")})
        self.code = self.code or None
        if _code_taken(self.code, method_id=self.method_id):
            raise ValidationError({"code": gettext("Another shipping method or rate already uses this code.")})


class Offer(models.Model):
    """What discount codes and automatic promotions share: a title, a value, a minimum and a window."""

    title = models.CharField(_("title"), max_length=100)
    title_en = models.CharField(_("English title"), max_length=100, blank=True)
    percent = models.PositiveSmallIntegerField(
        _("percent off"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    amount_cents = models.PositiveIntegerField(_("amount off"), null=True, blank=True)
    min_subtotal_cents = models.PositiveBigIntegerField(_("minimum subtotal"), default=0)
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    stackable = models.BooleanField(
        _("stackable"), default=False, help_text=_("Whether it combines with other discounts.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True

    @property
    def display_title(self) -> str:
        return _in_language_field(self, "title")


def _offer_value_constraint(name: str, kinds: list[str]) -> models.CheckConstraint:
    """Percent offers need 1-100 percent, fixed ones a positive amount, free shipping neither."""
    value = {
        "PERCENT": Q(percent__gte=1, percent__lte=100, amount_cents__isnull=True),
        "FIXED": Q(amount_cents__gte=1, percent__isnull=True),
        "FREE_SHIPPING": Q(amount_cents__isnull=True, percent__isnull=True),
    }
    condition = Q()
    for kind in kinds:
        condition |= Q(kind=kind) & value[kind]
    return models.CheckConstraint(condition=condition, name=name)


class Promotion(Offer):
    """A discount without a code, applied to every cart that qualifies (e.g. 10% off over 300, free shipping).

    With products, it applies only to carts made of those products alone.
    """

    class Kind(models.TextChoices):
        PERCENT = "PERCENT", _("Percent off the subtotal")
        FIXED = "FIXED", _("Amount off the subtotal")
        FREE_SHIPPING = "FREE_SHIPPING", _("Free shipping")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    products = models.ManyToManyField(
        "catalog.Product",
        verbose_name=_("products"),
        blank=True,
        related_name="+",
        help_text=_("If any: only carts made of these products alone qualify."),
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        constraints = [_offer_value_constraint("promotion_value_fits_kind", ["PERCENT", "FIXED", "FREE_SHIPPING"])]

    def __str__(self):
        return self.title


class DiscountCode(Offer):
    """A code a shopper types (case-insensitive; stored in capitals), with total and per-customer limits."""

    class Kind(models.TextChoices):
        PERCENT = "PERCENT", _("Percent off the subtotal")
        FIXED = "FIXED", _("Amount off the subtotal")

    code = models.CharField(_("code"), max_length=32, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    usage_limit = models.PositiveIntegerField(
        _("usage limit"), null=True, blank=True, help_text=_("Orders in total; empty for no limit.")
    )
    per_customer_limit = models.PositiveIntegerField(
        _("per customer limit"), null=True, blank=True, help_text=_("Orders per customer; empty for no limit.")
    )
    used_count = models.PositiveIntegerField(_("used"), default=0, editable=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("discount code")
        verbose_name_plural = _("discount codes")
        constraints = [
            _offer_value_constraint("discountcode_value_fits_kind", ["PERCENT", "FIXED"]),
            models.CheckConstraint(condition=Q(code=Upper("code")) & ~Q(code=""), name="discountcode_code_upper"),
            models.CheckConstraint(
                condition=Q(usage_limit__isnull=True) | Q(used_count__lte=F("usage_limit")),
                name="discountcode_used_within_limit",
            ),
        ]

    def __str__(self):
        return self.code

    def save(self, *args, **kwargs):
        self.code = normalize_code(self.code)
        super().save(*args, **kwargs)

    def clean(self):
        self.code = normalize_code(self.code)  # before the unique check: "welcome10" is WELCOME10


def normalize_code(code: str) -> str:
    """Return a discount code as stored: no surrounding spaces, in capitals."""
    return str(code).strip().upper()


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

    # An agent's checkout session may place an order for a buyer with no account here: no user, and its
    # emails go to `email` (an account's order copies the account's email at placement).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="orders",
        null=True,
        blank=True,
    )
    email = models.EmailField(_("email"), blank=True)
    number = models.CharField(_("order number"), max_length=16, unique=True, default=new_order_number, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    currency = models.CharField(_("currency"), max_length=3)
    subtotal_cents = models.PositiveBigIntegerField(_("subtotal (cents)"))
    discount_cents = models.PositiveBigIntegerField(_("discount (cents)"), default=0)
    shipping_cents = models.PositiveBigIntegerField(_("shipping (cents)"), default=0)
    tax_cents = models.PositiveBigIntegerField(_("tax (cents)"), default=0)
    total_cents = models.PositiveBigIntegerField(_("total (cents)"))
    # The discounts applied, as placed: [{"code": "WELCOME10" or "", "title", "title_en", "amount_cents"}]
    discounts = models.JSONField(_("discounts"), default=list, blank=True)
    shipping_method = models.ForeignKey(
        ShippingMethod, verbose_name=_("shipping method"), null=True, blank=True, on_delete=models.SET_NULL
    )
    shipping_method_name = models.CharField(_("shipping method name"), max_length=100, blank=True)
    name = models.CharField(_("recipient"), max_length=100)
    phone = models.CharField(_("phone"), max_length=32)
    # The one-line address (what couriers print); the structured fields are empty for addresses typed as one line.
    address = models.CharField(_("address"), max_length=300)
    country = models.CharField(_("country"), max_length=2, blank=True)
    region = models.CharField(_("region / province"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    district = models.CharField(_("district"), max_length=100, blank=True)
    street = models.CharField(_("street"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
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
            models.CheckConstraint(
                condition=Q(
                    total_cents=F("subtotal_cents") - F("discount_cents") + F("shipping_cents") + F("tax_cents")
                ),
                name="order_total_adds_up",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="order_user_created"),
            models.Index(fields=["status", "payment_due_at"], name="order_status_due"),
        ]

    def __str__(self):
        return f"#{self.number} {self.get_status_display()}"

    def get_absolute_url(self):
        return reverse("orders:detail", kwargs={"number": self.number})

    @property
    def contact_email(self) -> str:
        """Return where the order's emails go: its own email, else (orders placed before it had one) its account's."""
        return self.email or (self.user.email if self.user else "")

    @property
    def addressee(self) -> str:
        """Return the name the order's emails greet: the account's, or the recipient's for an order without one."""
        return self.user.get_username() if self.user else self.name

    @property
    def display_discounts(self) -> list[dict]:
        """Return the discounts used as {code, title, amount_cents}, titles in the active language."""
        return [
            {
                "code": d["code"],
                "title": _in_language(d["title"], d.get("title_en", "")),
                "amount_cents": d["amount_cents"],
            }
            for d in self.discounts
        ]

    @property
    def shipping_method_display(self) -> str:
        """The shipping method's name in the active language (as copied at purchase if it is gone)."""
        return self.shipping_method.display_name if self.shipping_method else self.shipping_method_name

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
    # This line's share of the order's discounts (they sum exactly to the order's discount_cents).
    discount_cents = models.PositiveBigIntegerField(_("discount (cents)"), default=0)

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
        """Return what the shopper paid for this line before tax (after its share of the discounts)."""
        return self.line_total_cents - self.discount_cents

    @property
    def refund_cents(self) -> int:
        """Return what cancelling the line gives back: its paid amount and its share of the order's tax
        (which is on the discounted subtotal), rounded half up; cancelling the whole order gives back the rest."""
        taxable = self.order.subtotal_cents - self.order.discount_cents
        share = (2 * self.order.tax_cents * self.paid_amount_cents + taxable) // (2 * taxable) if taxable else 0
        return self.paid_amount_cents + share


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


class DiscountRedemption(models.Model):
    """One use of a discount code by an order: what counts against the code's per-customer limit."""

    code = models.ForeignKey(DiscountCode, verbose_name=_("code"), on_delete=models.PROTECT, related_name="redemptions")
    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="redemptions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+", null=True
    )
    amount_cents = models.PositiveBigIntegerField(_("amount"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("discount redemption")
        verbose_name_plural = _("discount redemptions")
        constraints = [models.UniqueConstraint(fields=["code", "order"], name="redemption_once_per_order")]
        indexes = [models.Index(fields=["code", "user"], name="redemption_code_user")]

    def __str__(self):
        return f"{self.code_id} -> #{self.order_id}"


def new_session_id() -> str:
    """Return a fresh checkout session id: 128 random bits, so an id names a session and cannot be guessed."""
    return f"cs_{secrets.token_urlsafe(16)}"


class CheckoutSession(models.Model):
    """An outside agent's checkout (UCP, ACP, MCP): what it will buy, for whom, where to, and how it ends.

    `owner` names the agent that made it (e.g. "ucp:<profile URL>", "acp:<platform id>"): only that agent
    finds it. Lines, buyer, destinations and codes are kept as given (validated by the service); prices are
    never stored, they are quoted afresh by orders.pricing. `extra` holds what one protocol keeps and the
    core does not read (e.g. UCP's webhook URL).
    """

    class Status(models.TextChoices):
        INCOMPLETE = "incomplete", _("Incomplete")
        READY = "ready_for_complete", _("Ready to complete")
        # Handed to the shopper: only their confirmation in the shop places the order (the MCP bindings).
        ESCALATED = "requires_escalation", _("Awaiting the shopper's confirmation")
        COMPLETED = "completed", _("Completed")
        CANCELED = "canceled", _("Canceled")

    public_id = models.CharField(_("id"), max_length=40, unique=True, default=new_session_id, editable=False)
    owner = models.CharField(_("agent"), max_length=300)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("linked account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.INCOMPLETE)
    currency = models.CharField(_("currency"), max_length=3)
    # [{"id": "li_1", "sku": "...", "quantity": 2}]
    lines = models.JSONField(_("lines"), default=list)
    # {"email", "first_name", "last_name", "phone", "consent": {...}}
    buyer = models.JSONField(_("buyer"), default=dict, blank=True)
    # [{"id", "first_name", "last_name", "street_address", "address_locality", "address_region", "postal_code",
    #   "address_country"}]
    destinations = models.JSONField(_("destinations"), default=list, blank=True)
    destination_id = models.CharField(_("selected destination"), max_length=100, blank=True)
    shipping_option = models.CharField(_("selected shipping option"), max_length=100, blank=True)
    codes = models.JSONField(_("discount codes"), default=list, blank=True)
    payment = models.JSONField(_("payment selection"), default=dict, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    expires_at = models.DateTimeField(_("expires at"))
    order = models.OneToOneField(
        Order, verbose_name=_("order"), null=True, blank=True, on_delete=models.PROTECT, related_name="checkout_session"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("checkout session")
        verbose_name_plural = _("checkout sessions")
        indexes = [models.Index(fields=["owner", "-created_at"], name="checkoutsession_owner")]

    def __str__(self):
        return self.public_id

    @property
    def is_final(self) -> bool:
        return self.status in (self.Status.COMPLETED, self.Status.CANCELED)

    @property
    def destination(self) -> dict | None:
        """Return the selected destination, or None."""
        return next((d for d in self.destinations if d.get("id") == self.destination_id), None)


class IdempotencyRecord(models.Model):
    """The answer an agent's write got, kept by (agent, key): a retry gets it again instead of a second write."""

    owner = models.CharField(max_length=300)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_unique_owner_key")]

    def __str__(self):
        return f"{self.owner} {self.key}"
