"""One webhook attempt: a signed POST to a just-validated address, with a deadline.

`deliver` checks the callback URL again (qagen.webhooks.addresses: DNS may have changed
since upload), connects only to an address that was just validated (the URL is pinned to
the IP; Host and TLS SNI keep the name), never follows redirects, and gives the whole
attempt a deadline of 3 x the timeout: httpx's timeouts are per connect and per read, so a
receiver answering one byte every few seconds would otherwise hold a dispatcher thread for
as long as it liked (one tenant slowing every tenant's webhooks). The signature is
qagen.webhooks.signing's.
"""

from __future__ import annotations

import re
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlunsplit

from qagen.webhooks.addresses import (DNS_TIMEOUT_SECONDS, CallbackRefused, CheckedTarget, IPAddress,
                                      check_callback_url)
from qagen.webhooks.signing import SIGNATURE_HEADER, sign

if TYPE_CHECKING:
    import httpx

USER_AGENT = "qagen-webhooks/1"
EVENT_ID_HEADER = "Qagen-Event-Id"
EVENT_TYPE_HEADER = "Qagen-Event-Type"
DEFAULT_TIMEOUT_SECONDS = 10.0
MAX_ADDRESSES = 3  # validated addresses tried in turn when connecting fails
DEADLINE_FACTOR = 3  # the whole attempt (every address, headers and the error excerpt) ends by then


def attempt_seconds(timeout: float = DEFAULT_TIMEOUT_SECONDS, dns_timeout: float = DNS_TIMEOUT_SECONDS) -> int:
    """The longest one attempt can take, with a margin: its lock's TTL and the dispatcher's claim.

    DNS, then the deadline, then at most one more socket timeout for the read the deadline
    interrupts, plus 10 s.
    """
    return int(dns_timeout + timeout * (DEADLINE_FACTOR + 1) + 10)


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
    410 Gone = stop; anything else (3xx, 4xx, 5xx, timeouts, connection errors, the
    deadline) = retry. `verify_tls` is httpx's `verify` (certifi's CAs by default; an
    SSLContext for a private CA).
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
    import httpx  # here, not at the top: a worker's start-up path should not pay ~50 ms for it

    deadline = timeout * DEADLINE_FACTOR
    expired = threading.Event()
    late = AttemptResult(False, True, error=f"no complete answer from {target.host} within {deadline:g} s "
                         "(the deadline of one attempt)")
    # trust_env=False: no proxy from the environment may reroute (or reach inside) for us.
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, verify=verify_tls) as client:
        def expire() -> None:  # closing the client's sockets ends the read in progress
            expired.set()
            client.close()

        timer = threading.Timer(deadline, expire)
        timer.daemon = True
        timer.start()
        try:
            return _send(client, target, body, headers, extensions, timeout, expired, late)
        except (httpx.HTTPError, RuntimeError):  # RuntimeError: the deadline closed the client between two sends
            if expired.is_set():
                return late
            raise
        finally:
            timer.cancel()


def _send(client: httpx.Client, target: CheckedTarget, body: bytes, headers: dict[str, str],
          extensions: dict[str, str], timeout: float, expired: threading.Event, late: AttemptResult) -> AttemptResult:
    import httpx

    last_error = "no address to connect to"
    for address in target.addresses[:MAX_ADDRESSES]:
        request = client.build_request("POST", _pinned_url(target, address), content=body, headers=headers,
                                       extensions=extensions)
        try:
            response = client.send(request, stream=True)
        except httpx.HTTPError as exc:
            if expired.is_set():
                return late
            if isinstance(exc, httpx.ConnectError):
                last_error = f"could not connect to {target.host} ({exc or 'connection refused'})"
                continue  # try the next validated address
            if isinstance(exc, httpx.TimeoutException):
                return AttemptResult(False, True, error=f"no answer from {target.host} within {timeout:g} s",
                                     address=str(address))
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
