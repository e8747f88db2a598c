from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from catalog.models import _in_language


class Policy(models.Model):
    """One of the shop's policy pages (privacy, terms, returns, shipping), written by staff in both languages.

    A published page is served at /policies/<kind>/, linked from every page's footer, from agents' checkout
    sessions (UCP and ACP `links`) and from the ACP product feeds (`seller.links`); an unpublished one is nowhere.
    """

    class Kind(models.TextChoices):  # in the order the footer lists them
        SHIPPING = "shipping", _("Shipping policy")
        RETURNS = "returns", _("Returns and refunds")
        TERMS = "terms", _("Terms of service")
        PRIVACY = "privacy", _("Privacy policy")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, unique=True)
    title = models.CharField(_("title"), max_length=100)
    title_en = models.CharField(_("English title"), max_length=100, blank=True)
    body = models.TextField(
        _("text"),
        help_text=_("Plain text: a blank line starts a new paragraph, a line starting with # is a heading."),
    )
    body_en = models.TextField(_("English text"), blank=True)
    is_published = models.BooleanField(
        _("published"), default=False, help_text=_("Shown to shoppers, in the footer and to shopping agents.")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("policy page")
        verbose_name_plural = _("policy pages")

    def __str__(self):
        return self.get_kind_display()

    def get_absolute_url(self):
        return reverse("policies:detail", kwargs={"kind": self.kind})

    @property
    def display_title(self) -> str:
        return _in_language(self.title, self.title_en)

    @property
    def display_body(self) -> str:
        return _in_language(self.body, self.body_en)

    @property
    def blocks(self) -> list[tuple[str, str]]:
        """Return the text in the active language as ("heading" or "paragraph", text) blocks (see `body`'s help)."""
        blocks = []
        for block in self.display_body.replace("\r\n", "\n").split("\n\n"):
            block = block.strip()
            if block.startswith("#") and "\n" not in block:
                blocks.append(("heading", block.lstrip("#").strip()))
            elif block:
                blocks.append(("paragraph", block))
        return blocks
