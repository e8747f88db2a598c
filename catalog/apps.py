from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _restore_search_triggers(sender, using="default", **kwargs):
    from django.db import connections

    from catalog.search.schema import ensure_sqlite

    if connections[using].vendor == "sqlite":
        ensure_sqlite(connections[using])


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = _("Catalog")

    def ready(self):
        from catalog import cache
        from catalog.feeds import services as feeds
        from catalog.search import sync

        cache.connect()
        sync.connect()
        feeds.connect()
        post_migrate.connect(_restore_search_triggers, sender=self, dispatch_uid="catalog.search.triggers")
