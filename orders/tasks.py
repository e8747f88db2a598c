"""Order jobs, run by the job queue's workers (`manage.py run_worker`)."""

from django_tasks import task

from mcpshop_site.jobs.retries import retrying


@retrying(attempts=5, backoff=10)
@task()
def order_expire_at_deadline(order_id: int) -> bool:
    """Expire an order left unpaid at its deadline (queued with the order, in its transaction)."""
    from orders.services import order_expire  # orders.services queues this task: import at run time

    return order_expire(order_id=order_id)
