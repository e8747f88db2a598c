from django.contrib import admin, messages
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.forms import AdminUserCreationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import Address, McpToken, User
from accounts.services import mcp_token_revoke


class UserCreationForm(AdminUserCreationForm):
    """Django's admin form plus the email address, which is required and unique in this shop."""

    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ["username", "email"]

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError(_("An account with this email already exists."), code="unique")
        return email


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    add_form = UserCreationForm
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "email", "usable_password", "password1", "password2"]})
    ]
    list_display = ["username", "email", "is_staff", "is_active", "date_joined", "last_login"]


@admin.register(McpToken)
class McpTokenAdmin(admin.ModelAdmin):
    """Personal MCP tokens: staff see who has which and revoke them; the secret is never stored."""

    list_display = ["name", "user", "prefix", "scopes", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["name", "prefix", "user__username", "user__email"]
    list_select_related = ["user"]
    fields = ["user", "name", "prefix", "scopes", "created_at", "last_used_at", "expires_at", "revoked_at"]
    readonly_fields = fields
    ordering = ["-id"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # the owner creates tokens on their account page, where the token is shown once

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True).select_related("user"):
            mcp_token_revoke(user=token.user, token_id=token.pk)
            revoked += 1
        message = ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", revoked) % {"count": revoked}
        self.message_user(request, message, messages.SUCCESS)


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    """Shoppers' address books, for staff to look up; shoppers change them on their account pages."""

    list_display = ["recipient", "user", "phone", "country", "region", "city", "is_default"]
    list_filter = ["country"]
    search_fields = ["recipient", "phone", "city", "street", "user__username", "user__email"]
    list_select_related = ["user"]
    fields = ["user", "recipient", "phone", "country", "region", "city", "district", "street", "postal_code"]
    raw_id_fields = ["user"]
