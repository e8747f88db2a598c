from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "mcpshop_site.jobs"
    label = "jobs"
    verbose_name = _("Jobs")

    def ready(self):
        from mcpshop_site.jobs import retries

        retries.connect()
