from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A shopper or a member of staff; email addresses are unique."""

    email = models.EmailField(_("email address"), unique=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"


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
