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
