"""Outbound webhook adapters: the SQS delivery queue, the HTTP sender (urllib3, 15 s in all) and the
DNS resolver the URL rules use.

urllib3 is already in the dependencies layer (``requests``, under ``stripe``): no new package, and its
import is light. One pool manager per process; redirects are not followed (a 3xx is a failed attempt,
as Standard Webhooks senders do), so a receiver cannot redirect a delivery to an internal address."""

from __future__ import annotations

import json
import socket
import time
from functools import cache, lru_cache
from typing import Any
from urllib.parse import urlsplit

from tollgate.adapters import aws
from tollgate.ports.webhooks import HttpAnswer

CONNECT_TIMEOUT = 5.0
TOTAL_TIMEOUT = 15.0
MAX_BODY_READ = 4096


class SqsDeliveryQueue:
    def __init__(self, queue_url: str) -> None:
        self.queue_url = queue_url

    def send(self, body: dict, *, delay_seconds: int) -> None:
        aws.client("sqs").send_message(
            QueueUrl=self.queue_url, MessageBody=json.dumps(body), DelaySeconds=max(0, min(delay_seconds, 900))
        )


@cache
def _pool() -> Any:
    import urllib3

    return urllib3.PoolManager(num_pools=50, maxsize=4, retries=False, timeout=_timeout())


def _timeout() -> Any:
    import urllib3

    return urllib3.Timeout(total=TOTAL_TIMEOUT, connect=CONNECT_TIMEOUT)


@lru_cache(maxsize=64)
def _pinned_pool(address: str, host: str, port: int, ca_certs: str | None) -> Any:
    """A TLS pool that connects to ``address`` and checks the certificate against ``host`` (SNI too)."""
    import urllib3

    return urllib3.HTTPSConnectionPool(
        address,
        port,
        server_hostname=host,
        assert_hostname=host,
        maxsize=2,
        retries=False,
        timeout=_timeout(),
        ca_certs=ca_certs,
    )


class Urllib3Sender:
    def __init__(self, ca_certs: str | None = None) -> None:
        self.ca_certs = ca_certs  # tests trust their own CA; None: the system's

    def post(self, url: str, body: bytes, headers: dict[str, str], *, connect_to: str | None = None) -> HttpAnswer:
        import urllib3

        started = time.monotonic()
        try:
            if connect_to is None:
                response = _pool().request(
                    "POST", url, body=body, headers=headers, redirect=False, preload_content=False
                )
            else:
                parts = urlsplit(url)
                pool = _pinned_pool(connect_to, str(parts.hostname), parts.port or 443, self.ca_certs)
                target = parts.path or "/"
                if parts.query:
                    target += "?" + parts.query
                response = pool.urlopen(
                    "POST",
                    target,
                    body=body,
                    headers={**headers, "host": parts.netloc},
                    redirect=False,
                    preload_content=False,
                    retries=False,
                )
        except urllib3.exceptions.HTTPError as exc:
            return HttpAnswer(None, "", _ms(started), error=f"{type(exc).__name__}: {exc}"[:500])
        try:
            text = response.read(MAX_BODY_READ, decode_content=True).decode("utf-8", "replace")
        except urllib3.exceptions.HTTPError:
            text = ""
        finally:
            response.release_conn()
        return HttpAnswer(response.status, text, _ms(started), retry_after=response.headers.get("Retry-After"))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def resolve(host: str) -> list[str]:
    """The addresses ``host`` resolves to (raises OSError when it does not)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)})
