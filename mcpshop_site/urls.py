from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.forms import AdminLoginForm
from mcpshop_site.middleware import allow_inline_styles
from oauth.urls import authorization_server_patterns

api_patterns = [
    path("auth/", include("accounts.api.urls")),
    path("", include("catalog.api.urls")),
    path("cart/", include("cart.api.urls")),
    path("orders/", include("orders.api.urls")),
    path("addresses/", include("accounts.api.addresses")),
    path("shipping-options/", include("orders.api.shipping")),
    path("", include("assistant.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", allow_inline_styles(SpectacularSwaggerSplitView.as_view(url_name="api:schema")), name="docs"),
]

admin.site.site_header = admin.site.site_title = _("MCPshop administration")
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("api/", include((api_patterns, "api"))),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("media/<path:path>", require_safe(serve), {"document_root": settings.MEDIA_ROOT}),
    path("assistant/confirm/", include("assistant.confirm_urls")),
    path("acp/feeds/", include("catalog.feeds.urls")),
    path("", include((authorization_server_patterns, "oauth2_provider"))),
    path("", include("oauth.urls")),
    path("", include("catalog.urls")),
    path("", include("cart.urls")),
    path("", include("orders.urls")),
    path("", include("accounts.urls")),
    path("", include("assistant.urls")),
    path("", include("agents.urls")),
    path("", include("ucp.urls")),
    path("", include("policies.urls")),
]

handler400 = "mcpshop_site.api.bad_request"
handler404 = "mcpshop_site.api.page_not_found"
handler500 = "mcpshop_site.api.server_error"
