"""Health probe for a Celery worker, from its heartbeat on the broker (no `celery inspect ping`).

    python /opt/qagen/worker_probe.py --ready      # startup/readiness: heartbeat seen
    python /opt/qagen/worker_probe.py --live       # liveness: heartbeat seen, or broker down

A worker started with `-E` publishes a `worker-heartbeat` event every 2 seconds from its
main process, busy or idle, on the Redis channel `/<db>.celeryev/worker.heartbeat` (kombu's
fanout for the `celeryev` exchange). This probe subscribes, waits up to `--timeout` seconds
for one from this node (`celery@<hostname>` unless `--node`), and exits 0 if it comes.

`celery inspect ping` instead imports the app, broadcasts on the control exchange and waits
for replies: about 3 s of CPU per call (field notes §2.4), and it fails for every worker
when the broker blips, so a liveness probe built on it restarts healthy pods during a Redis
outage. Here liveness fails only if Redis answers and this node's heartbeat does not: a
stuck main process. When Redis itself is unreachable, liveness passes (restarting the
worker would not help) and readiness fails (it cannot take work).

Costs one Python start, one Redis connection and a few ms of CPU. Reads QAGEN_REDIS_URL
through qagen's settings, like the worker.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from base64 import b64decode
from urllib.parse import urlparse

import redis

from qagen.settings import get_settings


def heartbeat_channel(redis_url: str) -> str:
    path = urlparse(redis_url).path.strip("/")
    db = int(path) if path.isdigit() else 0
    return f"/{db}.celeryev/worker.heartbeat"


def _hostname(message: bytes) -> str | None:
    try:
        envelope = json.loads(message)
        body = envelope["body"]
        if envelope.get("properties", {}).get("body_encoding") == "base64":
            body = b64decode(body)
        return json.loads(body).get("hostname")
    except (ValueError, KeyError, TypeError):
        return None


def check(node: str, timeout: float, live: bool) -> tuple[bool, str]:
    settings = get_settings()
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=timeout + 2)
    try:
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(heartbeat_channel(settings.redis_url))
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = pubsub.get_message(timeout=left)
            if message and message["type"] == "message" and _hostname(message["data"]) == node:
                return True, f"heartbeat from {node}"
        return False, f"no heartbeat from {node} within {timeout:.0f} s"
    except redis.RedisError as exc:
        # Not this worker's fault: restarting it would not bring the broker back.
        return live, f"broker unreachable ({type(exc).__name__}); {'live' if live else 'not ready'}"
    finally:
        client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Celery worker probe from its broker heartbeat.")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--live", action="store_true", help="pass when the broker is unreachable")
    mode.add_argument("--ready", action="store_true", help="fail when the broker is unreachable")
    parser.add_argument("--node", default=f"celery@{socket.gethostname()}", help="worker node name")
    parser.add_argument("--timeout", type=float, default=7.0, help="seconds to wait (heartbeats come every 2 s)")
    args = parser.parse_args(argv)
    ok, why = check(args.node, args.timeout, live=args.live)
    print(why)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
