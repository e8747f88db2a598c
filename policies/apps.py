from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PoliciesConfig(AppConfig):
    name = "policies"
    verbose_name = _("Shop policies")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from catalog.cache import catalog_changed
        from policies.models import Policy

        # Every page's footer lists the published pages, and cached pages (mcpshop_site/response_cache.py)
        # and the list itself (selectors.policy_list_published) are keyed by the catalog's version: a saved or
        # deleted page starts a new one, so the next request shows it. The product feeds' lines, which list the
        # published pages too, are refreshed on the same signals (catalog.feeds.services.connect).
        for name, signal in (("saved", post_save), ("deleted", post_delete)):
            signal.connect(catalog_changed, sender=Policy, dispatch_uid=f"policies.Policy.{name}")
