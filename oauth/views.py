"""The shopper's side of OAuth: the consent page, and disconnecting an app from the account page."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from oauth2_provider.views import AuthorizationView

from mcpshop_site.middleware import allow_form_redirect
from oauth.exceptions import ConnectedAppNotFound
from oauth.scopes import scope_descriptions
from oauth.selectors import redirect_hosts
from oauth.services import connected_app_revoke


class ConsentView(AuthorizationView):
    """/oauth/authorize/: a signed-in shopper (anyone else signs in first and comes back) sees which app asks,
    where it will send them back, and what it may do in plain words; Allow issues the code, Deny sends the
    app `access_denied`. The form is CSRF-protected like every other form of the shop."""

    template_name = "oauth/authorize.html"

    def get(self, request, *args, **kwargs):
        # The shopper is asked every time (REQUEST_APPROVAL_PROMPT "force"): a client's own approval_prompt=auto,
        # which would skip the page while a token with those scopes is live, is not obeyed.
        if "approval_prompt" in request.GET:
            request.GET = request.GET.copy()
            del request.GET["approval_prompt"]
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        application = context.get("application")
        if application is not None:
            descriptions = scope_descriptions()
            context["scope_lines"] = [descriptions[scope] for scope in context.get("scopes", [])]
            context["redirect_host"] = urlsplit(context.get("redirect_uri") or "").netloc
            context["client_hosts"] = redirect_hosts(application)
            context["client_id_is_url"] = application.client_id.startswith("https://")
        return context

    def render_to_response(self, context, **response_kwargs):
        """The consent page's Allow and Deny are answered with a redirect to the app: its origin joins the
        page's `form-action`, which browsers also apply to a form's redirect."""
        response = super().render_to_response(context, **response_kwargs)
        if context.get("application") is not None and context.get("redirect_uri"):
            allow_form_redirect(response, context["redirect_uri"])
        return response


@login_required
@require_POST
def connected_app_revoke_view(request, application_id):
    """Disconnect one of the shopper's connected apps; its tokens stop working at once."""
    try:
        connected_app_revoke(user=request.user, application_id=application_id)
    except ConnectedAppNotFound:
        raise Http404(_("No such connected app.")) from None
    messages.success(request, _("The app is disconnected: it can no longer act for you."))
    return redirect("accounts:account")
