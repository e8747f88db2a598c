import re

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from mcpshop_site.exceptions import ShopError
from mcpshop_site.money import money
from orders.dashboard import sales_dashboard
from orders.models import Order, OrderItem
from orders.services import order_cancel, order_mark_delivered, order_mark_shipped


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    fields = readonly_fields = ["sku", "name", "unit_price", "quantity", "line_total"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("unit price"))
    def unit_price(self, item):
        return money(item.unit_price_cents)

    @admin.display(description=_("line total"))
    def line_total(self, item):
        return money(item.line_total_cents)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Orders are changed by the order services only: the status moves through the actions."""

    list_display = ["id", "user", "status", "total", "name", "phone", "created_at"]
    list_filter = ["status", "created_at"]
    list_select_related = ["user"]
    search_fields = ["id__exact", "user__username", "user__email", "name", "phone"]
    # No date_hierarchy: it truncates dates in the database, which on MySQL/MariaDB needs the server's
    # time zone tables (often not loaded); the created_at filter compares ranges and works everywhere.
    fields = ["user", "status", "total", "name", "phone", "address", "created_at", "paid_at", "payment_reference"]
    readonly_fields = ["user", "status", "total", "created_at", "paid_at", "payment_reference"]
    inlines = [OrderItemInline]
    actions = ["mark_shipped", "mark_delivered", "cancel"]

    def has_add_permission(self, request):
        return False  # orders come from checkouts

    def get_urls(self):
        dashboard = self.admin_site.admin_view(self.dashboard_view)
        return [path("dashboard/", dashboard, name="orders_order_dashboard"), *super().get_urls()]

    def dashboard_view(self, request):
        """The sales and stock dashboard, for staff who may see orders."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return sales_dashboard(request, admin_context=self.admin_site.each_context(request))

    def has_delete_permission(self, request, obj=None):
        return False  # cancel instead: that also puts the stock back

    def get_search_results(self, request, queryset, search_term):
        """Search as usual; "#42" finds order 42 and nothing else."""
        number = re.fullmatch(r"\s*#(\d{1,18})\s*", search_term, flags=re.ASCII)
        if number:
            return queryset.filter(pk=int(number[1])), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("total"), ordering="total_cents")
    def total(self, order):
        return money(order.total_cents)

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

    @admin.action(description=_("Cancel selected orders and restock"), permissions=["change"])
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
                    _("Order #%(id)d (%(status)s): %(error)s")
                    % {"id": order.pk, "status": order.get_status_display(), "error": error.message},
                    messages.ERROR,
                )
            else:
                moved += 1
        if moved:
            message = ngettext("%(count)d order updated.", "%(count)d orders updated.", moved) % {"count": moved}
            self.message_user(request, message, messages.SUCCESS)
