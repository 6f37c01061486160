"""The address guard: which addresses and names a server-side fetch may reach."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address

import pytest

from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.media.netguard import (
    AddressGuard,
    Allowlist,
    address_problem,
    name_problem,
    parse_ip_literal,
)


class FakeDNS:
    """Stands in for public DNS: a fixed table, and a record of every question."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.asked: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append((host, port))
        if host not in self.table:
            raise OSError("NXDOMAIN")
        return self.table[host]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0X7F.0.0.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1.2", "10.1.0.2"),
        ("127.0.0.1.", "127.0.0.1"),
        ("169.254.169.254", "169.254.169.254"),
        ("0", "0.0.0.0"),
        ("::1", "::1"),
        ("[::1]", "::1"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"),
    ],
)
def test_ip_literals_are_read_as_inet_aton_does(host: str, expected: str) -> None:
    assert parse_ip_literal(host) == ip_address(expected)


@pytest.mark.parametrize(
    "host",
    ["example.com", "1.2.3.4.5", "256.0.0.1", "1.2.3.256", "0x7g.1", "08.0.0.1", "127..1", ":z"],
)
def test_names_and_malformed_numbers_are_not_literals(host: str) -> None:
    assert parse_ip_literal(host) is None


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("10.0.0.5", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("127.0.0.1", "loopback"),
        ("127.255.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "shared address space"),
        ("100.100.100.200", "shared address space"),
        ("192.0.0.192", "special-purpose"),
        ("198.18.0.1", "benchmarking"),
        ("192.0.2.1", "documentation"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("::127.0.0.1", "reserved"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::a00:1", "private"),
        ("2002:7f00:1::1", "loopback"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "special-purpose"),
        ("2001:db8::1", "documentation"),
        ("fc00::1", "private"),
        ("fd00:ec2::254", "private"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
        ("100::1", "discard"),
    ],
)
def test_non_public_addresses_are_named(address: str, reason: str) -> None:
    assert address_problem(ip_address(address)) == reason


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "93.184.216.34",
        "172.32.0.1",
        "100.128.0.1",
        "2606:4700:4700::1111",
        "2a00:1450:4001:80b::200e",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ],
)
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(ip_address(address)) is None


@pytest.mark.parametrize(
    ("host", "problem"),
    [
        ("metadata.google.internal", "internal host name"),
        ("metadata.goog", "internal host name"),
        ("anything.internal", "internal host name"),
        ("app.localhost", "internal host name"),
        ("printer.local", "internal host name"),
        ("router.home.arpa", "internal host name"),
        ("localhost", "single-label host name"),
        ("metadata", "single-label host name"),
        ("bad host.com", "invalid host name"),
        ("a..b", "invalid host name"),
        ("example.com", None),
        ("news.ycombinator.com", None),
        ("xn--e1afmkfd.xn--p1ai", None),
    ],
)
def test_name_problems(host: str, problem: str | None) -> None:
    assert name_problem(host) == problem


def test_allowlist_entries() -> None:
    allow = Allowlist(["127.0.0.1", "localhost", "10.0.0.0/8", "[::1]:8080", "svc.test:81"])
    assert allow.allows_address(IPv4Address("127.0.0.1"), 1)
    assert allow.allows_address(IPv6Address("::ffff:127.0.0.1"), 1)
    assert not allow.allows_address(IPv4Address("127.0.0.2"), 1)
    assert allow.allows_address(IPv4Address("10.200.0.1"), 443)
    assert allow.allows_address(IPv6Address("::1"), 8080)
    assert not allow.allows_address(IPv6Address("::1"), 80)
    assert allow.allows_name("localhost", 5)
    assert allow.allows_name("svc.test", 81)
    assert not allow.allows_name("svc.test", 80)
    assert not allow.allows_name("other.test", 81)


@pytest.mark.parametrize("entry", ["not a host", "10.0.0.0/33", "host:0", "[::1", "a:b"])
def test_bad_allowlist_entries_are_rejected(entry: str) -> None:
    with pytest.raises(ValueError):
        Allowlist([entry])


async def test_public_host_resolves_to_its_addresses() -> None:
    dns = FakeDNS({"example.com": ["93.184.216.34", "2606:2800:220:1::1", "93.184.216.34"]})
    addresses = await AddressGuard(resolver=dns).vet("Example.COM.", 443)
    assert addresses == [ip_address("93.184.216.34"), ip_address("2606:2800:220:1::1")]
    assert dns.asked == [("example.com", 443)]


@pytest.mark.parametrize(
    "answer",
    [
        ["10.0.0.5"],
        ["169.254.169.254"],
        ["::1"],
        ["::ffff:127.0.0.1"],
        ["93.184.216.34", "10.0.0.5"],
        ["2606:2800:220:1::1", "fe80::1%2"],
    ],
)
async def test_any_non_public_answer_refuses_the_host(answer: list[str]) -> None:
    guard = AddressGuard(resolver=FakeDNS({"evil.example": answer}))
    with pytest.raises(HeliographError) as caught:
        await guard.vet("evil.example", 80)
    assert caught.value.code is ErrorCode.URL_FORBIDDEN
    assert "10.0.0.5" not in caught.value.message  # no internal DNS leaks to the sender


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "[::1]", "2130706433", "0x7f.1", "169.254.169.254", "::ffff:a00:1"]
)
async def test_literals_are_checked_without_a_lookup(host: str) -> None:
    dns = FakeDNS({})
    with pytest.raises(HeliographError) as caught:
        await AddressGuard(resolver=dns).vet(host, 80)
    assert caught.value.code is ErrorCode.URL_FORBIDDEN
    assert dns.asked == []


