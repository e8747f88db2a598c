import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cart.exceptions import EmptyCart
from cart.selectors import cart_items
from cart.shoppers import shopper_for_request
from mcpshop_site.exceptions import ShopError
from orders.exceptions import IdempotencyConflict, OrderNotFound
from orders.forms import CheckoutForm
from orders.payments import get_provider
from orders.selectors import order_get_for_user, order_last_address, order_list_for_user
from orders.services import order_cancel_for_user, order_pay, order_place, payment_event_apply

PAGE_SIZE = 20


def _new_key() -> str:
    return secrets.token_urlsafe(24)


@login_required
def order_list(request):
    """The shopper's orders, newest first."""
    page = Paginator(order_list_for_user(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "orders/order_list.html", {"page": page})


@login_required
def order_detail(request, order_id):
    """One of the shopper's orders; anyone else's is a 404."""
    try:
        order = order_get_for_user(user=request.user, order_id=order_id)
    except OrderNotFound:
        raise Http404 from None
    test_payments = settings.PAYMENT_PROVIDER == "test"
    return render(request, "orders/order_detail.html", {"order": order, "test_payments": test_payments})


@login_required
def checkout(request):
    """Contact form and order summary; posting it turns the cart into an order, once per form."""
    items = cart_items(shopper=shopper_for_request(request))
    if request.method == "POST":
        form = CheckoutForm(request.POST)
        if form.is_valid():
            try:
                order = order_place(user=request.user, **form.cleaned_data)
            except EmptyCart as error:
                messages.error(request, error.message)
                return redirect("cart:detail")
            except IdempotencyConflict:
                # The page was submitted before, for another cart: show a fresh form to review.
                messages.error(request, _("This form was already used for an order. Please check and submit again."))
                form = CheckoutForm(initial={**form.cleaned_data, "idempotency_key": _new_key()})
            except ShopError as error:
                messages.error(request, error.message)
            else:
                if order.replayed:
                    messages.info(request, _("This order was already placed."))
                else:
                    messages.success(
                        request, _("Thank you! Your order #%(number)s is placed.") % {"number": order.number}
                    )
                return redirect(order)
    elif not items:
        messages.info(request, _("Your cart is empty."))
        return redirect("cart:detail")
    else:
        initial = order_last_address(user=request.user) or {"name": request.user.get_full_name()}
        form = CheckoutForm(initial={**initial, "idempotency_key": _new_key()})
    return render(
        request,
        "orders/checkout.html",
        {"form": form, "items": items, "total_cents": sum(item.line_total_cents for item in items)},
    )


def _order_action(request, order_id, action, done_message):
    try:
        order = action(user=request.user, order_id=order_id)
    except OrderNotFound:
        raise Http404 from None
    except ShopError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done_message % {"number": order.number})
    return redirect("orders:detail", order_id=order_id)


@login_required
@require_POST
def cancel(request, order_id):
    """Cancel a pending or paid order; its stock goes back on the shelf and a payment is refunded."""
    return _order_action(request, order_id, order_cancel_for_user, _("Order #%(number)s is cancelled."))


@login_required
@require_POST
def pay(request, order_id):
    """Pay a pending order: at once with the test provider, else on the provider's page (Stripe Checkout)."""
    return_url = request.build_absolute_uri(reverse("orders:detail", kwargs={"order_id": order_id}))
    try:
        order = order_pay(user=request.user, order_id=order_id, return_url=return_url)
    except OrderNotFound:
        raise Http404 from None
    except ShopError as error:
        messages.error(request, error.message)
        return redirect("orders:detail", order_id=order_id)
    if order.payment_redirect_url:
        return redirect(order.payment_redirect_url)
    messages.success(request, _("Order #%(number)s is paid. Thank you!") % {"number": order.number})
    return redirect("orders:detail", order_id=order_id)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Stripe's notifications: applied once each when their signature checks out, else 400."""
    provider = get_provider("stripe")
    try:
        event = provider.parse_event(payload=request.body, signature=request.headers.get("Stripe-Signature", ""))
        payment_event_apply(provider=provider.name, event=event)
    except ShopError as error:
        return JsonResponse(error.as_dict(), status=error.status)
    return JsonResponse({"received": True})
