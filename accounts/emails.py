"""The password reset email, found and sent by jobs: the request only queues `password_reset_email_send` with
the address typed, and the job finds the accounts that use it and queues each its link's email. The request
then costs the same whether an account uses the address or not: looking the account up, making its token
and queuing its email in the request made a known address answer about 1 ms later than an unknown one, which
told anyone patient whose address has an account."""

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tasks import task

from mcpshop_site.mail import email_queue, shop_link


@task
def password_reset_email_send(*, email: str, base_url: str, language: str) -> int:
    """Queue a reset link's email, in `language`, to every active account with a usable password that uses
    `email` (Django's rule: PasswordResetForm.get_users); return how many. Links point under `base_url`
    (the shop's address as the request saw it) unless SHOP_BASE_URL is set."""
    users = list(PasswordResetForm().get_users(email))
    for user in users:
        uid, token = urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)
        path = reverse("accounts:password_reset_confirm", kwargs={"uidb64": uid, "token": token})
        email_queue(
            to=getattr(user, user.get_email_field_name()),
            template="accounts/email/password_reset",
            context={
                "username": user.get_username(),
                "reset_url": shop_link(path, base_url=base_url),
                "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
            },
            language=language,
        )
    return len(users)
