"""Order jobs, run by `manage.py db_worker` (django-tasks with the database backend)."""

from django_tasks import task


@task()
def order_expire_at_deadline(order_id: int) -> bool:
    """Expire an order left unpaid at its deadline (queued with the order, in its transaction)."""
    from orders.services import order_expire  # orders.services queues this task: import at run time

    return order_expire(order_id=order_id)
