"""OAuth's addresses: the authorization server under /oauth/ (in django-oauth-toolkit's URL namespace, which
its views reverse), its metadata at the origin's /.well-known/oauth-authorization-server, and the account
page's disconnect button."""

from django.urls import path
from oauth2_provider import views as dot

from oauth import registration, views

# Mounted at the root in django-oauth-toolkit's namespace ("oauth2_provider"), which its views reverse.
authorization_server_patterns = [
    path(".well-known/oauth-authorization-server", dot.OAuthServerMetadataView.as_view(), name="oauth-server-metadata"),
    path("oauth/authorize/", views.ConsentView.as_view(), name="authorize"),
    path("oauth/token/", dot.TokenView.as_view(), name="token"),
    path("oauth/revoke/", dot.RevokeTokenView.as_view(), name="revoke-token"),
    path("oauth/register/", registration.RegistrationView.as_view(), name="dcr-register"),
    path(
        "oauth/register/<str:client_id>/",
        registration.RegistrationManagementView.as_view(),
        name="dcr-register-management",
    ),
]

app_name = "oauth"
urlpatterns = [
    path(
        "accounts/connected-apps/<int:application_id>/revoke/",
        views.connected_app_revoke_view,
        name="connected_app_revoke",
    ),
]
