from django.db.models import Prefetch, QuerySet

from orders.exceptions import OrderNotFound
from orders.models import Order, OrderItem


def order_list_for_user(*, user) -> QuerySet[Order]:
    """Return the user's orders, newest first, with their items prefetched."""
    return Order.objects.filter(user=user).prefetch_related(Prefetch("items", OrderItem.objects.order_by("id")))


def order_get_for_user(*, user, order_id) -> Order:
    """Return one of the user's orders; someone else's order is exactly as missing as a wrong id."""
    try:
        order_id = int(order_id)
        if not 0 < order_id < 2**63:
            raise ValueError
        return order_list_for_user(user=user).get(pk=order_id)
    except (Order.DoesNotExist, TypeError, ValueError):
        raise OrderNotFound(id=str(order_id)[:32]) from None


def order_last_address(*, user) -> dict | None:
    """Return the contact details of the user's latest order, to prefill the next checkout."""
    return Order.objects.filter(user=user).order_by("-created_at", "-id").values("name", "phone", "address").first()
