from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_safe

from mcpshop_site.response_cache import same_for_everyone
from policies.models import Policy
from policies.selectors import policy_get_published


@same_for_everyone
@require_safe
def policy_detail(request, kind):
    """A published policy page in the shopper's language; an unpublished or missing one is not found."""
    try:
        policy = policy_get_published(kind=kind)
    except Policy.DoesNotExist:
        raise Http404 from None
    return render(request, "policies/policy_detail.html", {"policy": policy})