@pytest.mark.parametrize(
    "host", ["metadata.google.internal", "localhost", "256.1.1.1", "1.2.3.4.5", "fe80::1%25eth0"]
)
async def test_forbidden_names_and_malformed_numbers_are_not_looked_up(host: str) -> None:
    dns = FakeDNS({host: ["93.184.216.34"]})
    with pytest.raises(HeliographError) as caught:
        await AddressGuard(resolver=dns).vet(host, 80)
    assert caught.value.code is ErrorCode.URL_FORBIDDEN
    assert dns.asked == []


async def test_allowlist_lets_named_networks_and_hosts_through() -> None:
    dns = FakeDNS({"svc.test": ["10.1.2.3"], "db.test": ["10.9.9.9"], "lan.test": ["192.168.0.9"]})
    guard = AddressGuard(["10.1.0.0/16", "lan.test", "127.0.0.1"], dns)
    assert await guard.vet("svc.test", 80) == [ip_address("10.1.2.3")]
    assert await guard.vet("lan.test", 80) == [ip_address("192.168.0.9")]
    assert await guard.vet("127.0.0.1", 9) == [ip_address("127.0.0.1")]
    with pytest.raises(HeliographError):
        await guard.vet("db.test", 80)
    with pytest.raises(HeliographError):
        await guard.vet("127.0.0.2", 9)


@pytest.mark.parametrize("dns", [FakeDNS({}), FakeDNS({"gone.example": []})])
async def test_lookup_failure_is_a_failed_preview(dns: FakeDNS) -> None:
    with pytest.raises(HeliographError) as caught:
        await AddressGuard(resolver=dns).vet("gone.example", 80)
    assert caught.value.code is ErrorCode.LINK_PREVIEW_FAILED


async def test_garbage_from_the_resolver_is_refused() -> None:
    guard = AddressGuard(resolver=FakeDNS({"odd.example": ["not-an-ip"]}))
    with pytest.raises(HeliographError) as caught:
        await guard.vet("odd.example", 80)
    assert caught.value.code is ErrorCode.URL_FORBIDDEN
