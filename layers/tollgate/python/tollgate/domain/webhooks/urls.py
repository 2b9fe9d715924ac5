"""Which URLs may receive webhooks. On AWS: HTTPS only, and never an address inside a network
(private, loopback, link-local, multicast, reserved, unspecified: SSRF). The local stack allows
``http://`` and private addresses so a receiver on a laptop works (setting ``webhook_allow_private_urls``)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from tollgate.domain.errors import InvalidInput

MAX_URL_LENGTH = 2048

#: ``resolve(host)`` -> the IP addresses the host name resolves to (raises OSError when it does not).
Resolver = Callable[[str], Iterable[str]]


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def check_url(url: str, *, allow_private: bool, resolve: Resolver) -> str:
    """The URL if deliveries may go there, else InvalidInput (400) saying why."""
    vetted_address(url, allow_private=allow_private, resolve=resolve)
    return url


def vetted_address(url: str, *, allow_private: bool, resolve: Resolver) -> str | None:
    """The public address to connect to for ``url`` (None when private addresses are allowed), else
    InvalidInput saying why. Connecting to this very address (not resolving the name again) is what
    keeps a name that changes its answer (DNS rebinding) from reaching an internal address."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"url is longer than {MAX_URL_LENGTH} characters.", field="url")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port
    except ValueError as exc:
        raise InvalidInput(f"url is not a valid URL: {exc}.", field="url") from None
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed or not host:
        raise InvalidInput(
            "url must be an absolute https:// URL (for example https://example.com/webhooks).", field="url"
        )
    if parts.username or parts.password:
        raise InvalidInput("url must not carry credentials (user:password@): sign-in is by signature.", field="url")
    if allow_private:
        return None
    try:
        addresses = list(resolve(host))
    except OSError:
        raise InvalidInput(f"url host {host!r} does not resolve: check the name.", field="url") from None
    if not addresses or not all(is_public_address(a) for a in addresses):
        raise InvalidInput(
            f"url host {host!r} resolves to a private, loopback or link-local address: webhooks go to public hosts.",
            field="url",
        )
    return min(addresses, key=lambda a: ":" in a)  # IPv4 first: not every network routes IPv6
