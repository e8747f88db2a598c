"""The one lock of every door that checks a password: the storefront's login form, the admin's login and
`POST /api/auth/token`. (The password reset form checks no password: it limits the emails it sends, on the
same limiter, in accounts/forms.py.)

Failures are counted twice, in the shop's sliding-window limiter (mcpshop_site/ratelimit.py, shared by
every process through Redis):
- per network address and username: one account guessed from one place is locked after
  `LOGIN_FAILURE_LIMIT` failures, while the same address may still sign in to other accounts;
- per network address alone: a password sprayed over many usernames from one place is locked after
  `LOGIN_ADDRESS_FAILURE_LIMIT` failures, whatever the usernames.
There is deliberately no lock per username across addresses: anyone could then lock a real shopper out of
their account from anywhere (docs/security.md, "Rate limits"). A success forgets the pair's failures but
not the address's, so an attacker's own account cannot reset a spray.
"""

import hashlib
import unicodedata

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from mcpshop_site.exceptions import ShopError
from mcpshop_site.ratelimit import client_address, rate_limit_count, rate_limit_reset, rate_limit_wait


class LoginThrottled(ShopError):
    code = "throttled"
    status = 429
    default_message = _("Too many failed login attempts. Please try again in 10 minutes.")


def _keys(request, username: str) -> tuple[str, str]:
    address = client_address(request)
    # Normalized as Django normalizes usernames (NFKC), casefolded: a MariaDB in utf8mb4_unicode_ci (as
    # docs/deploy.md creates it) signs "ａlice" (a full-width a) in as alice, and it must be alice's pair.
    name = unicodedata.normalize("NFKC", username or "").strip().casefold()
    pair = hashlib.sha256(f"{address}\0{name}".encode()).hexdigest()
    return f"login-failures:{pair}", f"login-failures-address:{hashlib.sha256(address.encode()).hexdigest()}"


def login_check(request, username: str) -> None:
    """Raise LoginThrottled (with `retry_after` seconds) if this address may not try this username now."""
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    pair, address = _keys(request, username)
    waits = [
        rate_limit_wait(pair, settings.LOGIN_FAILURE_LIMIT, window=window),
        rate_limit_wait(address, settings.LOGIN_ADDRESS_FAILURE_LIMIT, window=window),
    ]
    waits = [wait for wait in waits if wait is not None]
    if waits:
        raise LoginThrottled(retry_after=max(waits))


def login_failed(request, username: str) -> None:
    """Count a failed attempt (a wrong password or an unknown username) against both locks."""
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    for key in _keys(request, username):
        rate_limit_count(key, window=window)


def login_succeeded(request, username: str) -> None:
    """Forget this address's failures with this username (the address's own count stays)."""
    pair, _address = _keys(request, username)
    rate_limit_reset(pair, window=settings.LOGIN_FAILURE_WINDOW_SECONDS)
