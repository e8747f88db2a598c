"""The agents' address book: buyers keyed by email, their addresses as checkout-session destinations.

What an agent is offered for an email: the shop's own addresses of that buyer (imported from the shop's
customer files: `manage.py import_agent_buyers`), and the addresses this same agent saved before. An
address one agent saved is never shown to another agent.

A session linked to a shop account (ucp.identity) is offered that account's own saved addresses instead
(ids `account_<id>`), and only such a session; the addresses an agent sends for it are not saved anywhere
(the account's address book is the shopper's to change).
"""

import secrets

from django.db import IntegrityError, transaction

from accounts.models import ADDRESS_LIMITS
from accounts.selectors import address_list_for_user
from ucp.models import Buyer, BuyerAddress

PLACE = ("street", "city", "region", "postal_code", "country")
ACCOUNT_PREFIX = "account_"


def _destination(address: BuyerAddress) -> dict:
    return {
        "id": address.address_id,
        "name": address.name,
        "phone": address.phone,
        **{field: getattr(address, field) for field in PLACE},
    }


def _account_destination(address) -> dict:
    """Return one of an account's addresses as a destination (its district leads the street, if it fits)."""
    street = " ".join(part for part in (address.district, address.street) if part)
    return {
        "id": f"{ACCOUNT_PREFIX}{address.pk}",
        "name": address.recipient,
        "phone": address.phone,
        "street": street if len(street) <= ADDRESS_LIMITS["street"] else address.street,
        **{field: getattr(address, field) for field in ("city", "region", "postal_code", "country")},
    }


def addresses_for(*, owner: str, email: str, user=None) -> list[dict]:
    """Return the destinations offered to `owner` for the buyer `email`: the shop's own first, then the agent's;
    for a linked shopper `user`, their account's addresses (the default first)."""
    if user is not None:
        return [_account_destination(address) for address in address_list_for_user(user=user)]
    if not email:
        return []
    rows = BuyerAddress.objects.filter(buyer__email=email.lower(), owner__in=["", owner]).order_by("id")
    return [_destination(row) for row in sorted(rows, key=lambda row: row.owner != "")]


def _same_place(one: dict, other: dict) -> bool:
    return all(one.get(field, "").casefold() == other.get(field, "").casefold() for field in PLACE)


def addresses_remember(*, owner: str, email: str, destinations: list[dict], user=None) -> list[dict]:
    """Return `destinations` (checked ones, see orders.checkout_sessions.clean_destination) with ids, and save
    the new ones with a street in the buyer's book for `owner` (for a linked shopper `user`: nowhere).

    A destination keeps the id it was sent with; one without an id takes the id of a stored address of the
    same place (street, city, region, postal code, country), else a new id.
    """
    stored = addresses_for(owner=owner, email=email, user=user)
    result = []
    for destination in destinations:
        if not destination["id"]:
            match = next((address for address in stored if _same_place(address, destination)), None)
            destination = {**destination, "id": match["id"] if match else f"addr_{secrets.token_hex(6)}"}
        result.append(destination)
        known = any(address["id"] == destination["id"] for address in stored)
        if user is None and email and destination["street"] and not known:
            _save(owner=owner, email=email, destination=destination)
            stored.append(destination)
    return result


def _save(*, owner: str, email: str, destination: dict) -> None:
    buyer, _created = Buyer.objects.get_or_create(email=email.lower())
    try:
        with transaction.atomic():
            BuyerAddress.objects.create(
                buyer=buyer,
                owner=owner,
                address_id=destination["id"],
                **{field: destination[field] for field in ("name", "phone", *PLACE)},
            )
    except IntegrityError:
        pass  # the same agent saved this id meanwhile (a concurrent request): it is in the book
