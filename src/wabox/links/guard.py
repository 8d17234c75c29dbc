"""The SSRF guard: links may not reach loopback, private or link-local addresses.

A link is checked on the address actually connected to: the resolver below hands the
connector only addresses that passed, so a name that resolves to 127.0.0.1 (or starts to,
between two lookups) never gets a connection, and every redirect goes through the same
connector. IP literals skip resolvers, so the fetcher checks them with ``refusal`` first.
``WABOX_LINK_ALLOW`` opens exceptions by host name or by address/CIDR, for local origins.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class BlockedAddress(OSError):
    """Every address of a host is one wabox will not connect to; ``details`` says why."""

    def __init__(self, details: str) -> None:
        super().__init__(details)
        self.details = details


def _kind(address: IPAddress) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _kind(address.ipv4_mapped)
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "a reserved address"
    return None


class AddressGuard:
    def __init__(self, allow: str = "") -> None:
        self.hosts: set[str] = set()
        self.networks: list[IPNetwork] = []
        for entry in allow.replace(",", " ").split():
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.hosts.add(_normal_host(entry))

    def refusal(self, host: str, address: IPAddress) -> str | None:
        """Why ``host`` may not be reached at ``address``; None when it may."""
        if _normal_host(host) in self.hosts or any(address in net for net in self.networks):
            return None
        kind = _kind(address)
        if kind is None:
            return None
        literal = ip_literal(host) == address
        subject = f"{address} is {kind}" if literal else f"{host} resolves to {address}, {kind}"
        return (
            f"Downloading media from weblink failed: {subject}; wabox does not fetch links on "
            "private networks (WABOX_LINK_ALLOW lists the hosts or CIDRs it may fetch)."
        )


def _normal_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


class GuardedResolver(AbstractResolver):
    """Resolves with getaddrinfo, then drops every address the guard refuses."""

    def __init__(self, guard: AddressGuard) -> None:
        self._guard = guard
        self._inner: ThreadedResolver | None = None

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if self._inner is None:
            self._inner = ThreadedResolver()
        results = await self._inner.resolve(host, port, family)
        allowed: list[ResolveResult] = []
        first_refusal = None
        for result in results:
            refusal = self._guard.refusal(host, ipaddress.ip_address(result["host"]))
            if refusal is None:
                allowed.append(result)
            elif first_refusal is None:
                first_refusal = refusal
        if not allowed and first_refusal is not None:
            raise BlockedAddress(first_refusal)
        return allowed

    async def close(self, *_: Any) -> None:
        if self._inner is not None:
            await self._inner.close()
