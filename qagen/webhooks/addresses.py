"""Where a webhook may go: the SSRF guard for callback URLs.

`validate_callback_url` / `check_callback_url`: http/https only, no credentials, at most
2048 characters, and every address the host resolves to must be public unless the
operator allows it with `QAGEN_WEBHOOK_ALLOW`. It runs at upload and again before every
attempt (DNS can change between the two: rebinding); `CheckedTarget.addresses` are the
only addresses a delivery may then connect to (qagen.webhooks.deliveries pins the URL to
one of them).
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import os
import re
import socket
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from qagen.errors import InputError

MAX_URL_LENGTH = 2048
DNS_TIMEOUT_SECONDS = 5.0

# Cloud instance-metadata endpoints: never reachable through an allow *word*, only
# through an explicit CIDR that contains them.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, ...
    "169.254.170.2",  # AWS ECS task metadata
    "169.254.169.253",  # AWS DNS resolver
    "100.100.100.200",  # Alibaba Cloud
    "fd00:ec2::254",  # AWS IMDS over IPv6
))
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
ALLOW_WORDS = ("loopback", "private", "link-local")
_DESCRIPTIONS = {
    "loopback": "a loopback address",
    "private": "a private (internal) address",
    "link-local": "a link-local address",
    "metadata": "the cloud metadata address",
    "multicast": "a multicast address",
    "reserved": "a reserved address",
    "unspecified": "an unspecified address (0.0.0.0 or ::)",
}


class CallbackRefused(InputError):
    """Raised when a callback URL is not one qagen will call; the message says what to change."""


# --------------------------------------------------------------------------- SSRF guard

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class AllowList:
    words: frozenset[str]
    networks: tuple[IPNetwork, ...]


@lru_cache(maxsize=32)
def parse_allow(allow: str) -> AllowList:
    """`QAGEN_WEBHOOK_ALLOW`: comma-separated CIDRs and/or the words loopback, private, link-local."""
    words: set[str] = set()
    networks: list[IPNetwork] = []
    for item in (allow or "").split(","):
        item = item.strip()
        if not item:
            continue
        if item.lower() in ALLOW_WORDS:
            words.add(item.lower())
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(
                f"QAGEN_WEBHOOK_ALLOW: {item!r} is neither a CIDR (e.g. 10.0.0.0/8, fd00::/8) nor one of "
                f"{', '.join(ALLOW_WORDS)}."
            ) from None
    return AllowList(frozenset(words), tuple(networks))


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address hidden in an IPv4-mapped, NAT64, 6to4 or Teredo IPv6 address."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def classify_address(address: IPAddress) -> str | None:
    """The non-public category of `address` ("loopback", "private", ...) or None if it is public."""
    if address in METADATA_ADDRESSES:
        return "metadata"
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        category = classify_address(embedded)
        if category is not None:
            return category
        if address.ipv4_mapped is not None:
            return None  # ::ffff:<public v4> is that public v4 address
    if address.is_unspecified or (isinstance(address, ipaddress.IPv4Address) and address in _THIS_NETWORK):
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_reserved:
        return "reserved"
    if address.is_private or address in _CGNAT or not address.is_global:
        return "private"
    return None


def _is_allowed(address: IPAddress, category: str, allow: AllowList) -> bool:
    candidates = [address]
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        candidates.append(embedded)
    if any(candidate in network for candidate in candidates for network in allow.networks
           if candidate.version == network.version):
        return True
    return category in allow.words  # "metadata", "multicast", ... have no word: CIDR only


_dns_pools: dict[int, concurrent.futures.ThreadPoolExecutor] = {}


def _dns_pool() -> concurrent.futures.ThreadPoolExecutor:
    """A small pool per process (never inherited across a fork: its threads would not be)."""
    pid = os.getpid()
    if pid not in _dns_pools:
        _dns_pools.clear()
        _dns_pools[pid] = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="qagen-dns")
    return _dns_pools[pid]


def resolve(host: str, port: int, timeout: float = DNS_TIMEOUT_SECONDS) -> list[IPAddress]:
    """The addresses `host` resolves to (in resolver order, deduplicated), within `timeout` seconds."""
    # The system's resolver (/etc/hosts, then DNS): the tests give names loopback addresses
    # with /etc/hosts entries (tests/webhooks/conftest.py), not by replacing this call.
    future = _dns_pool().submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        raise CallbackRefused(
            f"The callback host {host!r} did not resolve within {timeout:g} s; check its DNS and retry."
        ) from None
    except (OSError, UnicodeError) as exc:
        raise CallbackRefused(
            f"The callback host {host!r} could not be resolved ({exc}); check the spelling and its DNS records."
        ) from None
    addresses: list[IPAddress] = []
    for family, _, _, _, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise CallbackRefused(f"The callback host {host!r} has no IPv4 or IPv6 address.")
    return addresses


@dataclass(frozen=True)
class CheckedTarget:
    """A callback URL that passed validation, with the addresses it may be delivered to."""

    url: str
    scheme: str
    host: str  # as in the URL, lower-cased, without brackets
    port: int
    netloc: str  # for the Host header
    path_and_query: str
    addresses: tuple[IPAddress, ...]
    host_is_literal: bool


_BAD_CHARS = re.compile(r"[\x00-\x20\x7f]")


def _check_syntax(url: str) -> tuple[Any, str, int]:
    if not isinstance(url, str) or not url.strip():
        raise CallbackRefused("callback_url is empty; give an absolute http(s) URL such as https://lms.example.edu/qagen/hook.")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise CallbackRefused(f"callback_url is {len(url)} characters long; the limit is {MAX_URL_LENGTH}.")
    if _BAD_CHARS.search(url):
        raise CallbackRefused("callback_url contains spaces or control characters; percent-encode them.")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise CallbackRefused(f"callback_url is not a valid URL ({exc}).") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        shown = f"{scheme}://" if scheme else "no scheme"
        raise CallbackRefused(f"callback_url must start with https:// or http:// (it has {shown}).")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise CallbackRefused(
            "callback_url must not contain a user name or password; remove them and authenticate "
            "qagen's requests by verifying the Qagen-Signature header instead (see docs/webhooks.md)."
        )
    host = parts.hostname
    if not host:
        raise CallbackRefused("callback_url has no host name; give an absolute URL such as https://lms.example.edu/qagen/hook.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise CallbackRefused("callback_url has an invalid port; use a number from 1 to 65535.") from None
    if port == 0:
        raise CallbackRefused("callback_url has an invalid port; use a number from 1 to 65535.")
    return parts, host, port


def check_callback_url(url: str, allow: str, *, dns_timeout: float = DNS_TIMEOUT_SECONDS) -> CheckedTarget:
    """Validate `url` and resolve its host; the result says where a delivery may connect."""
    parts, host, port = _check_syntax(url)
    allowed = parse_allow(allow)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        literal = None
    addresses = [literal] if literal is not None else resolve(host, port, dns_timeout)
    for address in addresses:
        category = classify_address(address)
        if category is None or _is_allowed(address, category, allowed):
            continue
        what = _DESCRIPTIONS[category]
        # For a name, the resolved address is not echoed: callers must not learn internal DNS.
        subject = (f"The callback address {address} is {what}" if literal is not None
                   else f"The callback host {host!r} resolves to {what}")
        if category in ALLOW_WORDS:
            fix = (f"Use a publicly reachable URL, or ask the operator to allow it with "
                   f"QAGEN_WEBHOOK_ALLOW={category} (or a CIDR that contains it).")
        else:
            fix = ("Use a publicly reachable URL; only an explicit CIDR in QAGEN_WEBHOOK_ALLOW can allow "
                   "such an address.")
        raise CallbackRefused(f"{subject}; qagen only calls public addresses. {fix}")
    path = parts.path or "/"
    return CheckedTarget(
        url=url.strip(), scheme=parts.scheme.lower(), host=host, port=port, netloc=parts.netloc,
        path_and_query=path + (f"?{parts.query}" if parts.query else ""),
        addresses=tuple(addresses), host_is_literal=literal is not None,
    )


def validate_callback_url(url: str, allow: str) -> str:
    """The callback URL (stripped) if qagen may call it; raises `CallbackRefused` otherwise.

    `allow` is `QAGEN_WEBHOOK_ALLOW`: "" in production (public addresses only),
    "loopback" in tests, or e.g. "10.0.0.0/8,loopback".
    """
    return check_callback_url(url, allow).url
