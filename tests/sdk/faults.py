"""A tiny HTTP server on 127.0.0.1 in front of the local stack that misbehaves on cue: answer 429 with a
Retry-After, or forward a request and then drop the connection without answering (the server stored the
events, the client never hears so)."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

FORWARDED = ("authorization", "x-tenant-id", "content-type", "content-encoding")


class FaultProxy:
    def __init__(self, upstream: str, script: list[str]):
        self.upstream = upstream
        self.script = deque(script)  # per POST: "429", "kill" (forward, then drop), anything else: forward
        self.posts: list[tuple[float, bytes, str]] = []  # (time, body, what was done)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                action = proxy.script.popleft() if proxy.script else "forward"
                proxy.posts.append((time.monotonic(), body, action))
                if action == "429":
                    payload = b'{"status":429,"code":"RATE_LIMITED","detail":"slow down"}'
                    self.send_response(429)
                    self.send_header("Retry-After", "2")
                    self.send_header("Content-Type", "application/problem+json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                answer = proxy.forward("POST", self.path, self.headers, body)
                if action == "kill":  # reset the connection: no answer at all
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()
                    return
                self.send_response(answer.status_code)
                for name in ("content-type", "retry-after"):
                    if name in answer.headers:
                        self.send_header(name, answer.headers[name])
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def forward(self, method, path, headers, body) -> httpx.Response:
        sent = {k: v for k, v in headers.items() if k.lower() in FORWARDED}
        return httpx.request(method, self.upstream + path, headers=sent, content=body, timeout=30)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
