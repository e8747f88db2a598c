from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from accounts.forms import LoginForm, SignupForm
from accounts.services import user_register
from mcpshop_site.exceptions import ShopError
from orders.selectors import order_list_for_user

RECENT_ORDERS = 5
# The service names the field it refused; the form calls the password "password1".
_FORM_FIELDS = {"username": "username", "email": "email", "password": "password1"}


class LoginView(auth_views.LoginView):
    """The page login; a guest's cart joins the account's cart (see cart.signals)."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, "throttled"):
            response.status_code = 429
        return response


class LogoutView(auth_views.LogoutView):
    """Log out (POST only, with the CSRF token)."""


def _safe_next(request, default: str) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return default


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
def account(request):
    """The shopper's account page: who they are and their latest orders."""
    recent = list(order_list_for_user(user=request.user)[:RECENT_ORDERS])
    return render(request, "accounts/account.html", {"recent_orders": recent})
