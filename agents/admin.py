from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from agents.models import AgentPlatform, AgentPlatformKey
from agents.services import platform_key_issue, platform_keys_revoke


class AgentPlatformKeyInline(admin.TabularInline):
    model = AgentPlatformKey
    fields = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False  # keys are issued with the "Issue an API key" button, which shows the key once


@admin.register(AgentPlatform)
class AgentPlatformAdmin(admin.ModelAdmin):
    """Agent platforms (ACP): staff add one, issue it API keys and give it its webhook and secrets."""

    list_display = ["name", "is_active", "webhook_url", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    fields = ["name", "is_active", "webhook_url", "webhook_secret", "request_secret"]
    inlines = [AgentPlatformKeyInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_urls(self):
        issue = self.admin_site.admin_view(self.issue_key_view)
        return [path("<int:platform_id>/issue-key/", issue, name="agents_agentplatform_issue_key"), *super().get_urls()]

    def issue_key_view(self, request, platform_id):
        """Issue an API key on POST and show it this once (admin pages are never cached); GET asks for a name first."""
        platform = get_object_or_404(AgentPlatform, pk=platform_id)
        if not self.has_change_permission(request, platform):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": platform,
            "title": _("Issue an API key for %(platform)s") % {"platform": platform},
        }
        if request.method == "POST":
            key, plain = platform_key_issue(platform=platform, name=request.POST.get("name", ""))
            context.update(key=key, plain_key=plain)
        return TemplateResponse(request, "admin/agents/agentplatform/issue_key.html", context)


@admin.register(AgentPlatformKey)
class AgentPlatformKeyAdmin(admin.ModelAdmin):
    """API keys of agent platforms: staff see which are in use and revoke them (refused from the next request)."""

    list_display = ["platform", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["platform", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "platform__name"]
    list_select_related = ["platform"]
    fields = ["platform", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # issued from the platform's page, where the key is shown once

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        revoked = platform_keys_revoke(keys=queryset)
        message = ngettext("%(count)d key revoked.", "%(count)d keys revoked.", revoked) % {"count": revoked}
        self.message_user(request, message, messages.SUCCESS)
