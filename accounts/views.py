import json
import sys
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.addresses import address_create, address_delete, address_set_default, address_update
from accounts.exceptions import AddressNotFound, McpTokenNotFound
from accounts.forms import AddressForm, LoginForm, McpTokenForm, PasswordResetForm, SignupForm
from accounts.selectors import (
    address_default_for_user,
    address_get_for_user,
    address_list_for_user,
    mcp_token_list_for_user,
)
from accounts.services import mcp_token_create, mcp_token_revoke, user_register
from mcpshop_site.exceptions import ShopError
from oauth.selectors import connected_apps_for_user
from orders.selectors import order_list_for_user

RECENT_ORDERS = 5
# The service names the field it refused; the form calls the password "password1".
_FORM_FIELDS = {"username": "username", "email": "email", "password": "password1"}


class ThrottledFormMixin:
    """Answer 429 Too Many Requests when the form was refused by a rate limit (error code "throttled")."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, "throttled"):
            response.status_code = 429
        return response


class LoginView(ThrottledFormMixin, auth_views.LoginView):
    """The page login; a guest's cart joins the account's cart (see cart.signals)."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """Log out (POST only, with the CSRF token)."""


class PasswordResetView(ThrottledFormMixin, auth_views.PasswordResetView):
    """Ask for a reset link by email; every address gets the same answer, known or not."""

    template_name = "accounts/password_reset_form.html"
    form_class = PasswordResetForm
    success_url = reverse_lazy("accounts:password_reset_done")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Set a new password from the emailed link; the link then stops working, and so do the account's tokens
    and other sessions (they carry a digest of the password)."""

    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "label_suffix": ""}


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


def _safe_next(request, default: str) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return default


@require_http_methods(["GET", "HEAD", "POST"])
def signup(request):
    """Create an account and log in with it."""
    if request.user.is_authenticated:
        return redirect("accounts:account")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_register(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
        except ShopError as error:
            field = _FORM_FIELDS.get(error.details.get("field"))
            form.add_error(field, error.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome, %(name)s! Your account is ready.") % {"name": user.username})
            return redirect(_safe_next(request, "accounts:account"))
    return render(request, "accounts/signup.html", {"form": form, "next": _safe_next(request, "")})


@login_required
@require_safe
def account(request):
    """The shopper's account page: who they are, their default address, their latest orders, their connected apps."""
    recent = list(order_list_for_user(user=request.user)[:RECENT_ORDERS])
    context = {
        "recent_orders": recent,
        "default_address": address_default_for_user(user=request.user),
        "connected_apps": connected_apps_for_user(user=request.user),
    }
    return render(request, "accounts/account.html", context)


def _mcp_client_configs(request, token: str) -> dict:
    """Return copy-paste configurations that add the shop to desktop MCP clients, for both transports."""
    base = settings.SHOP_BASE_URL.rstrip("/") if settings.SHOP_BASE_URL else request.build_absolute_uri("/")[:-1]
    url = f"{base}/mcp"
    http = {"mcpServers": {"mcpshop": {"type": "http", "url": url, "headers": {"Authorization": f"Bearer {token}"}}}}
    stdio = {
        "mcpServers": {
            "mcpshop": {
                "command": sys.executable,
                "args": [str(settings.BASE_DIR / "manage.py"), "mcp_stdio"],
                "env": {"MCPSHOP_TOKEN": token},
            }
        }
    }
    return {
        "url": url,
        "http": json.dumps(http, indent=2),
        "stdio": json.dumps(stdio, indent=2),
        "claude_code": f'claude mcp add --transport http mcpshop {url} --header "Authorization: Bearer {token}"',
    }


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def mcp_tokens(request):
    """The shopper's MCP tokens: create one (shown once), see when each was last used, revoke."""
    created = None
    form = McpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires"]
        try:
            token, plain = mcp_token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=timezone.now() + timedelta(days=int(days)) if days else None,
            )
        except ShopError as error:
            field = error.details.get("field")
            form.add_error(field if field in form.fields else None, error.message)
        else:
            created = {"token": token, "plain": plain}
            form = McpTokenForm()
    context = {
        "form": form,
        "created": created,
        "tokens": mcp_token_list_for_user(user=request.user),
        "now": timezone.now(),
        "configs": _mcp_client_configs(request, created["plain"] if created else _("YOUR-TOKEN")),
    }
    response = render(request, "accounts/mcp_tokens.html", context)
    if created:
        response["Cache-Control"] = "no-store"  # the token is on this page only
    return response


@login_required
@require_POST
def mcp_token_revoke_view(request, token_id):
    """Revoke one of the shopper's MCP tokens; it stops working at once."""
    try:
        token = mcp_token_revoke(user=request.user, token_id=token_id)
    except McpTokenNotFound:
        raise Http404(_("No such MCP token.")) from None
    messages.success(request, _("“%(name)s” is revoked: it no longer works.") % {"name": token.name})
    return redirect("accounts:mcp_tokens")


# The address book ----------------------------------------------------------------------------------


def _address_saved(request, form, save) -> bool:
    """Run `save(fields, make_default)`; put the service's refusal on the form's field. Return whether it saved."""
    fields = dict(form.cleaned_data)
    make_default = fields.pop("make_default")
    try:
        save(fields, make_default)
    except ShopError as error:
        field = error.details.get("field")
        form.add_error(field if field in form.fields else None, error.message)
        return False
    return True


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def addresses(request):
    """The shopper's address book: every address (default first) and a form to add one."""
    form = AddressForm(request.POST or None)
    if request.method == "POST" and form.is_valid():

        def add(fields, make_default):
            address_create(user=request.user, make_default=make_default, **fields)

        if _address_saved(request, form, add):
            messages.success(request, _("The address is saved."))
            return redirect("accounts:addresses")
    context = {"form": form, "addresses": address_list_for_user(user=request.user)}
    return render(request, "accounts/addresses.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def address_edit(request, address_id):
    """Change one of the shopper's addresses; anyone else's is a 404."""
    try:
        address = address_get_for_user(user=request.user, address_id=address_id)
    except AddressNotFound:
        raise Http404(_("No such address.")) from None
    initial = {**address.parts(), "recipient": address.recipient, "phone": address.phone}
    form = AddressForm(request.POST or None, initial={**initial, "make_default": address.is_the_default})
    if request.method == "POST" and form.is_valid():

        def change(fields, make_default):
            address_update(user=request.user, address_id=address.pk, make_default=make_default, **fields)

        if _address_saved(request, form, change):
            messages.success(request, _("The address is saved."))
            return redirect("accounts:addresses")
    return render(request, "accounts/address_edit.html", {"form": form, "address": address})


def _address_action(request, address_id, action, done: str):
    try:
        action(user=request.user, address_id=address_id)
    except AddressNotFound:
        raise Http404(_("No such address.")) from None
    messages.success(request, done)
    return redirect("accounts:addresses")


@login_required
@require_POST
def address_delete_view(request, address_id):
    """Delete one of the shopper's addresses."""
    return _address_action(request, address_id, address_delete, _("The address is deleted."))


@login_required
@require_POST
def address_default_view(request, address_id):
    """Make one of the shopper's addresses the default."""
    return _address_action(request, address_id, address_set_default, _("This is now your default address."))
