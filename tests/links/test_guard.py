"""The SSRF guard's address rules and its allow-list (links/guard.py)."""

from __future__ import annotations

import ipaddress

import pytest

from wabox.links.guard import AddressGuard


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.5.6.7", "a loopback address"),
        ("::1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("10.0.0.1", "a private address"),
        ("172.16.5.4", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fd00::1", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("0.0.0.0", "the unspecified address"),
        ("::", "the unspecified address"),
        ("100.64.0.1", "a reserved address"),
        ("240.0.0.1", "a private address"),
    ],
)
def test_non_public_addresses_are_refused(address: str, kind: str) -> None:
    refusal = AddressGuard().refusal(address, ipaddress.ip_address(address))
    assert refusal is not None
    assert f"{ipaddress.ip_address(address)} is {kind};" in refusal
    assert "WABOX_LINK_ALLOW" in refusal


def test_a_name_is_named_with_its_address() -> None:
    refusal = AddressGuard().refusal("localhost", ipaddress.ip_address("127.0.0.1"))
    assert refusal is not None
    assert "localhost resolves to 127.0.0.1, a loopback address;" in refusal


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_public_addresses_pass(address: str) -> None:
    assert AddressGuard().refusal("cdn.example.com", ipaddress.ip_address(address)) is None


def test_allow_list_by_cidr_and_by_host() -> None:
    guard = AddressGuard("127.0.0.1, 10.1.0.0/16 media.internal.")
    loopback = ipaddress.ip_address("127.0.0.1")
    assert guard.refusal("127.0.0.1", loopback) is None
    assert guard.refusal("localhost", loopback) is None  # the address is allowed
    assert guard.refusal("10.1.2.3", ipaddress.ip_address("10.1.2.3")) is None
    assert guard.refusal("10.2.0.1", ipaddress.ip_address("10.2.0.1")) is not None
    assert guard.refusal("MEDIA.internal", ipaddress.ip_address("10.9.9.9")) is None
    assert guard.refusal("127.0.0.2", ipaddress.ip_address("127.0.0.2")) is not None
