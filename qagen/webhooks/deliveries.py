"""Signed webhooks: tell an LMS when a session is complete or failed.

Everything here is plain Python (stdlib, redis, httpx) so the API can import it to
validate a `callback_url` at upload time; the Celery task that drives delivery lives in
`worker/webhook_tasks.py` and calls `attempt_delivery` below. docs/webhooks.md is the
receiver-facing description of the format, the signature and the retry schedule.

Pieces:

- `validate_callback_url` — SSRF guard. http/https only, no credentials, at most 2048
  characters, and every address the host resolves to must be public unless the operator
  allows it with `QAGEN_WEBHOOK_ALLOW`. It runs at upload and again before every attempt
  (DNS can change between the two: rebinding), and each attempt connects only to an
  address that was just validated (the URL is pinned to the IP; Host and TLS SNI keep the
  name), never following redirects.
- `sign` / `verify` — `Qagen-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`
  (Stripe's scheme). `verify` is the receiver's code and what the tests check against.
- `WebhookSecrets` — one signing secret per tenant, in Redis. It is stored in plain text
  because it must be usable to sign: Redis has to be access-controlled (password/ACL, no
  public port) like any other secret store.
- `event_for` / `enqueue_once` — the event id is a function of (session id, final status),
  and the delivery record is created with SET NX, so re-running a session, a redelivered
  task or a repeated `notify` never produces a second event.
- `deliver` (one HTTP attempt) and `attempt_delivery` (load record, lock, re-validate,
  sign, deliver, record, decide the next delay) — the delivery policy.

Delivery is at least once: a receiver must de-duplicate on `Qagen-Event-Id`.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import random
import re
import secrets as _secrets
import socket
import ssl
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import redis

if TYPE_CHECKING:
    import httpx

from qagen.errors import InputError

log = logging.getLogger(__name__)

TASK_NAME = "qagen.deliver_webhook"
USER_AGENT = "qagen-webhooks/1"
SIGNATURE_HEADER = "Qagen-Signature"
EVENT_ID_HEADER = "Qagen-Event-Id"
EVENT_TYPE_HEADER = "Qagen-Event-Type"
FINAL_STATUSES = ("complete", "failed")

MAX_URL_LENGTH = 2048
DNS_TIMEOUT_SECONDS = 5.0
DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_ATTEMPTS = 12
# Wait before attempt 2, 3, 4, 5; the last value repeats. With 12 attempts the first is
# immediate and the last comes ~4 h 10 min later (30 s + 2 min + 8 min + 8 x 30 min).
# Every delay must stay below the broker's visibility timeout (2400 s by default): a Celery
# countdown longer than that makes Redis hand the message out again, in a loop.
DEFAULT_SCHEDULE: tuple[float, ...] = (30, 120, 480, 1800)
DEFAULT_JITTER = 0.1  # +-10 % so a receiver's outage doesn't end in a thundering herd
RECORD_TTL_SECONDS = 7 * 24 * 3600  # as long as a session lives, so a re-run never re-sends
SECRET_GRACE_SECONDS = 24 * 3600  # how long a rotated-out secret still signs (second v1)
EARLY_TOLERANCE_SECONDS = 5.0
MAX_HISTORY = 20

RECORD_PREFIX = "qagen:webhook:"
_TENANT_PREFIX = "qagen:tenant:"

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


# --------------------------------------------------------------------------- errors


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


_getaddrinfo = socket.getaddrinfo  # tests replace this to simulate DNS
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
    future = _dns_pool().submit(_getaddrinfo, host, port, 0, socket.SOCK_STREAM)
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


# --------------------------------------------------------------------------- signing


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _secret_list(secret: str | Sequence[str]) -> list[str]:
    return [secret] if isinstance(secret, str) else [s for s in secret if s]


def sign(secret: str | Sequence[str], timestamp: int, body: bytes) -> str:
    """The `Qagen-Signature` header value: `t=<timestamp>,v1=<hex>` (one v1 per secret given).

    The HMAC key is the whole secret string (including `whsec_`) as UTF-8; the message is
    `f"{timestamp}."` followed by the exact body bytes sent.
    """
    macs = [_mac(s, int(timestamp), body) for s in _secret_list(secret)]
    if not macs:
        raise ValueError("sign() needs at least one secret.")
    return ",".join([f"t={int(timestamp)}"] + [f"v1={m}" for m in macs])


def verify(secret: str | Sequence[str], header: str | None, body: bytes, tolerance_seconds: float = 300,
           now: float | None = None) -> bool:
    """True if `header` (Qagen-Signature) signs `body` (the raw request bytes) with `secret`.

    Receivers' reference implementation: constant-time comparison; any v1 value may match
    (qagen sends two during a secret rotation) and `secret` may be a list (yours, during
    your own rotation); the timestamp must be within `tolerance_seconds` of `now`
    (replay protection; pass 0 to skip that check). Never raises on malformed input.
    """
    if not header or len(header) > 8192:
        return False
    if isinstance(body, str):
        body = body.encode("utf-8")
    timestamps: list[str] = []
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            timestamps.append(value.strip())
        elif key == "v1":
            signatures.append(value.strip())
    if len(timestamps) != 1 or not timestamps[0].isdigit() or not signatures or len(signatures) > 16:
        return False
    timestamp = int(timestamps[0])
    if tolerance_seconds and abs((time.time() if now is None else now) - timestamp) > tolerance_seconds:
        return False
    matched = False
    for s in _secret_list(secret):
        expected = _mac(s, timestamp, body).encode()
        for candidate in signatures:
            matched |= hmac.compare_digest(expected, candidate.encode("utf-8", "replace"))
    return matched


# --------------------------------------------------------------------------- secrets


def _secret_key(tenant: str) -> str:
    if not tenant or len(tenant) > 128 or any(c.isspace() for c in tenant):
        raise ValueError(f"Invalid tenant name {tenant!r} for a webhook secret.")
    return f"{_TENANT_PREFIX}{tenant}:webhook_secret"


def new_secret() -> str:
    return "whsec_" + _secrets.token_urlsafe(32)


class WebhookSecrets:
    """Per-tenant signing secrets at `qagen:tenant:<tenant>:webhook_secret` (plain: Redis must be protected).

    After `rotate`, the previous secret keeps signing alongside the new one (a second v1
    value) for `grace_seconds`, so receivers can switch without losing events.
    """

    def __init__(self, client: redis.Redis, grace_seconds: int = SECRET_GRACE_SECONDS):
        self.client = client
        self.grace_seconds = grace_seconds

    def get_or_create(self, tenant: str) -> str:
        key = _secret_key(tenant)
        self.client.set(key, new_secret(), nx=True)
        return self.client.get(key).decode()

    def rotate(self, tenant: str) -> str:
        """Make a new secret and return it; the old one still signs for `grace_seconds`."""
        key = _secret_key(tenant)
        secret = new_secret()
        old = self.client.set(key, secret, get=True)
        if old:
            self.client.set(key + ":previous", old, ex=max(1, int(self.grace_seconds)))
        return secret

    def signing_secrets(self, tenant: str) -> list[str]:
        """The secrets to sign with: current first, then the rotated-out one during its grace period."""
        current = self.get_or_create(tenant)
        previous = self.client.get(_secret_key(tenant) + ":previous")
        return [current] + ([previous.decode()] if previous and previous.decode() != current else [])


# --------------------------------------------------------------------------- events and records


def event_id_for(session_id: str, status: str) -> str:
    return "evt_" + hashlib.sha256((session_id + status).encode()).hexdigest()[:24]


def _iso_now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


def event_for(session: dict[str, Any], tenant: str, *, status_url: str | None = None,
              download_url: str | None = None) -> tuple[str, bytes]:
    """(event id, JSON body) for a finished session, from `Session.to_public()`.

    The id depends only on (session id, final status), so the same finish always makes
    the same event; `created_at` is the session's `finished_at` when it has one.
    """
    session_id = session["session_id"]
    status = session["status"]
    if status not in FINAL_STATUSES:
        raise ValueError(f"Session {session_id} is {status!r}; events exist only for {' and '.join(FINAL_STATUSES)}.")
    event_id = event_id_for(session_id, status)
    data: dict[str, Any] = {
        "session_id": session_id,
        "status": status,
        "error": session.get("error"),
        "question_count": session.get("question_count"),
        "filename": session.get("filename"),
        "knowledge_base_id": session.get("knowledge_base_id"),
        "created_at": session.get("created_at"),
        "finished_at": session.get("finished_at"),
    }
    if status_url:
        data["status_url"] = status_url
    if download_url and status == "complete":
        data["download_url"] = download_url
    event = {
        "id": event_id,
        "type": f"session.{status}",
        "created_at": session.get("finished_at") or _iso_now(),
        "tenant": tenant,
        "data": data,
    }
    return event_id, json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def record_key(event_id: str) -> str:
    return RECORD_PREFIX + event_id


def enqueue_once(client: redis.Redis, event_id: str, body: bytes, url: str, tenant: str, *,
                 ttl_seconds: int = RECORD_TTL_SECONDS, now: float | None = None) -> bool:
    """Create the delivery record; False if this event already has one (nothing to do)."""
    now = time.time() if now is None else now
    event = json.loads(body)
    record = {
        "event_id": event_id,
        "type": event.get("type"),
        "url": url,
        "tenant": tenant,
        "body": body.decode("utf-8"),
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
        "last_error": None,
        "last_status_code": None,
        "delivered_at": None,
        "history": [],
    }
    return bool(client.set(record_key(event_id), json.dumps(record), nx=True, ex=ttl_seconds))


def load_record(client: redis.Redis, event_id: str) -> dict[str, Any] | None:
    raw = client.get(record_key(event_id))
    return json.loads(raw) if raw else None


def _save_record(client: redis.Redis, record: dict[str, Any]) -> None:
    client.set(record_key(record["event_id"]), json.dumps(record), xx=True, keepttl=True)


def mark_enqueued(client: redis.Redis, event_id: str, ttl_seconds: int = RECORD_TTL_SECONDS) -> None:
    """Note that a delivery task for this event is in the queue (see `needs_enqueue`)."""
    client.set(record_key(event_id) + ":enqueued", str(time.time()), ex=ttl_seconds)


def needs_enqueue(client: redis.Redis, event_id: str) -> bool:
    """True if the record exists and is pending but no task was ever handed to the queue
    (the process died between `enqueue_once` and sending the task)."""
    record = load_record(client, event_id)
    return (record is not None and record["status"] == "pending"
            and not client.exists(record_key(event_id) + ":enqueued"))


def iter_records(client: redis.Redis) -> Iterable[dict[str, Any]]:
    for key in client.scan_iter(match=RECORD_PREFIX + "evt_*", count=500):
        name = key.decode()
        if name.count(":") != 2:  # skip :lock / :enqueued companions
            continue
        raw = client.get(name)
        if raw:
            yield json.loads(raw)


# --------------------------------------------------------------------------- one attempt


@dataclass(frozen=True)
class AttemptResult:
    """What one HTTP attempt did."""

    delivered: bool
    retryable: bool
    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None
    address: str | None = None


def _retry_after(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return float(value.strip())
    return None


def _pinned_url(target: CheckedTarget, address: IPAddress) -> str:
    host = f"[{address}]" if address.version == 6 else str(address)
    default = 443 if target.scheme == "https" else 80
    netloc = host if target.port == default else f"{host}:{target.port}"
    path, _, query = target.path_and_query.partition("?")
    return urlunsplit((target.scheme, netloc, path, query, ""))


def _excerpt(response: httpx.Response) -> str:
    import httpx

    try:
        chunk = b""
        for part in response.iter_bytes():
            chunk += part
            if len(chunk) >= 200:
                break
        text = chunk[:200].decode("utf-8", "replace")
    except httpx.HTTPError:
        return ""
    text = re.sub(r"\s+", " ", text).strip()
    return f": {text}" if text else ""


def deliver(record: dict[str, Any], secret: str | Sequence[str], timeout: float = DEFAULT_TIMEOUT_SECONDS, *,
            allow: str = "", now: float | None = None, dns_timeout: float = DNS_TIMEOUT_SECONDS,
            verify_tls: ssl.SSLContext | bool = True) -> AttemptResult:
    """One signed POST of the record's event; never raises for network or receiver errors.

    The URL is validated again (DNS may have changed since upload) and the request goes
    to a just-validated IP with the original Host header and TLS server name, so the
    connection can't be steered elsewhere. Redirects are not followed. 2xx = delivered;
    410 Gone = stop; anything else (3xx, 4xx, 5xx, timeouts, connection errors) = retry.
    `verify_tls` is httpx's `verify` (certifi's CAs by default; an SSLContext for a private CA).
    """
    try:
        target = check_callback_url(record["url"], allow, dns_timeout=dns_timeout)
    except CallbackRefused as exc:
        return AttemptResult(delivered=False, retryable=True, error=f"not sent: {exc}")
    body = record["body"].encode("utf-8")
    timestamp = int(time.time() if now is None else now)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        EVENT_ID_HEADER: record["event_id"],
        EVENT_TYPE_HEADER: record["type"],
        "Host": target.netloc,
    }
    extensions = {} if target.host_is_literal else {"sni_hostname": target.host}
    last_error = "no address to connect to"
    import httpx  # here, not at the top: a worker's start-up path should not pay ~50 ms for it

    # trust_env=False: no proxy from the environment may reroute (or reach inside) for us.
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, verify=verify_tls) as client:
        for address in target.addresses[:3]:
            request = client.build_request("POST", _pinned_url(target, address), content=body, headers=headers,
                                           extensions=extensions)
            try:
                response = client.send(request, stream=True)
            except httpx.ConnectError as exc:
                last_error = f"could not connect to {target.host} ({exc or 'connection refused'})"
                continue  # try the next validated address
            except httpx.TimeoutException:
                return AttemptResult(False, True, error=f"no answer from {target.host} within {timeout:g} s",
                                     address=str(address))
            except httpx.HTTPError as exc:
                return AttemptResult(False, True, error=f"request to {target.host} failed: {exc.__class__.__name__}: {exc}",
                                     address=str(address))
            try:
                code = response.status_code
                if 200 <= code < 300:
                    return AttemptResult(True, False, status_code=code, address=str(address))
                retry_after = _retry_after(response.headers.get("Retry-After"))
                if code == 410:
                    return AttemptResult(False, False, status_code=code, address=str(address),
                                         error="receiver answered 410 Gone; delivery stopped")
                if 300 <= code < 400:
                    error = (f"receiver answered {code} redirect to {response.headers.get('Location', '?')!r}; "
                             "redirects are not followed, configure the final URL")
                else:
                    error = f"receiver answered HTTP {code}{_excerpt(response)}"
                return AttemptResult(False, True, status_code=code, error=error, retry_after=retry_after,
                                     address=str(address))
            finally:
                response.close()
    return AttemptResult(False, True, error=last_error)


# --------------------------------------------------------------------------- the policy


def backoff_delay(failed_attempts: int, schedule: Sequence[float] = DEFAULT_SCHEDULE, *,
                  jitter: float = DEFAULT_JITTER, max_delay: float | None = None,
                  retry_after: float | None = None, rng: random.Random | None = None) -> float:
    """Seconds to wait after the `failed_attempts`-th failure (1-based); the schedule's last value repeats.

    A receiver's Retry-After is honoured when longer; `max_delay` (below the broker's
    visibility timeout) caps everything.
    """
    base = schedule[min(max(failed_attempts, 1), len(schedule)) - 1]
    delay = base * (1 + (rng or random).uniform(-jitter, jitter)) if jitter else float(base)
    if retry_after is not None:
        delay = max(delay, retry_after)
    if max_delay is not None:
        delay = min(delay, max_delay)
    return max(0.0, delay)


@dataclass(frozen=True)
class Outcome:
    """What `attempt_delivery` did: action is delivered | retry | failed | skipped."""

    event_id: str
    action: str
    attempts: int = 0
    retry_in: float | None = None
    status_code: int | None = None
    error: str | None = None


_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


def attempt_delivery(client: redis.Redis, event_id: str, *, allow: str = "",
                     max_attempts: int = DEFAULT_MAX_ATTEMPTS, timeout: float = DEFAULT_TIMEOUT_SECONDS,
                     schedule: Sequence[float] = DEFAULT_SCHEDULE, jitter: float = DEFAULT_JITTER,
                     max_delay: float | None = None, secrets: WebhookSecrets | None = None,
                     dns_timeout: float = DNS_TIMEOUT_SECONDS) -> Outcome:
    """Run one due attempt for `event_id` and record it; `retry_in` says when to run again.

    Safe under duplicate task messages: a per-event lock keeps two attempts from running
    at once, an attempt that is not yet due is skipped (the chain that scheduled it will
    come), and finished records are left alone.
    """
    lock_key = record_key(event_id) + ":lock"
    token = uuid.uuid4().hex
    if not client.set(lock_key, token, nx=True, ex=int(timeout * 3 + dns_timeout + 60)):
        return Outcome(event_id, "skipped", error="another attempt is running")
    try:
        record = load_record(client, event_id)
        if record is None:
            log.warning("webhook %s: no delivery record (expired or never created); dropping", event_id)
            return Outcome(event_id, "skipped", error="no record")
        if record["status"] != "pending":
            return Outcome(event_id, "skipped", attempts=record["attempts"], error=f"already {record['status']}")
        now = time.time()
        if now < record["next_attempt_at"] - EARLY_TOLERANCE_SECONDS:
            return Outcome(event_id, "skipped", attempts=record["attempts"], error="not due yet (duplicate message)")

        secret = (secrets or WebhookSecrets(client)).signing_secrets(record["tenant"])
        result = deliver(record, secret, timeout, allow=allow, dns_timeout=dns_timeout)

        attempts = record["attempts"] + 1
        done_at = time.time()
        record["attempts"] = attempts
        record["last_status_code"] = result.status_code
        record["last_error"] = result.error
        record["history"] = (record.get("history") or [])[-(MAX_HISTORY - 1):] + [
            {"at": done_at, "status_code": result.status_code, "error": result.error}]
        if result.delivered:
            record.update(status="delivered", delivered_at=done_at, next_attempt_at=None)
            outcome = Outcome(event_id, "delivered", attempts, status_code=result.status_code)
            log.info("webhook %s (%s) delivered on attempt %d", event_id, record["type"], attempts)
        elif not result.retryable or attempts >= max_attempts:
            reason = result.error if not result.retryable else f"gave up after {attempts} attempts: {result.error}"
            record.update(status="failed", last_error=reason, next_attempt_at=None)
            outcome = Outcome(event_id, "failed", attempts, status_code=result.status_code, error=reason)
            log.warning("webhook %s (%s) to tenant %s failed: %s", event_id, record["type"], record["tenant"], reason)
        else:
            delay = backoff_delay(attempts, schedule, jitter=jitter, max_delay=max_delay, retry_after=result.retry_after)
            record["next_attempt_at"] = done_at + delay
            outcome = Outcome(event_id, "retry", attempts, retry_in=delay, status_code=result.status_code,
                              error=result.error)
            log.info("webhook %s attempt %d/%d failed (%s); next in %.0f s", event_id, attempts, max_attempts,
                     result.error, delay)
        _save_record(client, record)
        return outcome
    finally:
        client.eval(_RELEASE, 1, lock_key, token)
