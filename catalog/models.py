from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

sku_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z", _("Use letters, digits, dots, dashes and underscores."), code="invalid"
)


def _in_language(chinese: str, english: str) -> str:
    """Return the English text on English pages when there is one, else the Chinese."""
    language = get_language() or ""
    return english if english and language.startswith("en") else chinese


class Category(models.Model):
    """A shelf of the shop; categories may nest one level under a parent."""

    name = models.CharField(_("name"), max_length=64, unique=True)
    name_en = models.CharField(_("English name"), max_length=64, blank=True)
    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("catalog:category", kwargs={"slug": self.slug})

    @property
    def display_name(self) -> str:
        return _in_language(self.name, self.name_en)


class Product(models.Model):
    """Something for sale. Stock can never go below zero: the database refuses it."""

    sku = models.CharField(_("SKU"), max_length=32, unique=True, validators=[sku_validator])
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    slug = models.SlugField(_("slug"), max_length=220)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="products"
    )
    price_cents = models.PositiveIntegerField(_("price (cents)"))
    stock = models.PositiveIntegerField(_("stock"), default=0)
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("English description"), blank=True)
    image = models.ImageField(_("image"), upload_to="products/", blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_featured = models.BooleanField(_("featured"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="product_stock_gte_0"),
            models.CheckConstraint(condition=Q(price_cents__gte=0), name="product_price_cents_gte_0"),
        ]
        indexes = [
            models.Index(fields=["is_active", "category", "-created_at"], name="product_active_cat_created"),
            models.Index(fields=["is_active", "price_cents"], name="product_active_price"),
            models.Index(fields=["is_active", "-created_at"], name="product_active_created"),
            models.Index(fields=["is_active", "name"], name="product_active_name"),
        ]

    def __str__(self):
        return f"{self.sku} {self.name}"

    def get_absolute_url(self):
        return reverse("catalog:product", kwargs={"sku": self.sku})

    @property
    def display_name(self) -> str:
        return _in_language(self.name, self.name_en)

    @property
    def display_description(self) -> str:
        return _in_language(self.description, self.description_en)

    @property
    def in_stock(self) -> bool:
        return self.stock > 0
