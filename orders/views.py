import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.addresses import address_create
from accounts.exceptions import AddressNotFound
from accounts.selectors import address_list_for_user
from cart.exceptions import EmptyCart
from cart.selectors import cart_items, cart_quote
from cart.shoppers import shopper_for_request
from mcpshop_site.countries import COUNTRY_CODES, country_name
from mcpshop_site.exceptions import ShopError
from orders.exceptions import IdempotencyConflict, OrderNotFound, ShippingUnavailable
from orders.forms import NEW_ADDRESS, CheckoutForm
from orders.payments import get_provider
from orders.selectors import order_find_for_user, order_last_address, order_list_for_user
from orders.services import order_cancel_for_user, order_pay, order_place, payment_event_apply

PAGE_SIZE = 20


def _new_key() -> str:
    return secrets.token_urlsafe(24)


@login_required
@require_safe
def order_list(request):
    """The shopper's orders, newest first."""
    page = Paginator(order_list_for_user(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "orders/order_list.html", {"page": page})


@login_required
@require_safe
def order_detail(request, number):
    """One of the shopper's orders, by its number; anyone else's is a 404."""
    order = _own_order(request, number)
    test_payments = settings.PAYMENT_PROVIDER == "test"
    return render(request, "orders/order_detail.html", {"order": order, "test_payments": test_payments})


# Service errors about a typed address name its field as the address book does; the form calls the recipient "name".
_FORM_FIELDS = {"recipient": "name", "address": "street"}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def checkout(request):
    """Where to deliver, how to ship, and every money line; posting it turns the cart into an order, once per form.

    "Update shipping and totals" (action=refresh) shows the page again for the destination typed or chosen,
    with no order placed: the page works without JavaScript.
    """
    if request.method == "POST" and request.POST.get("action") != "refresh":
        form = CheckoutForm(request.POST)
        if form.is_valid():
            try:
                order = _place(request, form)
            except EmptyCart as error:
                messages.error(request, error.message)
                return redirect("cart:detail")
            except IdempotencyConflict:
                # The page was submitted before, for another cart: show a fresh form to review.
                messages.error(request, _("This form was already used for an order. Please check and submit again."))
                form = CheckoutForm(initial={**form.cleaned_data, "idempotency_key": _new_key()})
            except ShopError as error:
                field = _FORM_FIELDS.get(error.details.get("field"), error.details.get("field"))
                if field in form.fields and not isinstance(error, AddressNotFound):
                    form.add_error(field, error.message)
                else:
                    messages.error(request, error.message)
            else:
                if order.replayed:
                    messages.info(request, _("This order was already placed."))
                else:
                    messages.success(
                        request, _("Thank you! Your order #%(number)s is placed.") % {"number": order.number}
                    )
                return redirect(order)
    elif request.method == "POST":
        form = CheckoutForm(initial=request.POST.dict())
    else:
        last = order_last_address(user=request.user) or {"name": request.user.get_full_name()}
        form = CheckoutForm(
            initial={"name": last["name"], "phone": last.get("phone", ""), "idempotency_key": _new_key()}
        )
    return _checkout_page(request, form)


def _place(request, form: CheckoutForm):
    """Place the order the form describes; a typed address is saved to the address book if asked."""
    data = form.cleaned_data
    common = {"shipping_option": data["shipping_option"], "idempotency_key": data["idempotency_key"]}
    saved = form.saved_address_id()
    if saved is not None:
        return order_place(user=request.user, address_id=saved, **common)
    order = order_place(
        user=request.user, name=data["name"], phone=data["phone"], address=form.typed_address(), **common
    )
    if data["save_address"] and not order.replayed:
        try:
            address_create(user=request.user, recipient=order.name, phone=order.phone, **form.typed_address())
        except ShopError as error:
            messages.warning(request, error.message)
    return order


def _checkout_page(request, form: CheckoutForm):
    """Render the checkout for the form's destination: the saved addresses, the shipping options there
    and the cart priced with them (the one pricing service, as the order will be)."""
    items = cart_items(shopper=shopper_for_request(request))
    if not items:
        messages.info(request, _("Your cart is empty."))
        return redirect("cart:detail")
    addresses = list(address_list_for_user(user=request.user))
    choice = form["address_choice"].value() or (str(addresses[0].pk) if addresses else NEW_ADDRESS)
    chosen = next((address for address in addresses if str(address.pk) == choice), None)
    if chosen is None:
        choice = NEW_ADDRESS
        country, region = form["country"].value() or settings.SHOP_COUNTRY, form["region"].value() or ""
    else:
        country, region = chosen.country, chosen.region
    priced = _quote(items, user=request.user, country=country, region=region, wanted=form["shipping_option"].value())
    context = {
        "form": form,
        "items": items,
        "quote": priced,
        "addresses": addresses,
        "address_choice": choice,
        "destination": country_name(country) if country in COUNTRY_CODES else country,
    }
    return render(request, "orders/checkout.html", context)


def _quote(items, *, user, country: str, region: str, wanted):
    """Price the cart to a destination with the shipping option asked for, or the cheapest if it is not offered."""
    if country not in COUNTRY_CODES:
        country = settings.SHOP_COUNTRY
    try:
        return cart_quote(items, user=user, country=country, region=region, shipping_option=int(wanted))
    except (TypeError, ValueError, ShippingUnavailable):
        return cart_quote(items, user=user, country=country, region=region)


def _own_order(request, number):
    """Return the shopper's order with this number (or id); anyone else's is a 404."""
    try:
        return order_find_for_user(user=request.user, reference=number)
    except OrderNotFound:
        raise Http404 from None


def _order_action(request, number, action, done_message):
    order = _own_order(request, number)
    try:
        order = action(user=request.user, order_id=order.pk)
    except OrderNotFound:
        raise Http404 from None
    except ShopError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done_message % {"number": order.number})
    return redirect(order)


@login_required
@require_POST
def cancel(request, number):
    """Cancel a pending or paid order; its stock goes back on the shelf and a payment is refunded."""
    return _order_action(request, number, order_cancel_for_user, _("Order #%(number)s is cancelled."))


@login_required
@require_POST
def pay(request, number):
    """Pay a pending order: at once with the test provider, else on the provider's page (Stripe Checkout)."""
    order = _own_order(request, number)
    return_url = request.build_absolute_uri(order.get_absolute_url())
    try:
        order = order_pay(user=request.user, order_id=order.pk, return_url=return_url)
    except OrderNotFound:
        raise Http404 from None
    except ShopError as error:
        messages.error(request, error.message)
        return redirect(order)
    if order.payment_redirect_url:
        return redirect(order.payment_redirect_url)
    messages.success(request, _("Order #%(number)s is paid. Thank you!") % {"number": order.number})
    return redirect(order)


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
