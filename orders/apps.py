from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from catalog.cache import catalog_changed
        from orders.models import Promotion

        # Promotions are part of what shoppers are charged: a change starts a new catalog version, which drops
        # the cached live promotions (orders.offers.live_promotions) in every process.
        post_save.connect(catalog_changed, sender=Promotion, dispatch_uid="orders.promotion.saved")
        post_delete.connect(catalog_changed, sender=Promotion, dispatch_uid="orders.promotion.deleted")
        products = Promotion.products.through
        m2m_changed.connect(catalog_changed, sender=products, dispatch_uid="orders.promotion.products")
