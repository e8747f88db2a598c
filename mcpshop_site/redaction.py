"""Keep credentials out of logs and error reports.

`redact()` masks what a log line or an error report must never show: bearer credentials, JWTs,
MCP tokens (`mcps_…`), API keys (`sk-…`) and the values of password, token, key and secret fields.
`RedactSecretsFilter` applies it to every record a handler writes (message, arguments, traceback);
`SafeExceptionReporterFilter` and `ExceptionReporter` apply it to the request Django reports on a server
error (the error page, admin e-mails: headers, address, query, form fields), and hide secret-looking
form fields even on views that did not mark them sensitive.
"""

import logging
import re

from django.views import debug

MASK = "[redacted]"

_SECRET_NAMES = r"(?:password\d?|passwd|secret|token|access(?:_token)?|refresh|idempotency[-_]key|api[-_]?key)"  # noqa: S105  (names, not a secret)
_PATTERNS = [
    # Authorization: Bearer <credential> (and Basic), in headers and reprs.
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1\2{MASK}"),
    # JSON Web Tokens: three base64url parts, the first one a JSON object ("eyJ").
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), MASK),
    # The shop's MCP tokens (not the 12-character prefix shown to tell them apart) and OpenAI-style API keys.
    (re.compile(r"\bmcps_[A-Za-z0-9_-]{9,}"), MASK),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{12,}"), MASK),
    # name=value, name: value, "name": "value" for secret-looking names (form bodies, query strings, JSON).
    (
        re.compile(rf"""(?i)(["']?\b[\w-]*{_SECRET_NAMES}["']?\s*[:=]\s*["']?)([^"'\s,&;}}]+)"""),
        rf"\1{MASK}",
    ),
]


def redact(text: str) -> str:
    """Return `text` with credentials and secret field values replaced by [redacted]."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Mask credentials in a record's final message and traceback before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class SafeExceptionReporterFilter(debug.SafeExceptionReporterFilter):
    """Django's filter, plus: any secret-looking POST field is hidden and every value is redacted."""

    def cleanse_setting(self, key, value):
        cleansed = super().cleanse_setting(key, value)
        return redact(cleansed) if isinstance(cleansed, str) else cleansed

    def get_post_parameters(self, request):
        parameters = super().get_post_parameters(request)
        if request is None or not self.is_active(request):
            return parameters
        cleansed = parameters.copy()
        for key in cleansed:
            if self.hidden_settings.search(key) or re.fullmatch(_SECRET_NAMES, key, flags=re.I):
                cleansed[key] = self.cleansed_substitute
        return cleansed


class ExceptionReporter(debug.ExceptionReporter):
    """Django's report, with the exception text, frame variables, address and query redacted too."""

    def get_traceback_data(self):
        data = super().get_traceback_data()
        if "exception_value" in data:
            data["exception_value"] = redact(data["exception_value"])
        for frame in data.get("frames", []):
            frame["vars"] = [(k, self.filter.cleanse_setting(k, v)) for k, v in frame.get("vars", [])]
        if "request_insecure_uri" in data:
            data["request_insecure_uri"] = redact(data["request_insecure_uri"])
        if "request_GET_items" in data:
            data["request_GET_items"] = [(k, self.filter.cleanse_setting(k, v)) for k, v in data["request_GET_items"]]
        return data
