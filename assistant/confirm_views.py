"""The shop page where a shopper confirms (or turns down) what an MCP client prepared for them.

`place_order` and `cancel_order` over MCP answer with a link here, and so do the checkout bindings'
complete tools (their session's `continue_url`): confirming places the session's order, paid then on
its page. Only the owner, signed in to the shop, sees the summary and can press Confirm: the session
proves who clicks, so a client holding an MCP token cannot confirm on the shopper's behalf.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from assistant.exceptions import ConfirmationNotFound
from assistant.models import PendingConfirmation
from assistant.selectors import confirmation_checkout_session, confirmation_get_for_user
from assistant.services import confirmation_decline, confirmation_redeem
from mcpshop_site.exceptions import ShopError


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, confirmation_id):
    """Show a prepared order or cancellation; on POST, carry it out or turn it down."""
    try:
        confirmation = confirmation_get_for_user(user=request.user, confirmation_id=confirmation_id)
    except ConfirmationNotFound:
        raise Http404(_("No such confirmation.")) from None
    if request.method == "POST":
        decision = request.POST.get("decision")
        try:
            if decision == "confirm":
                order = confirmation_redeem(user=request.user, confirmation_id=confirmation.public_id)
                if confirmation.action == PendingConfirmation.Action.CANCEL_ORDER:
                    messages.success(request, _("Order #%(number)s is cancelled.") % {"number": order.number})
                else:
                    messages.success(request, _("Order #%(number)s is placed.") % {"number": order.number})
                return redirect(order.get_absolute_url())
            if decision == "decline":
                confirmation_decline(user=request.user, confirmation_id=confirmation.public_id)
                messages.info(request, _("Done: nothing was changed."))
        except ShopError as error:
            messages.error(request, error.message)
        return redirect(request.path)
    context = {
        "confirmation": confirmation,
        "summary": confirmation.summary,
        "checkout": confirmation_checkout_session(confirmation),
    }
    return render(request, "assistant/confirm.html", context)
