"""Address book services: check an address, add, change, delete, and make one the default.

`address_clean` is the one set of rules for a delivery address, also for an address typed at checkout.
"""

import re
import unicodedata

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.exceptions import TooManyAddresses
from accounts.models import ADDRESS_LIMITS, ADDRESS_REQUIRED, Address, User
from accounts.selectors import address_get_for_user
from mcpshop_site.countries import validate_country
from mcpshop_site.exceptions import InvalidInput

ADDRESS_BOOK_LIMIT = 20
ADDRESS_FIELDS = ("recipient", "phone", "country", "region", "city", "district", "street", "postal_code")
_PHONE = re.compile(r"\+?[0-9][0-9 ()\-]{3,30}")
_POSTAL_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 \-]{0,19}")
_LABELS = {
    "recipient": gettext_lazy("Recipient"),
    "phone": gettext_lazy("Phone"),
    "country": gettext_lazy("Country"),
    "region": gettext_lazy("Region / province"),
    "city": gettext_lazy("City"),
    "district": gettext_lazy("District"),
    "street": gettext_lazy("Street address"),
    "postal_code": gettext_lazy("Postal code"),
}


def address_clean(data: dict, *, partial: bool = False) -> dict:
    """Return the address fields of `data` tidied (spaces collapsed, country in capitals), or raise InvalidInput.

    Unknown keys are ignored. With `partial` (a change), only the fields given are checked and returned.
    """
    cleaned = {}
    for field in ADDRESS_FIELDS:
        if partial and field not in data:
            continue
        value = data.get(field)
        if value is not None and not isinstance(value, str):
            raise InvalidInput(_("%(field)s must be text.") % {"field": _LABELS[field]}, field=field)
        value = " ".join((value or "").split())
        if field == "country":
            value = value.upper()
        cleaned[field] = value
        _check(field, value)
    return cleaned


def _check(field: str, value: str) -> None:
    label = _LABELS[field]
    if not value:
        if field in ADDRESS_REQUIRED:
            raise InvalidInput(_("%(field)s is required.") % {"field": label}, field=field)
        return
    limit = 2 if field == "country" else ADDRESS_LIMITS[field]
    if len(value) > limit:
        raise InvalidInput(_("%(field)s is too long.") % {"field": label}, field=field, max_length=limit)
    if any(unicodedata.category(character) == "Cc" for character in value):  # NUL, bell, escape... (tabs are spaces)
        raise InvalidInput(_("%(field)s may not hold control characters.") % {"field": label}, field=field)
    if field == "country":
        validate_country(value)
    if field == "phone" and not _PHONE.fullmatch(value):
        raise InvalidInput(_("Phone may hold digits, spaces, +, - and brackets only."), field=field)
    if field == "postal_code" and not _POSTAL_CODE.fullmatch(value):
        raise InvalidInput(_("Postal code may hold letters, digits, spaces and - only."), field=field)


def _lock_book(user) -> None:
    """Lock the user's row: one address book change at a time per user (the default flag moves safely)."""
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()


def _make_default(address: Address) -> None:
    Address.objects.filter(user_id=address.user_id, is_default=True).exclude(pk=address.pk).update(is_default=None)
    if not address.is_default:
        address.is_default = True
        Address.objects.filter(pk=address.pk).update(is_default=True)


@transaction.atomic
def address_create(*, user, make_default: bool = False, **fields) -> Address:
    """Add an address to the user's book; the first one, or one asked to be, becomes the default."""
    cleaned = address_clean(fields)
    _lock_book(user)
    count = Address.objects.filter(user=user).count()
    if count >= ADDRESS_BOOK_LIMIT:
        raise TooManyAddresses(limit=ADDRESS_BOOK_LIMIT)
    address = Address.objects.create(user=user, **cleaned)
    if make_default or count == 0:
        _make_default(address)
    return address


@transaction.atomic
def address_update(*, user, address_id, make_default: bool = False, **fields) -> Address:
    """Change the fields given of one of the user's addresses (someone else's is not found)."""
    cleaned = address_clean(fields, partial=True)
    _lock_book(user)
    address = address_get_for_user(user=user, address_id=address_id)
    for field, value in cleaned.items():
        setattr(address, field, value)
    if cleaned:
        address.save(update_fields=[*cleaned, "updated_at"])
    if make_default:
        _make_default(address)
    return address


@transaction.atomic
def address_set_default(*, user, address_id) -> Address:
    """Make one of the user's addresses the default; the old default stops being it in the same transaction."""
    _lock_book(user)
    address = address_get_for_user(user=user, address_id=address_id)
    _make_default(address)
    return address


@transaction.atomic
def address_delete(*, user, address_id) -> None:
    """Delete one of the user's addresses; if it was the default, the newest other one becomes the default."""
    _lock_book(user)
    address = address_get_for_user(user=user, address_id=address_id)
    address.delete()
    if address.is_default:
        successor = Address.objects.filter(user=user).order_by("-created_at", "-id").first()
        if successor is not None:
            _make_default(successor)
