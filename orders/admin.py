import re

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from mcpshop_site.exceptions import ShopError
from mcpshop_site.money import MoneyField, money
from orders.dashboard import sales_dashboard
from orders.models import (
    CheckoutSession,
    DiscountCode,
    Order,
    OrderEmail,
    OrderItem,
    Payment,
    Promotion,
    Refund,
    ShippingMethod,
    ShippingRate,
)
from orders.services import order_cancel, order_cancel_line, order_mark_delivered, order_mark_shipped


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    fields = readonly_fields = ["sku", "name", "name_en", "unit_price", "quantity", "line_total", "cancel_line"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("cancel"))
    def cancel_line(self, item):
        """A button that posts the change form (and its CSRF token) to the line's cancel view."""
        if item.cancelled_at:
            return _("Cancelled and refunded")
        if item.order.status != Order.Status.PAID:
            return "-"
        url = reverse("admin:orders_order_cancel_line", args=[item.order_id, item.pk])
        return format_html(
            '<button type="submit" class="button" formaction="{}" formnovalidate>{}</button>',
            url,
            _("Cancel line and refund %(amount)s") % {"amount": money(item.refund_cents)},
        )

    @admin.display(description=_("unit price"))
    def unit_price(self, item):
        return money(item.unit_price_cents)

    @admin.display(description=_("line total"))
    def line_total(self, item):
        return money(item.line_total_cents)


class ReadOnlyInline(admin.TabularInline):
    """A read-only list of the order's rows written by the services (payments, refunds, emails)."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MoneyRowInline(ReadOnlyInline):
    """A read-only list of the order's payments or refunds."""

    @admin.display(description=_("amount"))
    def amount(self, row):
        return money(row.amount_cents)


class PaymentInline(MoneyRowInline):
    model = Payment
    fields = readonly_fields = ["created_at", "provider", "reference", "amount"]


class RefundInline(MoneyRowInline):
    model = Refund
    fields = readonly_fields = ["created_at", "reason", "provider", "reference", "amount", "item"]


class OrderEmailInline(ReadOnlyInline):
    """The order's emails that went out (orders/emails.py): one row per event, once sent."""

    model = OrderEmail
    fields = readonly_fields = ["event", "sent_at"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Orders are changed by the order services only: the status moves through the actions."""

    list_display = ["number", "user", "status", "total", "refunded", "products", "name", "phone", "created_at"]
    list_filter = ["status", "created_at"]
    list_select_related = ["user"]
    search_fields = ["number__iexact", "user__username", "user__email", "name", "phone"]
    # No date_hierarchy: it truncates dates in the database, which on MySQL/MariaDB needs the server's
    # time zone tables (often not loaded); the created_at filter compares ranges and works everywhere.
    fieldsets = [
        (None, {"fields": ["number", "user", "status", "language", "created_at", "payment_due_at", "paid_at"]}),
        (_("Money"), {"fields": ["subtotal", "discounts_applied", "shipping", "tax", "total", "paid", "refunded"]}),
        (
            _("Delivery"),
            {"fields": ["name", "phone", "address", "country", "region", "city", "district", "street", "postal_code"]},
        ),
    ]
    readonly_fields = [
        *("number", "user", "status", "language", "created_at", "payment_due_at", "paid_at"),
        *("subtotal", "discounts_applied", "shipping", "tax", "total", "paid", "refunded"),
        *("country", "region", "city", "district", "street", "postal_code"),
    ]
    inlines = [OrderItemInline, PaymentInline, RefundInline, OrderEmailInline]
    actions = ["mark_shipped", "mark_delivered", "cancel"]

    def has_add_permission(self, request):
        return False  # orders come from checkouts

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("items")

    def get_urls(self):
        dashboard = self.admin_site.admin_view(self.dashboard_view)
        cancel_line = self.admin_site.admin_view(self.cancel_line_view)
        return [
            path("dashboard/", dashboard, name="orders_order_dashboard"),
            path("<int:order_id>/lines/<int:item_id>/cancel/", cancel_line, name="orders_order_cancel_line"),
            *super().get_urls(),
        ]

    @method_decorator(require_POST)
    def cancel_line_view(self, request, order_id, item_id):
        """Cancel one line of a paid order (the button on the order's line): refund it, restock it."""
        order = get_object_or_404(Order, pk=order_id)
        if not self.has_change_permission(request, order):
            raise PermissionDenied
        try:
            order_cancel_line(order=order, item_id=item_id)
        except ShopError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, _("The line is cancelled and refunded."), messages.SUCCESS)
        return redirect("admin:orders_order_change", order_id)

    def dashboard_view(self, request):
        """The sales and stock dashboard, for staff who may see orders."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return sales_dashboard(request, admin_context=self.admin_site.each_context(request))

    def has_delete_permission(self, request, obj=None):
        return False  # cancel instead: that also puts the stock back

    def get_search_results(self, request, queryset, search_term):
        """Search as usual; "#K7Q2..." finds that order number and nothing else."""
        number = re.fullmatch(r"\s*#(\w{1,16})\s*", search_term, flags=re.ASCII)
        if number:
            return queryset.filter(number__iexact=number[1]), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("Subtotal"))
    def subtotal(self, order):
        return money(order.subtotal_cents)

    # Not named `discounts`: a read-only field named like a model field shows the field's raw value.
    @admin.display(description=_("discounts"))
    def discounts_applied(self, order):
        shown = []
        for discount in order.display_discounts:
            code = f" ({discount['code']})" if discount["code"] else ""
            shown.append(f"{discount['title']}{code}: -{money(discount['amount_cents'])}")
        return "; ".join(shown) or "-"

    @admin.display(description=_("Shipping"))
    def shipping(self, order):
        method = order.shipping_method_display
        return f"{money(order.shipping_cents)} ({method})" if method else money(order.shipping_cents)

    @admin.display(description=_("Tax"))
    def tax(self, order):
        return money(order.tax_cents)

    @admin.display(description=_("total"), ordering="total_cents")
    def total(self, order):
        return money(order.total_cents)

    @admin.display(description=_("paid"))
    def paid(self, order):
        return money(order.paid_cents)

    @admin.display(description=_("refunded"), ordering="refunded_cents")
    def refunded(self, order):
        return money(order.refunded_cents) if order.refunded_cents else "-"

    @admin.display(description=_("products"))
    def products(self, order):
        return ", ".join(f"{item.display_name} × {item.quantity}" for item in order.items.all())

    def save_model(self, request, obj, form, change):
        """Write only the contact fields that changed, never a status read before a concurrent move."""
        if form.changed_data:
            obj.save(update_fields=[*form.changed_data, "updated_at"])

    @admin.action(description=_("Mark selected orders as shipped"), permissions=["change"])
    def mark_shipped(self, request, queryset):
        self._move(request, queryset, order_mark_shipped)

    @admin.action(description=_("Mark selected orders as delivered"), permissions=["change"])
    def mark_delivered(self, request, queryset):
        self._move(request, queryset, order_mark_delivered)

    @admin.action(description=_("Cancel selected orders, restock and refund"), permissions=["change"])
    def cancel(self, request, queryset):
        self._move(request, queryset, order_cancel)

    def _move(self, request, queryset, service) -> None:
        """Apply `service` to each order on its own; report each refusal instead of stopping."""
        moved = 0
        for order in queryset.order_by("pk"):
            try:
                order = service(order=order)
            except ShopError as error:
                self.message_user(
                    request,
                    _("Order #%(number)s (%(status)s): %(error)s")
                    % {"number": order.number, "status": order.get_status_display(), "error": error.message},
                    messages.ERROR,
                )
            else:
                moved += 1
        if moved:
            message = ngettext("%(count)d order updated.", "%(count)d orders updated.", moved) % {"count": moved}
            self.message_user(request, message, messages.SUCCESS)


# Shipping, promotions and discount codes (prices typed in currency units) --------------------------


class CentsAdminMixin:
    """Admin classes whose `*_cents` fields are typed in currency units (12.50), stored as cents (1250)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name.endswith("_cents") and db_field.editable:
            required = not (db_field.blank or db_field.has_default())
            return MoneyField(label=capfirst(db_field.verbose_name), required=required)
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class ShippingRateInline(CentsAdminMixin, admin.TabularInline):
    model = ShippingRate
    fields = ["country", "region", "price_cents", "estimated_days", "code"]
    extra = 1


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "code", "is_active", "position"]
    list_editable = ["is_active", "position"]
    inlines = [ShippingRateInline]


