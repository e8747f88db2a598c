from django.contrib import admin

from ucp.models import Buyer, BuyerAddress


class BuyerAddressInline(admin.TabularInline):
    model = BuyerAddress
    extra = 0
    fields = ["address_id", "owner", "name", "street", "city", "region", "postal_code", "country"]


@admin.register(Buyer)
class BuyerAdmin(admin.ModelAdmin):
    """The agents' address book: the shop's own addresses (no agent) are offered to any agent naming the email."""

    list_display = ["email", "name", "reference"]
    search_fields = ["email", "name", "reference"]
    inlines = [BuyerAddressInline]
