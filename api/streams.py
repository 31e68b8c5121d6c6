"""Event streams that cannot starve the API (issue 16).

A live-progress stream (`GET /api/v1/sessions/<id>/events`) holds its connection for up to
`QAGEN_SSE_MAX_SECONDS`, and under gunicorn's gthread worker a thread with it. 32 streams
once took every thread of the API (2 processes x 16), so /healthz and every other tenant's
requests timed out. Three guards:

- **Threads of their own.** api/gunicorn_conf.py gives each process `GUNICORN_THREADS`
  request threads plus `QAGEN_SSE_STREAMS_PER_PROCESS` threads for streams, and
  `StreamSlots` admits at most that many streams per process (fewer if gunicorn was given
  fewer threads: `fit_to_threads`, called once the worker has loaded the app). However many
  streams are open, the request threads stay free for everything else.
- **Caps.** Beyond the process's slots, or beyond `QAGEN_SSE_STREAMS_PER_TENANT` streams of
  one tenant across the whole fleet (a lease per stream in a Redis sorted set, renewed while
  it lives and given up when it ends, so the streams of a killed process expire), a stream is
  refused with 429, `Retry-After` and the usual JSON error. The web page and the Python
  client then poll the status instead.
- **Gone clients.** A stream waits between its polls of the session on its own socket
  (`poll` with POLLRDHUP), so a client that closes the connection (or the Ingress closing
  it for the client) ends the stream at once rather than at its next write; a keep-alive
  comment every `QAGEN_SSE_HEARTBEAT_SECONDS` makes a write fail where no close arrives.

docs/reliability.md ("Event streams") has the measurements and why not an evented worker.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field

from flask import current_app, request

from api.errors import ApiError

log = logging.getLogger(__name__)

EXTENSION = "qagen.streams"
LEASE_SECONDS = 30.0  # a stream's tenant lease outlives it by this much if its process dies
RENEW_SECONDS = 5.0
KEY_TTL_SECONDS = int(LEASE_SECONDS * 4)  # a tenant's set outlives its last live stream by this much
RETRY_AFTER_SECONDS = 10  # a stream's slot frees when a session finishes or a client leaves

_RDHUP = getattr(select, "POLLRDHUP", 0)  # Linux: the peer closed its side
_GONE = select.POLLHUP | select.POLLERR | select.POLLNVAL | _RDHUP

# Drop expired leases, then add this one if the tenant has room. KEYS[1] the tenant's set;
# ARGV: now, the lease's expiry, the cap, the stream's id, the key's TTL (s).
_ADMIT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


def tenant_key(tenant: str) -> str:
    # Under the tenant's own prefix: deleting a tenant removes it with the rest.
    return f"qagen:tenant:{tenant}:streams"


class StreamSlots:
    """The streams one process serves at once (a counter, not a semaphore: never waits)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.open = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.open >= self.limit:
                return False
            self.open += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.open = max(0, self.open - 1)


class TenantStreams:
    def __init__(self, redis, limit: int):
        self.redis = redis
        self.limit = limit
        self._admit = redis.register_script(_ADMIT)

    def admit(self, tenant: str, stream_id: str) -> bool:
        now = time.time()
        return bool(self._admit(keys=[tenant_key(tenant)],
                                args=[now, now + LEASE_SECONDS, self.limit, stream_id, KEY_TTL_SECONDS]))

    def renew(self, tenant: str, stream_id: str) -> None:
        key = tenant_key(tenant)
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(key, {stream_id: time.time() + LEASE_SECONDS})
        pipe.expire(key, KEY_TTL_SECONDS)
        pipe.execute()

    def release(self, tenant: str, stream_id: str) -> None:
        try:
            self.redis.zrem(tenant_key(tenant), stream_id)
        except Exception:  # it expires after LEASE_SECONDS
            log.warning("could not release the lease of stream %s", stream_id)

    def count(self, tenant: str) -> int:
        return int(self.redis.zcount(tenant_key(tenant), time.time(), "+inf"))


