from django.contrib import admin

from policies.models import Policy


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ("kind", "title", "title_en", "is_published", "updated_at")
    list_filter = ("is_published",)
    fields = ("kind", "is_published", "title", "body", "title_en", "body_en")

    def view_on_site(self, policy):
        """Link a published page only: an unpublished one is not found on the site."""
        return policy.get_absolute_url() if policy.is_published else None
