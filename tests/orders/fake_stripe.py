"""A local fake of the few Stripe API endpoints the shop calls, and webhooks signed the way Stripe signs them.

The real `stripe` SDK talks to it over HTTP (STRIPE_API_BASE): Checkout Sessions, PaymentIntents
confirmed with agents' shared payment tokens, and Refunds are created and remembered, Idempotency-Key
replays answer the first result (as Stripe does), and `complete(session)` returns the signed
`checkout.session.completed` notification Stripe would send when the shopper pays. Nothing leaves the
machine.
"""

import hashlib
import hmac
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

WEBHOOK_SECRET = "whsec_test_" + "k3Jd" * 6
SECRET_KEY = "sk_test_" + "Qm8v" * 6


def _nest(pairs) -> dict:
    """Turn Stripe's form encoding (line_items[0][price_data][currency]=cny) into nested dicts and lists."""
    root: dict = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _listify(root)


def _listify(node):
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        return [_listify(node[key]) for key in sorted(node, key=int)]
    return {key: _listify(value) for key, value in node.items()}


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """Return the Stripe-Signature header Stripe sends with `payload`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class FakeStripe:
    """The fake API server: `url` for STRIPE_API_BASE; what it was asked is in `sessions` and `refunds`."""

    def __init__(self):
        self.sessions: dict[str, dict] = {}
        self.refunds: list[dict] = []
        self.intents: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        self.fail_refunds = False
        self._answers: dict[str, tuple[int, dict]] = {}  # by Idempotency-Key
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                authorized = self.headers.get("Authorization") == f"Bearer {SECRET_KEY}"
                status, answer = fake._answer(self.path, _nest(parse_qsl(body)), self.headers, authorized)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()

    def _answer(self, path, params, headers, authorized) -> tuple[int, dict]:
        if not authorized:
            return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}
        key = headers.get("Idempotency-Key")
        with self._lock:
            self.requests.append(("POST", path))
            if key and key in self._answers:
                return self._answers[key]
            if path == "/v1/checkout/sessions":
                answer = self._create_session(params)
            elif path == "/v1/payment_intents":
                answer = self._create_payment_intent(params)
            elif path.startswith("/v1/payment_intents/") and path.endswith("/cancel"):
                answer = self._cancel_payment_intent(path.split("/")[3])
            elif path == "/v1/refunds" and self.fail_refunds:
                answer = 400, {"error": {"type": "invalid_request_error", "message": "This PaymentIntent is disputed."}}
            elif path == "/v1/refunds":
                answer = self._create_refund(params)
            else:
                answer = 404, {"error": {"type": "invalid_request_error", "message": f"Unrecognized {path}"}}
            if key and answer[0] < 400:  # Stripe does not save a request it refused before acting on it
                self._answers[key] = answer
            return answer

    def _create_session(self, params) -> tuple[int, dict]:
        session_id = f"cs_test_{secrets.token_hex(12)}"
        amount = sum(int(line["price_data"]["unit_amount"]) * int(line["quantity"]) for line in params["line_items"])
        session = {
            "id": session_id,
            "object": "checkout.session",
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            "mode": params["mode"],
            "amount_total": amount,
            "currency": params["line_items"][0]["price_data"]["currency"],
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata", {}),
            "payment_method_types": params.get("payment_method_types", []),
            "success_url": params.get("success_url"),
            "cancel_url": params.get("cancel_url"),
            "expires_at": int(params["expires_at"]),
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "params": params,
        }
        self.sessions[session_id] = session
        return 200, session

    def _create_payment_intent(self, params) -> tuple[int, dict]:
        """Confirm a PaymentIntent with a shared payment token: `spt_declined...` is a card decline (402, the
        intent inside the error, as Stripe answers), `spt_3ds...` needs the buyer (requires_action)."""
        token = params.get("payment_method_data", {}).get("shared_payment_granted_token", "")
        intent = {
            "id": f"pi_test_{secrets.token_hex(10)}",
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "amount_received": 0,
            "currency": params["currency"],
            "created": int(time.time()),
            "metadata": params.get("metadata", {}),
            "status": "requires_payment_method",
            "shared_payment_granted_token": token,
        }
        self.intents[intent["id"]] = intent
        if not token.startswith("spt_"):
            return 400, {"error": {"type": "invalid_request_error", "message": "No such shared payment token"}}
        if token.startswith("spt_declined"):
            error = {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline"}
            return 402, {"error": {**error, "message": "Your card was declined.", "payment_intent": intent}}
        if token.startswith("spt_3ds"):
            intent["status"] = "requires_action"
        else:
            intent.update(status="succeeded", amount_received=intent["amount"])
        return 200, intent

    def _cancel_payment_intent(self, intent_id: str) -> tuple[int, dict]:
        intent = self.intents[intent_id]
        intent["status"] = "canceled"
        return 200, intent

    def _create_refund(self, params) -> tuple[int, dict]:
        refund = {
            "id": f"re_test_{secrets.token_hex(10)}",
            "object": "refund",
            "amount": int(params["amount"]),
            "payment_intent": params["payment_intent"],
            "status": "succeeded",
        }
        self.refunds.append(refund)
        return 200, refund

    def refunded(self, payment_intent: str) -> list[int]:
        """Return the amounts refunded on a payment, in order."""
        return [refund["amount"] for refund in self.refunds if refund["payment_intent"] == payment_intent]

    def complete(self, session_id: str, *, event_type="checkout.session.completed", created=None) -> tuple[bytes, str]:
        """Pay a session as the shopper would; return Stripe's notification of it: (body, Stripe-Signature)."""
        session = self.sessions[session_id]
        if session["payment_intent"] is None:
            session.update(payment_intent=f"pi_test_{secrets.token_hex(10)}", payment_status="paid", status="complete")
        return self.event(event_type, {k: v for k, v in session.items() if k != "params"}, created=created)

    def event(self, event_type: str, data: dict, *, created=None) -> tuple[bytes, str]:
        """Return a signed notification of `event_type` about `data`."""
        body = {
            "id": f"evt_test_{secrets.token_hex(12)}",
            "object": "event",
            "api_version": "2025-01-27.acacia",
            "created": int(time.time()) if created is None else int(created),
            "type": event_type,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": data},
        }
        payload = json.dumps(body).encode()
        return payload, sign(payload)
