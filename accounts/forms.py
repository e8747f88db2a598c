import hashlib
import unicodedata

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.forms import PasswordResetForm as DjangoPasswordResetForm
from django.core.exceptions import ValidationError
from django.utils.translation import get_language, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.emails import password_reset_email_send
from accounts.models import ADDRESS_LIMITS, McpToken
from accounts.throttles import LoginThrottled, login_check, login_failed, login_succeeded
from mcpshop_site.countries import country_choices
from mcpshop_site.ratelimit import client_address, rate_limit_count, rate_limit_wait

# Django 5.2's own zh_Hans catalog lacks this validator message; naming it here lets makemessages
# put it in our catalog, so a weak password is explained in Chinese too.
UPSTREAM_MESSAGES = [
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        "min_length",
    ),
]


class ThrottledLoginMixin:
    """The login lock of every password door (accounts/throttles.py) on a Django authentication form: only
    failures count, and a locked attempt is refused before the password is checked."""

    def clean(self):
        username = self.data.get("username") or ""
        try:
            login_check(self.request, username)
        except LoginThrottled as error:
            raise ValidationError(error.message, code="throttled") from None
        try:
            cleaned = super().clean()
        except ValidationError:
            login_failed(self.request, username)
            raise
        login_succeeded(self.request, username)
        return cleaned


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    """The storefront's login form."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's login form, counted with the storefront's: failures at either door add up."""


class SignupForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(label=_("Email"))
    password1 = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label=_("Password again"), strip=False, widget=forms.PasswordInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autocapitalize": "none"})
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        for name in ("password1", "password2"):
            self.fields[name].widget.attrs["autocomplete"] = "new-password"

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", ValidationError(_("The two passwords differ."), code="password_mismatch"))
        return cleaned


class McpTokenForm(forms.Form):
    """A new personal MCP token: its name, what it may do, and how long it lives."""

    EXPIRY_CHOICES = [("", _("Never")), ("30", _("In 30 days")), ("90", _("In 90 days")), ("365", _("In a year"))]

    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What the token is for, e.g. the app that will use it.")
    )
    scopes = forms.MultipleChoiceField(
        label=_("It may"),
        choices=McpToken.Scope.choices,
        initial=McpToken.Scope.values,
        widget=forms.CheckboxSelectMultiple,
    )
    expires = forms.ChoiceField(label=_("Expires"), choices=EXPIRY_CHOICES, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs.update({"autocomplete": "off", "placeholder": _("e.g. Claude Desktop")})


PASSWORD_RESET_WINDOW = 60 * 60  # seconds
PASSWORD_RESET_PER_EMAIL = 3  # links an inbox can be sent per window, whoever asks
PASSWORD_RESET_PER_ADDRESS = 10  # requests per window from one network address, for any addresses
RESET_THROTTLED = _("Too many password reset requests. Please try again in an hour.")


class PasswordResetForm(DjangoPasswordResetForm):
    """Ask for a password reset link, found and sent by the job queue in the shopper's language.

    The answer is the same whether or not an account uses the address (no enumeration), and so are the
    limits: an address, known or not, gets PASSWORD_RESET_PER_EMAIL requests an hour, and one network
    address PASSWORD_RESET_PER_ADDRESS, counted by the shop's rate limiter so every app process shares them.
    """

    def __init__(self, *args, request, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.request = request

    def clean(self):
        cleaned = super().clean()
        # The inbox's key as Django's form finds the account (NFKC, casefolded): on MariaDB "alice@ｅxample.com"
        # (a full-width e) finds alice@example.com, and must count against its limit.
        email = unicodedata.normalize("NFKC", cleaned.get("email") or "").casefold()
        if email:
            address = client_address(self.request)
            limits = [
                (f"password-reset:address:{address}", PASSWORD_RESET_PER_ADDRESS),
                (f"password-reset:email:{hashlib.sha256(email.encode()).hexdigest()}", PASSWORD_RESET_PER_EMAIL),
            ]
            if any(rate_limit_wait(key, limit, window=PASSWORD_RESET_WINDOW) is not None for key, limit in limits):
                raise ValidationError(RESET_THROTTLED, code="throttled")
            for key, _limit in limits:
                rate_limit_count(key, window=PASSWORD_RESET_WINDOW)
        return cleaned

    def save(self, **kwargs):
        """Queue the job that mails the link to the accounts using the address, if any (accounts/emails.py);
        Django's form would look them up and send during the request."""
        password_reset_email_send.enqueue(
            email=self.cleaned_data["email"],
            base_url=f"{self.request.scheme}://{self.request.get_host()}",
            language=get_language(),
        )


class AddressForm(forms.Form):
    """An address book entry; the address book's service checks it (accounts.addresses.address_clean)."""

    recipient = forms.CharField(label=_("Recipient"), max_length=ADDRESS_LIMITS["recipient"])
    phone = forms.CharField(label=_("Phone"), max_length=ADDRESS_LIMITS["phone"])
    country = forms.ChoiceField(label=_("Country"))
    region = forms.CharField(label=_("Region / province"), max_length=ADDRESS_LIMITS["region"], required=False)
    city = forms.CharField(label=_("City"), max_length=ADDRESS_LIMITS["city"])
    district = forms.CharField(label=_("District"), max_length=ADDRESS_LIMITS["district"], required=False)
    street = forms.CharField(label=_("Street address"), max_length=ADDRESS_LIMITS["street"])
    postal_code = forms.CharField(label=_("Postal code"), max_length=ADDRESS_LIMITS["postal_code"], required=False)
    make_default = forms.BooleanField(label=_("Make this my default address"), required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = country_choices()
        self.fields["country"].initial = settings.SHOP_COUNTRY
        self.fields["phone"].widget.attrs.update({"autocomplete": "tel", "inputmode": "tel"})
        self.fields["recipient"].widget.attrs["autocomplete"] = "name"
        self.fields["street"].widget.attrs["autocomplete"] = "street-address"
        self.fields["postal_code"].widget.attrs["autocomplete"] = "postal-code"
