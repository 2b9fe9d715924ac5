"""Fakes for outbound webhooks: a queue that keeps what was sent, a receiver answering from a script,
and a clock a test moves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tollgate.ports.webhooks import HttpAnswer


@dataclass
class ListQueue:
    sent: list[tuple[dict, int]] = field(default_factory=list)

    def send(self, body: dict, *, delay_seconds: int) -> None:
        self.sent.append((body, delay_seconds))

    def take(self) -> list[dict]:
        taken, self.sent = [b for b, _ in self.sent], []
        return taken


@dataclass
class ScriptedReceiver:
    """Answers each POST with the next (status, headers) of ``script`` (the last one repeats)."""

    script: list[tuple[int | None, dict[str, str]]]
    received: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    def post(self, url: str, body: bytes, headers: dict[str, str], *, connect_to: str | None = None) -> HttpAnswer:
        self.received.append((url, body, headers))
        status, answer_headers = self.script[min(len(self.received), len(self.script)) - 1]
        if status is None:
            return HttpAnswer(None, "", 15000, error="ReadTimeoutError: timed out")
        return HttpAnswer(status, f"answer {status}", 3, retry_after=answer_headers.get("Retry-After"))


@dataclass
class MovingClock:
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 1, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


@dataclass
class CapturingMailer:
    sent: list[dict] = field(default_factory=list)

    def send(self, *, sender: str, to: str, subject: str, text: str) -> str:
        self.sent.append({"sender": sender, "to": to, "subject": subject, "text": text})
        return f"msg-{len(self.sent)}"

    def verify_sender(self, address: str) -> None:
        return None
