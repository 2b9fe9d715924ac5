"""The HTTP sender of webhooks against real local servers: on AWS it connects to the address the URL
rules vetted (no second DNS answer can redirect it) while TLS still checks the URL's host name; redirects
are not followed; a receiver that does not answer in time is a failed attempt, not a hang."""

from __future__ import annotations

import datetime as dt
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from tests.timing import assert_prompt
from tollgate.adapters import webhooks as adapter
from tollgate.adapters.webhooks import Urllib3Sender


def _certificates(tmp_path, host: str) -> tuple[str, str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(2)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = (tmp_path / "ca.pem", tmp_path / "leaf.pem", tmp_path / "leaf.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(paths[0]), str(paths[1]), str(paths[2])


class Handler(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        Handler.seen.append({"path": self.path, "host": self.headers["host"], "body": body})
        if self.path == "/slow":
            time.sleep(3)
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("location", "http://169.254.169.254/latest/meta-data")
        else:
            self.send_response(429 if self.path == "/busy" else 200)
            self.send_header("retry-after", "30")
        self.end_headers()
        self.wfile.write(b"thanks")

    def log_message(self, *args: object) -> None:
        return None


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        return None  # the client hung up (a timeout, a refused certificate): expected here


@pytest.fixture
def https_server(tmp_path):
    ca, cert, key = _certificates(tmp_path, "hooks.example")
    server = QuietServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield ca, server.server_address[1]
    server.shutdown()


def test_the_vetted_address_is_dialled_and_tls_checks_the_url_host(https_server):
    ca, port = https_server
    sender = Urllib3Sender(ca_certs=ca)
    answer = sender.post(f"https://hooks.example:{port}/hook?x=1", b"{}", {"webhook-id": "m"}, connect_to="127.0.0.1")
    assert answer.status == 200 and answer.body == "thanks"
    assert Handler.seen[-1]["path"] == "/hook?x=1" and Handler.seen[-1]["host"] == f"hooks.example:{port}"
    busy = sender.post(f"https://hooks.example:{port}/busy", b"{}", {}, connect_to="127.0.0.1")
    assert busy.status == 429 and busy.retry_after == "30"
    # a certificate for another name is refused (the pinned address cannot be used to impersonate)
    wrong = sender.post(f"https://other.example:{port}/hook", b"{}", {}, connect_to="127.0.0.1")
    assert wrong.status is None and wrong.error


def test_redirects_are_not_followed(https_server):
    ca, port = https_server
    answer = Urllib3Sender(ca_certs=ca).post(
        f"https://hooks.example:{port}/redirect", b"{}", {}, connect_to="127.0.0.1"
    )
    assert answer.status == 302


def test_a_slow_receiver_is_a_failed_attempt_after_the_timeout(https_server, monkeypatch):
    ca, port = https_server
    monkeypatch.setattr(adapter, "TOTAL_TIMEOUT", 0.5)
    adapter._pinned_pool.cache_clear()
    started = time.monotonic()
    answer = Urllib3Sender(ca_certs=ca).post(f"https://hooks.example:{port}/slow", b"{}", {}, connect_to="127.0.0.1")
    assert answer.status is None and "timed out" in (answer.error or "").lower()
    assert_prompt(time.monotonic() - started)
    adapter._pinned_pool.cache_clear()
