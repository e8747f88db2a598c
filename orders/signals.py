"""Signals of the orders app, for doors that tell outsiders about an order (ACP's order webhooks)."""

from django.dispatch import Signal

# Sent at the end of the services that change a placed order (cancel, cancel a line, mark shipped, mark
# delivered), inside their transaction and with `order` read afresh (refunds included): receivers that
# queue a job with the change commit or roll back with it.
order_changed = Signal()
