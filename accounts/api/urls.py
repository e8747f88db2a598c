from django.urls import path

from accounts.api import views

urlpatterns = [
    path("register", views.RegisterApi.as_view(), name="register"),
    path("token", views.TokenApi.as_view(), name="token"),
    path("token/refresh", views.TokenRefreshApi.as_view(), name="token-refresh"),
    path("me", views.MeApi.as_view(), name="me"),
    path("mcp-tokens", views.McpTokenListCreateApi.as_view(), name="mcp-tokens"),
    path("mcp-tokens/<int:token_id>", views.McpTokenRevokeApi.as_view(), name="mcp-token"),
]
