from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("accounts/addresses/", views.addresses, name="addresses"),
    path("accounts/addresses/<int:address_id>/", views.address_edit, name="address_edit"),
    path("accounts/addresses/<int:address_id>/delete/", views.address_delete_view, name="address_delete"),
    path("accounts/addresses/<int:address_id>/default/", views.address_default_view, name="address_default"),
    path("accounts/", views.account, name="account"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/password-reset/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("accounts/mcp-tokens/", views.mcp_tokens, name="mcp_tokens"),
    path("accounts/mcp-tokens/<int:token_id>/revoke/", views.mcp_token_revoke_view, name="mcp_token_revoke"),
]
