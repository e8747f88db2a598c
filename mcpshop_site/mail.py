"""Email: a subject, a text body and an HTML body rendered from templates in the recipient's language, sent by
a job on the queue (django-tasks), never by the web request, and retried with backoff while the mail server
fails. A message that still fails after EMAIL_MAX_ATTEMPTS is logged as lost: what queued it (an order, a
password reset) has long succeeded and is never undone by its email.

A template name `x/y` stands for three files: `x/y_subject.txt`, `x/y.txt` and `x/y.html` (simple HTML,
styles inline, no images or scripts: mail clients strip the rest).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django_tasks import task
from django_tasks.base import Task

logger = logging.getLogger(__name__)

DEVELOPMENT_BASE_URL = "http://127.0.0.1:8000"


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


def email_deliver(message: EmailMultiAlternatives, *, attempt: int, retry: Task, **arguments) -> bool:
    """Send `message` and return True, or False when the mail server failed.

    A failure queues `retry(attempt=attempt + 1, **arguments)` to run after EMAIL_RETRY_SECONDS, doubled
    at each attempt; the last of EMAIL_MAX_ATTEMPTS logs an error and gives up. Errors that are not the
    mail server's (a template's, a bug) propagate: the job fails and shows in the tasks admin.
    """
    try:
        message.send()
    except OSError as error:  # smtplib's errors, refused and timed-out connections are all OSErrors
        recipient = _masked(message.to[0])
        if attempt >= settings.EMAIL_MAX_ATTEMPTS:
            logger.error(
                "Email %r to %s not sent after %d attempts, given up: %s", message.subject, recipient, attempt, error
            )
            return False
        delay = settings.EMAIL_RETRY_SECONDS * 2 ** (attempt - 1)
        logger.warning(
            "Email %r to %s failed (attempt %d), retried in %gs: %s", message.subject, recipient, attempt, delay, error
        )
        retry.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(attempt=attempt + 1, **arguments)
        return False
    return True


def _masked(address: str) -> str:
    """Return an address fit for a log line: its first letter and its domain."""
    local, _at, domain = address.partition("@")
    return f"{local[:1]}…@{domain}"


@task()
def email_send(*, to: str, template: str, context: dict, language: str, attempt: int = 1) -> bool:
    """Render and send one email (the job that `email_queue` queues); return whether it went."""
    message = email_message(template=template, context=context, to=to, language=language)
    return email_deliver(
        message, attempt=attempt, retry=email_send, to=to, template=template, context=context, language=language
    )


def email_queue(*, to: str, template: str, context: dict, language: str) -> None:
    """Queue an email to `to`, rendered from `template` with `context` (JSON: it is stored with the job) in
    `language`. Inside a transaction the job commits, or rolls back, with it."""
    email_send.enqueue(to=to, template=template, context=context, language=language)
