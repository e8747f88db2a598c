from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A shopper or a member of staff; email addresses are unique."""

    email = models.EmailField(_("email address"), unique=True)
    # API tokens (JWT) issued before this moment are refused: set when the account is deactivated, so its
    # tokens stay dead when it is activated again (accounts/authentication.py).
    tokens_valid_after = models.DateTimeField(_("API tokens valid after"), null=True, blank=True, editable=False)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    @classmethod
    def from_db(cls, db, field_names, values):
        user = super().from_db(db, field_names, values)
        user._stored_is_active = user.__dict__.get("is_active")
        return user

    def save(self, *args, **kwargs):
        """Save; deactivating the account (is_active from True to False) revokes every API token issued so far."""
        if not self.is_active and getattr(self, "_stored_is_active", True) is not False:
            self.tokens_valid_after = timezone.now()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "tokens_valid_after"}
        super().save(*args, **kwargs)
        self._stored_is_active = self.is_active


class McpToken(models.Model):
    """A personal access token for MCP clients, acting as its user within its scopes.

    Only the SHA-256 of the token is stored; the token itself is shown once, at creation. A short
    visible prefix lets the owner tell tokens apart.
    """

    class Scope(models.TextChoices):
        READ = "read", _("Browse the catalog")
        CART = "cart", _("See and change the cart")
        ORDERS = "orders", _("See orders, prepare orders and cancellations")

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="mcp_tokens")
    name = models.CharField(_("name"), max_length=100)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    # Space-separated, as OAuth writes scopes: "read cart orders".
    scopes = models.CharField(_("scopes"), max_length=64, default="read cart orders")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("MCP token")
        verbose_name_plural = _("MCP tokens")
        constraints = [models.CheckConstraint(condition=~models.Q(scopes=""), name="mcp_token_has_scopes")]
        indexes = [models.Index(fields=["user", "-created_at"], name="mcp_token_user_created")]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


ADDRESS_LIMITS = {
    "recipient": 100,
    "phone": 32,
    "region": 100,
    "city": 100,
    "district": 100,
    "street": 200,
    "postal_code": 20,
}
ADDRESS_REQUIRED = ("recipient", "phone", "country", "city", "street")


def shop_country() -> str:
    """Return the shop's own country (settings.SHOP_COUNTRY): a new address's country."""
    return settings.SHOP_COUNTRY


def format_address(*, country: str, region: str, city: str, district: str, street: str, postal_code: str) -> str:
    """Return a delivery address on one line, in the order the country's post reads it.

    China (and unknown countries: the shop's default) read from the largest place to the street;
    elsewhere from the street to the country.
    """
    if country in ("CN", "TW", "HK", "MO", "JP", "KR", ""):
        parts = [region, city, district, street, postal_code]
    else:
        parts = [street, district, city, region, postal_code, country]
    return " ".join(part for part in parts if part)


class Address(models.Model):
    """An entry of a shopper's address book. At most one per user is the default.

    `is_default` is True or NULL (never False): a unique (user, is_default) pair then allows one default
    and any number of others on every database (MariaDB has no partial unique index).
    """

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="addresses")
    recipient = models.CharField(_("recipient"), max_length=ADDRESS_LIMITS["recipient"])
    phone = models.CharField(_("phone"), max_length=ADDRESS_LIMITS["phone"])
    country = models.CharField(
        _("country"), max_length=2, default=shop_country, help_text=_("ISO 3166-1 alpha-2 code.")
    )
    region = models.CharField(_("region / province"), max_length=ADDRESS_LIMITS["region"], blank=True)
    city = models.CharField(_("city"), max_length=ADDRESS_LIMITS["city"])
    district = models.CharField(_("district"), max_length=ADDRESS_LIMITS["district"], blank=True)
    street = models.CharField(_("street"), max_length=ADDRESS_LIMITS["street"])
    postal_code = models.CharField(_("postal code"), max_length=ADDRESS_LIMITS["postal_code"], blank=True)
    is_default = models.BooleanField(_("default"), null=True, default=None, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = [models.F("is_default").desc(nulls_last=True), "-created_at", "-id"]
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        constraints = [
            models.UniqueConstraint(fields=["user", "is_default"], name="address_one_default_per_user"),
            models.CheckConstraint(condition=models.Q(is_default=True), name="address_default_true_or_null"),
        ]

    def __str__(self):
        return f"{self.recipient}, {self.one_line}"

    @property
    def is_the_default(self) -> bool:
        return bool(self.is_default)

    @property
    def one_line(self) -> str:
        return format_address(**self.parts())

    def parts(self) -> dict:
        """Return the place fields (no recipient or phone), as `format_address` and orders take them."""
        return {
            field: getattr(self, field) for field in ("country", "region", "city", "district", "street", "postal_code")
        }
