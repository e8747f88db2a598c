from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = _("Agent platforms")

    def ready(self):
        from agents.acp.orders import on_order_changed
        from orders.signals import order_changed

        order_changed.connect(on_order_changed, dispatch_uid="acp-order-events")
