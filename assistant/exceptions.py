from django.utils.translation import gettext_lazy as _

from mcpshop_site.exceptions import Conflict, InvalidInput, NotFound, ShopError


class LoginRequired(ShopError):
    code = "login_required"
    status = 401
    default_message = _("Please sign in first: orders belong to an account.")


class ConversationNotFound(NotFound):
    code = "conversation_not_found"
    default_message = _("No such conversation.")


class AddressRequired(InvalidInput):
    code = "address_required"
    default_message = _("No delivery details yet: ask the shopper for the recipient's name, phone number and address.")


class InvalidToolArguments(InvalidInput):
    code = "invalid_arguments"
    default_message = _("The tool arguments are not valid.")


class UnknownTool(NotFound):
    code = "unknown_tool"
    default_message = _("There is no tool with this name.")


class ConversationBusy(Conflict):
    code = "busy"
    default_message = _("The assistant is still answering another message in this conversation. Please try again.")


class ConfirmationNotFound(NotFound):
    code = "confirmation_not_found"
    default_message = _("This confirmation is not valid.")


class ConfirmationUsed(Conflict):
    code = "confirmation_used"
    default_message = _("This confirmation was already used.")


class ConfirmationExpired(Conflict):
    code = "confirmation_expired"
    status = 410
    default_message = _("This confirmation has expired. Ask the assistant again.")


class CartChanged(Conflict):
    code = "cart_changed"
    default_message = _("Your cart changed after the summary. Please review it and ask again.")


class EmptyMessage(InvalidInput):
    code = "empty_message"
    default_message = _("Please type a message.")


class UnreadableMessage(InvalidInput):
    code = "unreadable_message"
    default_message = _("This message contains characters that cannot be read (NUL or broken Unicode).")


class MessageTooLong(InvalidInput):
    code = "message_too_long"
    status = 413
    default_message = _("This message is too long.")


class TooManyToolCalls(InvalidInput):
    code = "too_many_tool_calls"
    default_message = "Too many tool calls in one step: call fewer at a time."  # for the model, not translated


class InsufficientScope(ShopError):
    code = "insufficient_scope"
    status = 403


class RateLimited(ShopError):
    code = "rate_limited"
    status = 429
    default_message = _("Too many messages at once. Please wait a moment.")
