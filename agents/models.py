"""Agent platforms: outside AI agents (ChatGPT, ...) that shop here through the Agentic Commerce Protocol."""

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class AgentPlatform(models.Model):
    """An agent platform staff let in: its API keys, the webhook its order events go to, its signing secrets.

    The secrets are kept as they are (an HMAC needs them); the API keys only as their SHA-256.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("An inactive platform's keys are refused at once.")
    )
    webhook_url = models.URLField(
        _("webhook URL"), max_length=500, blank=True, help_text=_("Where order events are sent (https).")
    )
    webhook_secret = models.CharField(
        _("webhook signing secret"),
        max_length=200,
        default=new_secret,
        help_text=_("Shared with the platform: order events carry Merchant-Signature, an HMAC-SHA256 with it."),
    )
    request_secret = models.CharField(
        _("request signing secret"),
        max_length=200,
        blank=True,
        help_text=_(
            "If set, every request of the platform must carry a valid Signature and Timestamp made with it; "
            "if empty, request signatures are not checked."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("agent platform")
        verbose_name_plural = _("agent platforms")

    def __str__(self):
        return self.name

    @property
    def owner_key(self) -> str:
        """Return the owner key of this platform's checkout sessions."""
        return f"acp:{self.pk}"


class AgentPlatformKey(models.Model):
    """An API key of an agent platform. Only its SHA-256 is stored; the key is shown once, when issued."""

    platform = models.ForeignKey(
        AgentPlatform, verbose_name=_("platform"), on_delete=models.CASCADE, related_name="keys"
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self):
        return f"{self.platform} ({self.prefix}…)"
