"""The emails of an order's events: placed (with the payment deadline), paid (the receipt), shipped, cancelled
(with the refund) and expired, written to the shopper in the order's language.

Each event's service calls `order_email` inside its own transaction: the job row commits with the event, or
rolls back with it, and is never lost to a process that dies after the commit (as an on-commit callback would
be). The job renders the email when it runs and records it in `OrderEmail`, one row per order and event: a
job run again after its email went out sends nothing. (A worker killed in the moment between the mail
server's acceptance and that row would send it again when its job is run again: at least once, not twice
by design.) A mail server failure is retried (`mcpshop_site.mail.EMAIL_RETRIES`); the order itself never
waits for, nor fails with, its email.
"""

import logging

from django.db.models import Prefetch
from django.utils import translation
from django_tasks import TaskContext, task

from mcpshop_site.jobs.retries import retrying
from mcpshop_site.mail import EMAIL_RETRIES, email_deliver, email_message, shop_link
from orders.models import Order, OrderEmail, OrderItem

logger = logging.getLogger(__name__)


def order_email(*, order: Order, event: str) -> None:
    """Queue the email of `event` (an `OrderEmail.Event`) for `order`, in the caller's transaction."""
    order_email_send.enqueue(order_id=order.pk, event=event)


def order_email_context(order: Order) -> dict:
    """Return what an order's emails show: the order, its lines, discounts, payment and links (names in the
    active language)."""
    return {
        "order": order,
        "items": list(order.items.all()),
        "discounts": order.display_discounts,
        "payment": order.payments.last(),
        "order_url": shop_link(order.get_absolute_url()),
        "shop_url": shop_link("/"),
    }


@retrying(**EMAIL_RETRIES)
@task(takes_context=True)
def order_email_send(context: TaskContext, *, order_id: int, event: str) -> bool:
    """Send the email of one order event unless it was sent already; return whether it went now."""
    if OrderEmail.objects.filter(order_id=order_id, event=event).exists():
        return False
    order = (
        Order.objects.select_related("user", "shipping_method")
        .prefetch_related(Prefetch("items", OrderItem.objects.order_by("id")))
        .get(pk=order_id)
    )
    if not order.contact_email:
        logger.warning("Order %s: no email address for its %s email", order.number, event)
        return False
    with translation.override(order.language):
        shown = order_email_context(order)
    message = email_message(
        template=f"orders/email/{event}", context=shown, to=order.contact_email, language=order.language
    )
    email_deliver(message, attempt=context.attempt)
    OrderEmail.objects.create(order=order, event=event)
    return True
