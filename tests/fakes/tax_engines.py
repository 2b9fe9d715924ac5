"""Fakes of the AvaTax and Stripe Tax HTTP APIs (the two calls Tollgate makes), served on a local port so
the official SDKs run unchanged: ``POST /api/v2/transactions/create`` and ``POST /v1/tax/calculations``.

Both tax every line at ``rate_percent`` (exclusive) and can be made slow (``delay``) or failing
(``fail_status``) to exercise TAX_CALCULATION_FAILED and the invoice retry."""

from __future__ import annotations

import json
import re
import threading
import time
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

_STRIPE_AMOUNT = re.compile(r"line_items\[\d+\]\[amount\]")


class FakeTaxEngines:
    def __init__(self, rate_percent: str = "10") -> None:
        self.rate = Decimal(rate_percent)
        self.delay = 0.0
        self.fail_status: int | None = None
        self.requests: list[tuple[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeTaxEngines:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        time.sleep(self.delay)
        if self.fail_status:
            return self.fail_status, {"error": {"message": "the fake tax engine is down"}}
        if path == "/api/v2/transactions/create":
            model = json.loads(body)
            self.requests.append((path, model))
            taxable = sum((Decimal(str(ln["amount"])) for ln in model["lines"]), Decimal(0))
            tax = (taxable * self.rate / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
            summary = [
                {"taxName": "STATE SALES TAX", "jurisName": "CA", "rate": float(self.rate / 100), "tax": float(tax)}
            ]
            return 201, {"code": model.get("code"), "totalTax": float(tax), "summary": summary}
        if path == "/v1/tax/calculations":
            form = dict(parse_qsl(body.decode()))
            self.requests.append((path, form))
            cents = sum(int(v) for k, v in form.items() if _STRIPE_AMOUNT.fullmatch(k))
            tax_cents = int((Decimal(cents) * self.rate / 100).quantize(Decimal(1), ROUND_HALF_UP))
            breakdown = [
                {
                    "amount": tax_cents,
                    "inclusive": False,
                    "taxable_amount": cents,
                    "tax_rate_details": {"percentage_decimal": str(self.rate), "tax_type": "sales_tax"},
                }
            ]
            return 200, {"id": "taxcalc_fake", "object": "tax.calculation", "tax_breakdown": breakdown}
        return 404, {"error": {"message": f"no route {path}"}}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = fake._answer(self.path.split("?")[0], body)
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("X-Correlation-Id", "fake-correlation-id")  # AvaTax sends one; its SDK logs it
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout)
                    pass

            def log_message(self, *args: Any) -> None:
                return

        return Handler
