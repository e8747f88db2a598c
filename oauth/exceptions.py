from django.utils.translation import gettext_lazy as _

from mcpshop_site.exceptions import NotFound


class ConnectedAppNotFound(NotFound):
    code = "connected_app_not_found"
    default_message = _("No such connected app.")