class OfferAdmin(CentsAdminMixin, admin.ModelAdmin):
    """What the promotion and discount code admins share: the value, the minimum and the window."""

    list_filter = ["is_active", "kind"]
    search_fields = ["title", "title_en"]

    @admin.display(description=_("value"))
    def value(self, offer):
        if offer.percent is not None:
            return f"{offer.percent}%"
        return money(offer.amount_cents) if offer.amount_cents is not None else str(offer.get_kind_display())

    @admin.display(description=_("minimum subtotal"), ordering="min_subtotal_cents")
    def minimum(self, offer):
        return money(offer.min_subtotal_cents) if offer.min_subtotal_cents else "-"


@admin.register(Promotion)
class PromotionAdmin(OfferAdmin):
    list_display = ["title", "kind", "value", "minimum", "starts_at", "ends_at", "stackable", "is_active"]
    fields = [
        ("title", "title_en"),
        "kind",
        ("percent", "amount_cents"),
        "min_subtotal_cents",
        "products",
        ("starts_at", "ends_at"),
        ("stackable", "is_active"),
    ]
    autocomplete_fields = ["products"]


@admin.register(DiscountCode)
class DiscountCodeAdmin(OfferAdmin):
    list_display = ["code", "title", "kind", "value", "minimum", "usage", "per_customer_limit", "ends_at", "is_active"]
    search_fields = ["code", "title", "title_en"]
    fields = [
        "code",
        ("title", "title_en"),
        "kind",
        ("percent", "amount_cents"),
        "min_subtotal_cents",
        ("starts_at", "ends_at"),
        ("usage_limit", "per_customer_limit", "used_count"),
        ("stackable", "is_active"),
    ]
    readonly_fields = ["used_count"]

    @admin.display(description=_("used"), ordering="used_count")
    def usage(self, code):
        return f"{code.used_count} / {code.usage_limit}" if code.usage_limit is not None else str(code.used_count)


@admin.register(CheckoutSession)
class CheckoutSessionAdmin(admin.ModelAdmin):
    """Agents' checkout sessions, to look at: they change only through their agent's door."""

    list_display = ["public_id", "owner", "status", "order", "created_at", "expires_at"]
    list_filter = ["status"]
    search_fields = ["public_id__exact", "owner", "order__number__iexact"]
    readonly_fields = [field.name for field in CheckoutSession._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
