from django.contrib import admin
from django.db.models import Count, Sum
from django.utils.translation import gettext_lazy as _

from cart.models import Cart, CartItem


class CartItemInline(admin.TabularInline):
    model = CartItem
    fields = readonly_fields = ["product", "quantity", "added_at"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    """Carts belong to shoppers: staff may look, but only the shoppers' own actions change them."""

    list_display = ["id", "owner", "lines", "units", "updated_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email"]
    fields = readonly_fields = ["owner", "created_at", "updated_at"]
    inlines = [CartItemInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(line_count=Count("items"), unit_count=Sum("items__quantity"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("owner"), ordering="user__username")
    def owner(self, cart):
        return cart.user or _("guest")  # never the guest token: it is the guest's key to the cart

    @admin.display(description=_("lines"), ordering="line_count")
    def lines(self, cart):
        return cart.line_count

    @admin.display(description=_("units"), ordering="unit_count")
    def units(self, cart):
        return cart.unit_count or 0
