"""The event streams' guards (api/streams.py) piece by piece, on real sockets and the test stack's Redis.

The whole of it, against a running API with 40 streams open, is in the fault suite
(tests/reliability/test_stream_caps.py).
"""

from __future__ import annotations

import socket
import time
import uuid
from types import SimpleNamespace

from api import gunicorn_conf
from api.streams import EXTENSION, Guard, Stream, StreamSlots, TenantStreams, fit_to_threads, tenant_key


def _stream(sock: socket.socket | None, redis_client, tenant: str = "t") -> Stream:
    return Stream(StreamSlots(1), TenantStreams(redis_client, 5), tenant, "s1", heartbeat_seconds=5, sock=sock)


def test_a_wait_ends_as_soon_as_the_client_closes_its_connection(redis_client):
    server, client = socket.socketpair()
    with server:
        stream = _stream(server, redis_client)
        started = time.monotonic()
        assert stream.wait(0.2) is True  # the client is there: the whole wait
        assert time.monotonic() - started >= 0.19
        client.close()
        started = time.monotonic()
        assert stream.wait(5.0) is False
        assert time.monotonic() - started < 0.5


def test_bytes_from_the_client_are_not_a_goodbye(redis_client):
    server, client = socket.socketpair()
    with server, client:
        client.sendall(b"GET / HTTP/1.1\r\n")
        started = time.monotonic()
        assert _stream(server, redis_client).wait(0.2) is True
        assert time.monotonic() - started >= 0.19  # no busy loop on a socket that stays readable
        assert server.recv(100).startswith(b"GET")  # nothing was consumed


def test_a_keep_alive_is_due_once_per_quiet_period(redis_client):
    stream = _stream(None, redis_client)
    stream.heartbeat_seconds = 0.1
    assert not stream.heartbeat_due()
    time.sleep(0.12)
    assert stream.heartbeat_due() and not stream.heartbeat_due()


def test_a_process_admits_its_limit_and_never_waits():
    slots = StreamSlots(2)
    assert slots.take() and slots.take() and not slots.take()
    slots.give_back()
    assert slots.take()


def test_a_tenant_holds_its_cap_across_processes_and_expired_leases_do_not_count(redis_client):
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    # Two processes' views of the same tenant: the cap is the fleet's.
    one, two = TenantStreams(redis_client, 3), TenantStreams(redis_client, 3)
    assert one.admit(tenant, "a") and two.admit(tenant, "b") and one.admit(tenant, "c")
    assert not two.admit(tenant, "d") and one.count(tenant) == 3
    # A stream of a process that died: its lease ran out.
    redis_client.zadd(tenant_key(tenant), {"a": time.time() - 1})
    assert two.admit(tenant, "d")
    one.release(tenant, "b")
    assert one.admit(tenant, "e") and not one.admit(tenant, "f")
    assert 0 < redis_client.ttl(tenant_key(tenant)) <= 120


def test_closing_gives_the_slot_and_the_lease_back_once(redis_client):
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    slots, tenants = StreamSlots(1), TenantStreams(redis_client, 1)
    assert slots.take() and tenants.admit(tenant, "s1")
    stream = Stream(slots, tenants, tenant, "s1", heartbeat_seconds=5)
    stream.close()
    stream.close()
    assert slots.open == 0 and tenants.count(tenant) == 0


def test_streams_get_only_the_threads_beyond_the_request_threads(redis_client):
    app = SimpleNamespace(extensions={EXTENSION: Guard(StreamSlots(32), TenantStreams(redis_client, 20), 5)})
    assert fit_to_threads(app, 48, 16) == 32
    assert fit_to_threads(app, 20, 16) == 4  # GUNICORN_CMD_ARGS="--threads 20"
    assert fit_to_threads(app, 1, 16) == 0  # a sync worker: one thread, no streams


def test_gunicorn_gives_each_process_its_request_threads_plus_the_stream_threads():
    from qagen.settings import get_settings

    assert gunicorn_conf.threads == gunicorn_conf.request_threads + get_settings().sse_streams_per_process
