"""ACP's flat error object (`{"type", "code", "message", "param"?}`) and the HTTP status it goes with."""

from django.http import JsonResponse


class AcpError(Exception):
    """A request ACP refuses: rendered as the spec's Error schema, never the shop's envelope."""

    def __init__(self, status: int, code: str, message, *, param: str = "", type_: str = "invalid_request", **extra):
        self.status = status
        self.code = code
        self.message = str(message)
        self.param = param
        self.type = type_
        self.extra = extra  # e.g. supported_versions; headers go in `headers`
        self.headers: dict[str, str] = {}
        super().__init__(self.message)

    def as_dict(self) -> dict:
        body = {"type": self.type, "code": self.code, "message": self.message}
        if self.param:
            body["param"] = self.param
        body.update(self.extra)
        return body

    def response(self) -> JsonResponse:
        response = JsonResponse(self.as_dict(), status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response
