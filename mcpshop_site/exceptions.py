"""The one error hierarchy of the shop.

Services raise `ShopError` subclasses; each transport renders them once: a JSON error for the API,
a flash message on pages, a tool error for the assistant and MCP, an error event on the WebSocket.
"""

from django.utils.translation import gettext_lazy as _


def error_body(code: str, message, details=None) -> dict:
    """Return the shop's one JSON error body, for every door: {"error": {"code", "message", "details"}}."""
    return {"error": {"code": code, "message": str(message), "details": details or {}}}


class ShopError(Exception):
    """A failure the caller can act on, with a stable `code` and an HTTP status."""

    code = "shop_error"
    status = 400
    default_message = _("The request could not be completed.")

    def __init__(self, message=None, **details):
        self.message = str(message or self.default_message)
        self.details = details
        super().__init__(self.message)

    def as_dict(self) -> dict:
        """Return the error as the shop's JSON error body (the API, tool results, MCP)."""
        return error_body(self.code, self.message, self.details)

    def as_event(self) -> dict:
        """Return the error as the chat's `error` event, with its HTTP status (and when to retry, if known)."""
        event = {"type": "error", "code": self.code, "message": self.message, "status": self.status}
        if "retry_after" in self.details:
            event["retry_after"] = self.details["retry_after"]
        return event


class InvalidInput(ShopError):
    code = "invalid"
    default_message = _("Some of the input is not valid.")


class NotFound(ShopError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class Conflict(ShopError):
    code = "conflict"
    status = 409
    default_message = _("The request conflicts with the current state.")


class RequestTooLarge(ShopError):
    """A request body over its path's limit (mcpshop_site/handlers.py, DATA_UPLOAD_MAX_MEMORY_SIZE)."""

    code = "request_too_large"
    status = 413
    default_message = _("The request body is too large.")


class ServiceUnavailable(ShopError):
    """The database cannot be reached (down, restarting): temporary, worth retrying."""

    code = "service_unavailable"
    status = 503
    default_message = _("The shop is briefly unavailable. Please try again in a moment.")


class InternalError(ShopError):
    """A bug: the caller learns that something failed, the details stay in the log."""

    code = "internal_error"
    status = 500
    default_message = _("Something went wrong. Please try again.")