@dataclass
class Stream:
    """One admitted stream: its process slot, its tenant lease and its client's socket."""

    slots: StreamSlots
    tenants: TenantStreams
    tenant: str
    stream_id: str
    heartbeat_seconds: float
    sock: socket.socket | None = None
    renewed: float = field(default_factory=time.monotonic)
    written: float = field(default_factory=time.monotonic)
    closed: bool = False
    _peekable: bool = True

    def wait(self, seconds: float) -> bool:
        """Sleep `seconds`, or less if the client goes away; False once it has gone."""
        self._renew()
        if self.sock is None or self.closed:
            time.sleep(seconds)
            return not self.closed
        try:
            poller = select.poll()
            poller.register(self.sock.fileno(), select.POLLIN | _RDHUP)
            events = poller.poll(seconds * 1000)
        except (OSError, ValueError):  # the socket is closed already
            return False
        started = time.monotonic()
        for _fd, mask in events:
            if mask & _GONE:
                return False
            if mask & select.POLLIN and not self._has_data():
                return False  # readable with nothing to read: end of file
        if events:  # the client sent bytes (no POLLRDHUP here); wait out the rest
            time.sleep(max(0.0, seconds - (time.monotonic() - started)))
        return True

    def _has_data(self) -> bool:
        if _RDHUP or not self._peekable:
            return True
        try:
            return bool(self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
        except BlockingIOError:
            return True
        except ValueError:  # TLS sockets take no flags: rely on the heartbeat's writes
            self._peekable = False
            return True
        except OSError:
            return False

    def heartbeat_due(self) -> bool:
        """True (once per period) when nothing was written for `heartbeat_seconds`."""
        if time.monotonic() - self.written < self.heartbeat_seconds:
            return False
        self.wrote()
        return True

    def wrote(self) -> None:
        self.written = time.monotonic()

    def _renew(self) -> None:
        if time.monotonic() - self.renewed < RENEW_SECONDS:
            return
        self.renewed = time.monotonic()
        try:
            self.tenants.renew(self.tenant, self.stream_id)
        except Exception:  # Redis briefly down: the session's own fetch reports it
            log.warning("could not renew the lease of stream %s", self.stream_id)

    def close(self) -> None:
        """Give the slot and the lease back (the response's close: runs once, however the stream ended)."""
        if self.closed:
            return
        self.closed = True
        self.slots.give_back()
        self.tenants.release(self.tenant, self.stream_id)


@dataclass
class Guard:
    slots: StreamSlots
    tenants: TenantStreams
    heartbeat_seconds: float


_CREATING = threading.Lock()


def guard_for(app) -> Guard:
    """The app's stream guard, made on first use from its settings and Redis."""
    guard = app.extensions.get(EXTENSION)
    if guard is None:
        with _CREATING:
            guard = app.extensions.get(EXTENSION)
            if guard is None:
                services = app.extensions["qagen"]
                settings = services.settings
                guard = Guard(StreamSlots(settings.sse_streams_per_process),
                              TenantStreams(services.redis, settings.sse_streams_per_tenant),
                              settings.sse_heartbeat_seconds)
                app.extensions[EXTENSION] = guard
    return guard


def fit_to_threads(app, threads: int, request_threads: int) -> int:
    """Keep `request_threads` of a gunicorn worker's `threads` for other routes: streams get the
    rest at most (none under a worker with one thread). Returns the process's stream limit."""
    guard = guard_for(app)
    room = max(0, threads - request_threads)
    if room < guard.slots.limit:
        log.warning("gunicorn has %d threads: %d streams per process instead of QAGEN_SSE_STREAMS_PER_PROCESS=%d, "
                    "so that %d threads stay for other requests", threads, room, guard.slots.limit, request_threads)
        guard.slots.limit = room
    return guard.slots.limit


def _client_socket() -> socket.socket | None:
    sock = request.environ.get("gunicorn.socket")
    return sock if isinstance(sock, socket.socket) else None


def open_stream(tenant: str) -> Stream:
    """Admit a stream for `tenant` in this process, or raise 429 (the response's close must call `Stream.close`)."""
    guard = guard_for(current_app)
    retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    stream_id = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    # The tenant's cap first: a tenant beyond it hears so, whichever process it reaches.
    if not guard.tenants.admit(tenant, stream_id):
        raise ApiError(429, "too_many_streams", f"This tenant has {guard.tenants.limit} event streams open, its "
                       "limit; close one, poll GET /api/v1/sessions/{id}, or retry later.", retry)
    if not guard.slots.take():
        guard.tenants.release(tenant, stream_id)
        raise ApiError(429, "streams_full", "This server is serving as many event streams as it can; poll "
                       "GET /api/v1/sessions/{id} or retry the stream later.", retry)
    return Stream(guard.slots, guard.tenants, tenant, stream_id, guard.heartbeat_seconds, _client_socket())
