"""The address guard for server-side fetches: decides whether a host may be reached at all, so a
URL in a message cannot make the server talk to its own network (server-side request forgery).

A host is resolved once, every address it resolves to is checked, and the caller connects to
exactly those addresses: a second lookup could answer differently (DNS rebinding)."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from heliograph.domain.errors import ErrorCode, HeliographError

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network
# host, port -> IP address strings
Resolver = Callable[[str, int], Awaitable[list[str]]]

# Names that reach the cloud provider's metadata service or the machine itself. Single-label
# names are refused as a whole: they resolve through the local search domains.
_BLOCKED_NAMES = frozenset(
    {"metadata.google.internal", "metadata.goog", "instance-data.ec2.internal"}
)
_BLOCKED_SUFFIXES = (
    ".localhost",
    ".local",
    ".internal",
    ".localdomain",
    ".home.arpa",
    ".lan",
    ".intranet",
    ".corp",
    ".private",
)
_HOSTNAME = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")

# IANA special-purpose ranges, most specific reason first. The standard library's flags differ
# between Python versions (3.11 calls multicast "global"), so the table is spelled out.
_SPECIAL: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ip_network(network), reason)
    for network, reason in (
        ("0.0.0.0/8", "unspecified"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared address space"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "special-purpose"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "special-purpose"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/8", "reserved"),
        ("64:ff9b:1::/48", "private"),
        ("100::/64", "discard"),
        ("2001::/23", "special-purpose"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
        ("5f00::/16", "special-purpose"),
        ("fc00::/7", "private"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    )
)
_NAT64 = IPv6Network("64:ff9b::/96")


def _embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv4-mapped or NAT64 address stands for: it decides alone."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFF_FFFF)
    return None


def address_problem(address: IPAddress) -> str | None:
    """Why `address` may reach something that is not the public internet, or None if public."""
    if isinstance(address, IPv6Address):
        address = IPv6Address(int(address))  # the zone id does not change what it reaches
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return address_problem(embedded)
        if address.sixtofour is not None:
            problem = address_problem(address.sixtofour)
            if problem is not None:
                return problem
    for network, reason in _SPECIAL:
        if address.version == network.version and address in network:
            return reason
    if not address.is_global or address.is_reserved or address.is_multicast:
        return "special-purpose"
    return None


def _ipv4_number(part: str) -> int | None:
    """One part of a legacy IPv4 literal as inet_aton reads it: 0x hex, 0 octal, else decimal."""
    try:
        if part[:2] in ("0x", "0X"):
            return int(part[2:] or "0", 16)
        if len(part) > 1 and part[0] == "0":
            return int(part[1:], 8)
        return int(part, 10) if part.isdigit() else None
    except ValueError:
        return None


def _parse_ipv4(host: str) -> IPv4Address | None:
    """An IPv4 literal in any form inet_aton accepts (2130706433, 0x7f.1, 0177.0.0.1, 127.1)."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # a fully qualified "127.0.0.1."
    if not 1 <= len(parts) <= 4 or not all(parts):
        return None
    numbers = [_ipv4_number(part) for part in parts]
    if any(n is None or n < 0 for n in numbers):
        return None
    *head, last = [n for n in numbers if n is not None]
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = last
    for i, n in enumerate(head):
        value |= n << (8 * (3 - i))
    return IPv4Address(value)


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address an IP-literal host names (brackets optional for IPv6), or None for a name."""
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return IPv6Address(host.replace("%25", "%"))
        except ValueError:
            return None
    return _parse_ipv4(host)


def _looks_numeric(host: str) -> bool:
    """Whether an HTTP client would take `host` for an address and connect without a lookup."""
    return ":" in host or host.replace(".", "").isdigit()


def name_problem(host: str) -> str | None:
    """Why a host name must not be looked up, or None. `host` is lower case, without a dot at
    the end."""
    if not _HOSTNAME.fullmatch(host):
        return "invalid host name"
    if "." not in host:
        return "single-label host name"
    if host in _BLOCKED_NAMES or host.endswith(_BLOCKED_SUFFIXES):
        return "internal host name"
    return None


@dataclass(frozen=True, slots=True)
class _Entry:
    name: str | None
    network: IPNetwork | None
    port: int | None

    def allows_port(self, port: int) -> bool:
        return self.port is None or self.port == port


def _parse_entry(entry: str) -> _Entry:
    """An allowlist entry: a host name or IP, either with ":port", or a CIDR network."""
    text = entry.strip().lower()
    port: int | None = None
    if text.startswith("["):
        inside, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"bad allowlist entry {entry!r}")
        text, port = inside, (int(rest[1:]) if rest else None)
    elif text.count(":") == 1:
        text, _, port_text = text.partition(":")
        port = int(port_text)
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"bad port in allowlist entry {entry!r}")
    if "/" in text:
        return _Entry(None, ip_network(text, strict=False), port)
    try:
        address = ip_address(text)
    except ValueError:
        name = text.rstrip(".")
        if not _HOSTNAME.fullmatch(name):
            raise ValueError(f"bad allowlist entry {entry!r}") from None
        return _Entry(name, None, port)
    return _Entry(None, ip_network(address), port)


class Allowlist:
    """Hosts and networks the operator lets fetches reach although they are not public."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        self._entries = tuple(_parse_entry(entry) for entry in entries)

    def allows_name(self, host: str, port: int) -> bool:
        return any(e.name == host and e.allows_port(port) for e in self._entries)

    def allows_address(self, address: IPAddress, port: int) -> bool:
        candidates: list[IPAddress] = [address]
        if isinstance(address, IPv6Address):
            candidates = [IPv6Address(int(address))]
            if address.ipv4_mapped is not None:
                candidates.append(address.ipv4_mapped)
        return any(
            e.network is not None
            and e.allows_port(port)
            and any(a.version == e.network.version and a in e.network for a in candidates)
            for e in self._entries
        )


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's answer for `host` (the default resolver)."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return [str(info[4][0]) for info in infos]


