from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from cart.exceptions import InvalidQuantity
from cart.forms import CartAddForm, CartQuantityForm, DiscountCodeForm
from cart.models import Cart
from cart.selectors import cart_find, cart_items, cart_quote, cart_view
from cart.services import (
    cart_add,
    cart_clear,
    cart_discount_apply,
    cart_discount_remove,
    cart_remove_item,
    cart_set_quantity,
)
from cart.shoppers import shopper_for_request
from mcpshop_site.exceptions import InvalidInput, ShopError
from orders.models import normalize_code


def shopper_cart(request) -> Cart | None:
    """Return the shopper's cart (a signed-in user's, or the guest cart kept in the session), if any."""
    return cart_find(shopper=shopper_for_request(request))


def _next_url(request, default: str) -> str:
    url = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return default


def _wants_json(request) -> bool:
    """The add-to-cart script asks for JSON; a plain form post gets a redirect."""
    return request.headers.get("Accept", "").startswith("application/json")


def _form_error(form) -> ShopError:
    """Return the form's first problem as the error the cart service would have raised."""
    if "quantity" in form.errors:
        return InvalidQuantity()
    field, errors = next(iter(form.errors.items()))
    return InvalidInput(errors[0], field=field)


@require_safe
def detail(request):
    """The cart: its lines with quantities to change, discount codes, the money lines, and the way to checkout."""
    items = cart_items(shopper=shopper_for_request(request))
    return render(
        request,
        "cart/cart_detail.html",
        {
            "items": items,
            "quote": cart_quote(items),
            "discount_form": DiscountCodeForm(),
            "max_quantity": settings.SHOP_MAX_LINE_QUANTITY,
        },
    )


@require_POST
def add(request):
    """Add a product to the cart (also for guests), then go back where the shopper was."""
    form = CartAddForm(request.POST)
    back = _next_url(request, "cart:detail")
    as_json = _wants_json(request)
    try:
        if not form.is_valid():
            raise _form_error(form)
        shopper = shopper_for_request(request, create=True)
        item = cart_add(shopper=shopper, sku=form.cleaned_data["sku"], quantity=form.cleaned_data["quantity"])
    except ShopError as error:
        if as_json:
            return JsonResponse({"ok": False, **error.as_dict()}, status=error.status)
        messages.error(request, error.message)
        return redirect(back)
    message = _("Added %(quantity)d × %(name)s to your cart.") % {
        "quantity": form.cleaned_data["quantity"],
        "name": item.product.display_name,
    }
    if as_json:
        count = cart_view(cart_items(shopper=shopper))["count"]
        return JsonResponse({"ok": True, "message": message, "cart_count": count})
    messages.success(request, message)
    return redirect(back)


@require_POST
def update(request, item_id):
    """Set the quantity of one line."""
    form = CartQuantityForm(request.POST)
    try:
        if not form.is_valid():
            raise _form_error(form)
        item = cart_set_quantity(cart=shopper_cart(request), item_id=item_id, quantity=form.cleaned_data["quantity"])
    except ShopError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("%(name)s: quantity set to %(quantity)d.")
            % {"name": item.product.display_name, "quantity": item.quantity},
        )
    return redirect("cart:detail")


@require_POST
def remove(request, item_id):
    """Remove one line."""
    try:
        cart_remove_item(cart=shopper_cart(request), item_id=item_id)
    except ShopError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The item was removed from your cart."))
    return redirect("cart:detail")


@require_POST
def clear(request):
    """Empty the cart."""
    cart_clear(cart=shopper_cart(request))
    messages.success(request, _("Your cart is now empty."))
    return redirect("cart:detail")


@require_POST
def discount_apply(request):
    """Apply a discount code to the cart (also for guests); a code that does not apply says why."""
    form = DiscountCodeForm(request.POST)
    try:
        if not form.is_valid():
            raise _form_error(form)
        cart_discount_apply(shopper=shopper_for_request(request), code=form.cleaned_data["code"])
    except ShopError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("The code %(code)s is applied.") % {"code": normalize_code(form.cleaned_data["code"])}
        )
    return redirect("cart:detail")


@require_POST
def discount_remove(request, code):
    """Take a discount code off the cart."""
    try:
        cart_discount_remove(shopper=shopper_for_request(request), code=code)
    except ShopError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The code %(code)s is removed.") % {"code": normalize_code(code)})
    return redirect("cart:detail")
