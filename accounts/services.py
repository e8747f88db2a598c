from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from mcpshop_site.exceptions import Conflict, InvalidInput


@transaction.atomic
def user_register(*, username: str, email: str, password: str) -> User:
    """Create a shopper account after validating the username, email and password."""
    username, email = (username or "").strip(), (email or "").strip().lower()
    user = User(username=username, email=email)
    try:
        User._meta.get_field("username").run_validators(username)
        if not username:
            raise ValidationError(_("A username is required."))
    except ValidationError as error:
        raise InvalidInput(error.messages[0], field="username") from None
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(_("Enter a valid email address."), field="email") from None
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(_("This username is taken."), field="username")
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(_("An account with this email already exists."), field="email")
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise InvalidInput(" ".join(error.messages), field="password") from None
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise Conflict(_("This username or email is taken."), field="username") from None
    return user
