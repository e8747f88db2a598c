from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UcpConfig(AppConfig):
    name = "ucp"
    verbose_name = _("Universal Commerce Protocol")
