"""The client's IP address, from the socket or, behind trusted proxies only, from X-Forwarded-For.

The address is what sessions and the audit log record; `limit_key` is what the per-IP rate
limits count by: the address itself, or for IPv6 its /64 network (one subscriber usually holds
a whole /64, so counting single IPv6 addresses would give each client 2^64 budgets).
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.types import Scope

from app.settings import AppSettings

ScopeClientIP = Callable[[Scope], str]


def scope_client_ip_resolver(settings: AppSettings) -> ScopeClientIP:
    """Build the function giving a request's client IP from its ASGI scope, honouring only trusted proxies.

    It runs on every request (the rate limit's key) and, behind a proxy, meets a new address at
    almost every request of a busy site: a dotted quad goes through the C parser (inet_pton
    takes exactly what ipaddress takes, leading zeros refused, and the text is then already
    canonical) and two integer operations per trusted IPv4 network, well under a µs, so it is not
    cached. ipaddress, several µs per address, is left to IPv6 and to what is not an address.
    """
    networks = [ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies]
    ipv4 = [(int(n.network_address), int(n.netmask)) for n in networks if n.version == 4]

    @functools.lru_cache(maxsize=1024)
    def classify_other(address: str) -> tuple[bool, str | None]:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False, None
        return any(ip in network for network in networks), str(ip)

    def classify(address: str) -> tuple[bool, str | None]:
        """(a trusted proxy?, the address as ipaddress writes it), or (False, None) for no address."""
        try:
            value = int.from_bytes(socket.inet_pton(socket.AF_INET, address), "big")
        except (OSError, ValueError):
            return classify_other(address)
        for network, mask in ipv4:
            if value & mask == network:
                return True, address
        return False, address

    @functools.lru_cache(maxsize=256)
    def is_proxy(peer: str) -> bool:
        """Whether the direct peer is a trusted proxy (there are few peers that are: cached)."""
        return classify(peer)[0]

    def client_ip(scope: Scope) -> str:
        client = scope.get("client")
        peer = client[0] if client else "unknown"
        if not networks or not is_proxy(peer):
            return peer
        forwarded: bytes | None = None
        for key, value in scope["headers"]:
            if key == b"x-forwarded-for":
                forwarded = value if forwarded is None else forwarded + b"," + value
        if forwarded is None:
            return peer
        text = forwarded.decode("latin-1")
        # The nearest hop that is not a trusted proxy is the client: read from the right.
        for hop in reversed(text.split(",")) if "," in text else (text,):
            hop = hop.strip()
            if hop:
                trusted, address = classify(hop)
                if not trusted:
                    return address or peer
        return peer

    return client_ip


def client_ip_resolver(settings: AppSettings) -> Callable[[Request[Any, Any, Any]], str]:
    """The same, for a Request (what views and services use)."""
    from_scope = scope_client_ip_resolver(settings)

    def client_ip(request: Request[Any, Any, Any]) -> str:
        return from_scope(request.scope)

    return client_ip


@functools.lru_cache(maxsize=8192)
def limit_key(address: str) -> str:
    """What per-IP rate limits count by: an IPv4 address as is, an IPv6 address by its /64 network
    (an IPv4-mapped one by its IPv4 address), anything else as given."""
    if ":" not in address:
        return address
    try:
        ip = ipaddress.IPv6Address(address)
    except ValueError:
        return address
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
