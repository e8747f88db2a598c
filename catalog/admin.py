from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from catalog.feeds.push import feed_push_everything
from catalog.models import Category, FeedDestination, Product
from catalog.selectors import product_stock_locked
from catalog.services import PRODUCT_FIELDS, product_create, product_delete, product_update
from mcpshop_site.money import MoneyField


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "slug", "parent", "position"]
    list_editable = ["position"]
    list_select_related = ["parent"]
    prepopulated_fields = {"slug": ["name_en"]}
    search_fields = ["name", "name_en", "slug"]


class ProductAdminForm(forms.ModelForm):
    """The product form of the admin, on the change page and in the editable list.

    It remembers the stock figure the page showed: if orders changed the stock while staff were
    typing, a new figure is refused instead of silently undoing those sales. The price is typed in
    currency units ("4.59"), stored in cents.
    """

    price_cents = MoneyField(label=capfirst(Product._meta.get_field("price_cents").verbose_name))

    class Meta:
        model = Product
        fields = [
            "sku",
            "name",
            "name_en",
            "category",
            "price_cents",
            "stock",
            "is_active",
            "is_featured",
            "image",
            "description",
            "description_en",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "stock" in self.fields:
            self.fields["stock"].show_hidden_initial = True

    def clean_stock(self):
        stock = self.cleaned_data["stock"]
        if self.instance.pk and "stock" in self.changed_data:
            shown = self.fields["stock"].to_python(self.data.get(self.add_initial_prefix("stock")))
            # Locked until the admin's transaction ends: no sale can land between this check and the save.
            current = product_stock_locked(product_id=self.instance.pk)
            if shown is not None and current is not None and current != shown:
                raise forms.ValidationError(
                    _("The stock changed from %(shown)d to %(current)d while you were editing. Enter it again."),
                    code="stale",
                    params={"shown": shown, "current": current},
                )
        return stock


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
    list_display = ["thumbnail", "sku", "name", "category", "price_cents", "stock", "is_active", "is_featured"]
    list_display_links = ["sku", "name"]
    list_editable = ["price_cents", "stock"]
    list_filter = ["category", "is_active", "is_featured"]
    list_select_related = ["category"]
    list_per_page = 50
    ordering = ["-pk"]  # newest first, like Meta.ordering, but straight off the primary key: no sort of 100k rows
    search_fields = ["sku", "name", "name_en"]
    show_full_result_count = False  # one COUNT(*) per page is enough on a 100k catalog
    readonly_fields = ["preview", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["sku", "name", "name_en", "category", "price_cents", "stock"]}),
        (_("Shop window"), {"fields": ["is_active", "is_featured", "image", "preview"]}),
        (_("Description"), {"fields": ["description", "description_en"]}),
        (_("History"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    actions = ["make_active", "make_inactive"]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return [*fields, "sku"] if obj is not None else fields  # the SKU is the product's public key

    def changelist_view(self, request, extra_context=None):
        if request.method != "POST":
            return super().changelist_view(request, extra_context)
        # Django checks the list's forms before it opens its transaction for the saves: one transaction
        # around both keeps the stock rows clean_stock locked until the new figures are written.
        with transaction.atomic():
            return super().changelist_view(request, extra_context)

    def get_changelist_form(self, request, **kwargs):
        return super().get_changelist_form(request, form=ProductAdminForm, **kwargs)

    @admin.display(description=_("image"))
    def thumbnail(self, product):
        if not product.image:
            return "—"
        return format_html('<img src="{}" alt="" width="48" height="48" loading="lazy">', product.image.url)

    @admin.display(description=_("preview"))
    def preview(self, product):
        if not product.image:
            return _("No image yet.")
        return format_html('<img src="{}" alt="{}" width="300" height="300">', product.image.url, product.name)

    def save_model(self, request, obj, form, change):
        """Save through the catalog services, writing only what the form changed."""
        if change:
            product_update(
                product=obj, **{name: getattr(obj, name) for name in form.changed_data if name in PRODUCT_FIELDS}
            )
            return
        fields = {name: getattr(obj, name) for name in PRODUCT_FIELDS}
        created = product_create(sku=obj.sku, **fields)
        for field in Product._meta.concrete_fields:  # the admin goes on with `obj` (log entry, redirect)
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding, obj._state.db = False, created._state.db

    def delete_model(self, request, obj):
        product_delete(product=obj)

    def delete_queryset(self, request, queryset):
        for product in queryset:
            product_delete(product=product)

    @admin.action(description=_("Show the selected products in the shop"), permissions=["change"])
    def make_active(self, request, queryset):
        self._set_active(request, queryset, True)

    @admin.action(description=_("Hide the selected products from the shop"), permissions=["change"])
    def make_inactive(self, request, queryset):
        self._set_active(request, queryset, False)

    def _set_active(self, request, queryset, active: bool) -> None:
        changed = 0
        for product in queryset.exclude(is_active=active):
            product_update(product=product, is_active=active)
            changed += 1
        message = ngettext("%(count)d product updated.", "%(count)d products updated.", changed)
        self.message_user(request, message % {"count": changed}, messages.SUCCESS)


class FeedDestinationForm(forms.ModelForm):
    api_base_url = FeedDestination._meta.get_field("api_base_url").formfield(assume_scheme="https")

    class Meta:
        model = FeedDestination
        fields = ["name", "feed", "api_base_url", "feed_id", "token", "is_active"]
        widgets = {"token": forms.PasswordInput(render_value=True)}


@admin.register(FeedDestination)
class FeedDestinationAdmin(admin.ModelAdmin):
    """Agent platforms' Feed APIs the shop pushes its changed product lines to (catalog.feeds.push)."""

    form = FeedDestinationForm
    list_display = ["name", "feed", "api_base_url", "feed_id", "is_active", "last_pushed_at", "last_error"]
    readonly_fields = ["last_pushed_at", "last_error"]
    actions = ["push_everything"]

    @admin.action(description=_("Push the whole feed to the selected destinations"), permissions=["change"])
    def push_everything(self, request, queryset):
        jobs = sum(feed_push_everything(destination) for destination in queryset.filter(is_active=True))
        message = ngettext("%(count)d push queued.", "%(count)d pushes queued.", jobs)
        self.message_user(request, message % {"count": jobs}, messages.SUCCESS)
