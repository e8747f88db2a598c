"""Email: a subject, a text body and an HTML body rendered from templates in the recipient's language, sent by
a job on the queue (django-tasks), never by the web request, and retried with backoff while the mail server
fails. A message that still fails after EMAIL_MAX_ATTEMPTS is logged as lost: what queued it (an order, a
password reset) has long succeeded and is never undone by its email.

A template name `x/y` stands for three files: `x/y_subject.txt`, `x/y.txt` and `x/y.html` (simple HTML,
styles inline, no images or scripts: mail clients strip the rest).
"""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django_tasks import TaskContext, task

from mcpshop_site.jobs.retries import retrying

logger = logging.getLogger(__name__)

DEVELOPMENT_BASE_URL = "http://127.0.0.1:8000"
# The retry policy of every job that sends email (mcpshop_site/jobs/retries.py): mail server failures only,
# waiting EMAIL_RETRY_SECONDS, then twice that, and so on.
EMAIL_RETRIES = {"attempts": settings.EMAIL_MAX_ATTEMPTS, "backoff": settings.EMAIL_RETRY_SECONDS, "on": (OSError,)}


def shop_link(path: str, *, base_url: str = "") -> str:
    """Return the absolute address of `path` for a message: under SHOP_BASE_URL, else `base_url` (the
    request's own address, when a request queued the message), else the development server's."""
    base = settings.SHOP_BASE_URL or base_url or DEVELOPMENT_BASE_URL
    return base.rstrip("/") + path


def email_message(*, template: str, context: dict, to: str, language: str) -> EmailMultiAlternatives:
    """Return the email `template` names, rendered in `language` for `to`, as text with an HTML alternative."""
    with translation.override(language):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", {**context, "subject": subject})
    message = EmailMultiAlternatives(subject, text, to=[to])
    message.attach_alternative(html, "text/html")
    return message


def email_deliver(message: EmailMultiAlternatives, *, attempt: int) -> None:
    """Send `message` on the job's `attempt` (1 for the first).

    A mail server failure propagates, for the job's EMAIL_RETRIES policy to run it again later; the last
    attempt's is logged as an email lost first. Errors that are not the mail server's (a template's, a bug)
    are not retried: the job fails at once and shows in the tasks admin.
    """
    try:
        message.send()
    except OSError as error:  # smtplib's errors, refused and timed-out connections are all OSErrors
        if attempt >= EMAIL_RETRIES["attempts"]:
            recipient = _masked(message.to[0])
            logger.error(
                "Email %r to %s not sent after %d attempts, given up: %s", message.subject, recipient, attempt, error
            )
        raise


def _masked(address: str) -> str:
    """Return an address fit for a log line: its first letter and its domain."""
    local, _at, domain = address.partition("@")
    return f"{local[:1]}…@{domain}"


@retrying(**EMAIL_RETRIES)
@task(takes_context=True)
def email_send(context: TaskContext, *, to: str, template: str, data: dict, language: str) -> None:
    """Render and send one email (the job that `email_queue` queues)."""
    email_deliver(email_message(template=template, context=data, to=to, language=language), attempt=context.attempt)


def email_queue(*, to: str, template: str, context: dict, language: str) -> None:
    """Queue an email to `to`, rendered from `template` with `context` (JSON: it is stored with the job) in
    `language`. Inside a transaction the job commits, or rolls back, with it."""
    email_send.enqueue(to=to, template=template, data=context, language=language)