def _forbidden(why: str) -> HeliographError:
    # The message names no address: it would tell the sender what internal names resolve to.
    return HeliographError(ErrorCode.URL_FORBIDDEN, f"URL not allowed: {why}")


class AddressGuard:
    """Vets a host before any connection: the answer is the only addresses one may use."""

    def __init__(self, allowlist: Iterable[str] = (), resolver: Resolver | None = None) -> None:
        self._allowlist = Allowlist(allowlist)
        self._resolve = resolver or system_resolver

    async def vet(self, host: str, port: int) -> list[IPAddress]:
        """The addresses `host` may be reached at on `port`. Raises URL_FORBIDDEN when any of
        them is not public (and not allowlisted), LINK_PREVIEW_FAILED when the lookup fails."""
        host = host.lower()
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        elif host.endswith(".") and not host.endswith(".."):
            host = host[:-1]
        if not host:
            raise _forbidden("no host")
        literal = parse_ip_literal(host)
        if literal is not None:
            if isinstance(literal, IPv6Address) and literal.scope_id:
                raise _forbidden("scoped address")
            allowed = self._allowlist.allows_address(literal, port)
            if not allowed and address_problem(literal) is not None:
                raise _forbidden("not a public address")
            return [literal]
        if _looks_numeric(host):
            raise _forbidden("malformed address")
        trusted = self._allowlist.allows_name(host, port)
        if not trusted:
            problem = name_problem(host)
            if problem is not None:
                raise _forbidden(problem)
        addresses = await self._lookup(host, port)
        if not trusted:
            for address in addresses:
                allowed = self._allowlist.allows_address(address, port)
                if not allowed and address_problem(address) is not None:
                    raise _forbidden("host resolves to a non-public address")
        return addresses

    async def _lookup(self, host: str, port: int) -> list[IPAddress]:
        try:
            answers = await self._resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise HeliographError(ErrorCode.LINK_PREVIEW_FAILED, "could not resolve host") from exc
        addresses: list[IPAddress] = []
        for answer in answers:
            try:
                address = ip_address(answer)
            except ValueError:
                raise _forbidden("unusable address from the resolver") from None
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise HeliographError(ErrorCode.LINK_PREVIEW_FAILED, "could not resolve host")
        return addresses
