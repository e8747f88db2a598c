from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

sku_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z", _("Use letters, digits, dots, dashes and underscores."), code="invalid"
)


def _in_language(chinese: str, english: str, language: str | None = None) -> str:
    """Return the English text in English (the active language by default) when there is one, else the Chinese."""
    language = language or get_language() or ""
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
    price_cents = models.PositiveIntegerField(_("price"))  # in cents
    stock = models.PositiveIntegerField(_("stock"), default=0)
    # The stock figure the last import file gave: a new file's figure changes the stock by its difference
    # from this one, so re-importing a file never puts back units sold since (catalog.services).
    imported_stock = models.PositiveIntegerField(_("stock in the last import"), null=True, blank=True, editable=False)
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
        # One index per sort of catalog.selectors.PRODUCT_SORTS, tie-breaker included, read backwards for
        # the descending ones. No leading is_active: nearly every product is active, and Django writes
        # `filter(is_active=True)` as `WHERE is_active`, which SQLite cannot match to an index prefix.
        indexes = [
            models.Index(fields=["created_at", "id"], name="product_created_id"),
            models.Index(fields=["category", "created_at", "id"], name="product_category_created_id"),
            models.Index(fields=["price_cents", "id"], name="product_price_id"),
            models.Index(fields=["name", "id"], name="product_name_id"),
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


class ProductEmbedding(models.Model):
    """A product's meaning as a vector, for semantic search.

    `vector` holds float32 bytes (the numpy store used on SQLite, MariaDB and PostgreSQL without
    pgvector); with pgvector the vector lives in an `embedding vector` column added by migration 0002
    and `vector` stays empty. `source_hash` tells whether the product's text changed since.
    """

    product = models.OneToOneField(
        Product, verbose_name=_("product"), primary_key=True, on_delete=models.CASCADE, related_name="embedding"
    )
    model = models.CharField(_("embedding model"), max_length=120)
    dims = models.PositiveSmallIntegerField(_("dimensions"))
    source_hash = models.CharField(_("source hash"), max_length=40)
    vector = models.BinaryField(_("vector"), null=True)
    revision = models.PositiveBigIntegerField(_("revision"), db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("product embedding")
        verbose_name_plural = _("product embeddings")

    def __str__(self):
        return f"{self.product_id} ({self.model}, {self.dims})"


class SearchIndex(models.Model):
    """What the stored embeddings were made with, and a revision that grows with every change.

    One row (`name="products"`). Every process compares its in-memory copy of the vectors with
    `revision`, so an edit made by one app process is seen by the others; a different model or
    dimension than the configured backend means the embeddings must be rebuilt, never mixed.
    """

    name = models.CharField(_("name"), max_length=32, primary_key=True)
    model = models.CharField(_("embedding model"), max_length=120, blank=True)
    dims = models.PositiveSmallIntegerField(_("dimensions"), default=0)
    revision = models.PositiveBigIntegerField(_("revision"), default=0)

    class Meta:
        verbose_name = _("search index")
        verbose_name_plural = _("search indexes")

    def __str__(self):
        return f"{self.name}: {self.model or '-'} ({self.dims}), revision {self.revision}"


class ProductSearchDocument(models.Model):
    """The product's words for MariaDB/MySQL FULLTEXT, segmented in Python (unused on other databases).

    MariaDB has no ngram parser, so every word and every Chinese character and character pair is
    written as an ASCII token of at least four characters (see catalog.search.text.mysql_tokens).
    The table is MyISAM: InnoDB's FULLTEXT index only sees rows after their transaction commits,
    MyISAM's sees a new product at once. It is derived data (`embed_products` rewrites what is
    missing); no foreign key (MyISAM has none): rows of deleted products are removed by a signal
    and could never match anyway (search joins the products).
    """

    product = models.OneToOneField(
        Product,
        verbose_name=_("product"),
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="search_document",
    )
    names = models.TextField(_("names"))
    body = models.TextField(_("descriptions"))

    class Meta:
        verbose_name = _("product search document")
        verbose_name_plural = _("product search documents")

    def __str__(self):
        return str(self.product_id)


class FeedEntry(models.Model):
    """A product's line in the ACP product feeds, written ahead of time in each language (catalog.feeds).

    A save of the product (any door) marks it `stale` in the same transaction; a job renders it again and
    writes the lines only when they changed (`changed_at`). `claim` names the job run that took it, so a slower
    run never writes over a newer one's lines. `listed`: the product is on sale, so its line is in the feeds.
    """

    product = models.OneToOneField(
        Product, verbose_name=_("product"), primary_key=True, on_delete=models.CASCADE, related_name="feed_entry"
    )
    stale = models.BooleanField(_("stale"), default=True)
    claim = models.CharField(_("claimed by"), max_length=32, blank=True)
    listed = models.BooleanField(_("listed"), default=False)
    line_zh_hans = models.TextField(_("Chinese line"), blank=True)
    line_en = models.TextField(_("English line"), blank=True)
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("feed entry")
        verbose_name_plural = _("feed entries")
        indexes = [models.Index(fields=["stale", "product"], name="feedentry_stale")]

    def __str__(self):
        return str(self.product_id)


class ProductFeed(models.Model):
    """When the product feeds last changed (a line rewritten, a product deleted): their `updated_at` and ETag.

    One row (`name="acp"`), as SearchIndex.
    """

    name = models.CharField(_("name"), max_length=32, primary_key=True)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("product feed")
        verbose_name_plural = _("product feeds")

    def __str__(self):
        return f"{self.name}: {self.updated_at:%Y-%m-%d %H:%M:%S}"


class FeedDestination(models.Model):
    """An agent platform's Feed API where the shop pushes its changed lines (acp-spec rfc.product_feeds.md, 3.4
    "API-Based Incremental Upserts": `PATCH {api_base_url}/feeds/{feed_id}/products`), set up by staff with the
    address, feed id and key the platform gave at onboarding."""

    name = models.CharField(_("name"), max_length=100)
    feed = models.CharField(_("feed"), max_length=16, choices=settings.LANGUAGES)
    api_base_url = models.URLField(_("Feed API address"), help_text=_("e.g. https://agent.example.com/api"))
    feed_id = models.CharField(_("feed id"), max_length=200, help_text=_("The feed's id on the platform."))
    token = models.CharField(_("key"), max_length=500, help_text=_("Sent as Authorization: Bearer <key>."))
    is_active = models.BooleanField(_("active"), default=True)
    last_pushed_at = models.DateTimeField(_("last pushed at"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True, editable=False)

    class Meta:
        verbose_name = _("feed destination")
        verbose_name_plural = _("feed destinations")

    def __str__(self):
        return self.name


class CatalogChange(models.Model):
    """A change of the catalog, one row each: the largest id is the catalog's version where no cache is shared
    between processes (catalog.cache). Rows older than the last few are deleted as new ones come."""

    id = models.BigAutoField(primary_key=True)

    class Meta:
        verbose_name = _("catalog change")
        verbose_name_plural = _("catalog changes")

    def __str__(self):
        return str(self.pk)
