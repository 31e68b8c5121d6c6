"""The worker's share of data lifecycle (qagen.lifecycle, docs/data.md).

A thread in each worker's main process (started on `worker_ready`, stopped on shutdown):
- at start, makes sure the bucket's lifecycle rule expires session objects a day after
  their records, and logs when the store refuses it (the sweep then does all the work);
- at start and every `sweep_interval_seconds` (±20%), sweeps the bucket: objects no live
  session or knowledge base references, older than an hour, are removed. A claim in Redis
  lets one worker of the fleet sweep per interval.

Kubernetes scales workers to zero when idle; a sweep missed meanwhile runs at the next
start, and the lifecycle rule expires session objects whatever runs.
"""

from __future__ import annotations

import logging
import random
import threading

from celery import signals

from qagen.redis_client import redis_from_settings
from qagen.settings import Settings, get_settings
from qagen.storage import S3Storage

log = logging.getLogger(__name__)


class Housekeeper(threading.Thread):
    def __init__(self, settings: Settings, hostname: str):
        super().__init__(name="qagen-housekeeping", daemon=True)
        self.settings = settings
        self.hostname = hostname
        self.stopped = threading.Event()

    def stop(self) -> None:
        self.stopped.set()

    def run(self) -> None:
        # Imported here, in the thread, not at load: the sweep's modules (knowledge bases, webhook
        # records) are ~40 ms that the worker's start-up path does not need (docs/performance.md).
        from qagen import lifecycle

        # Clients of this thread only: made here, after the pool forked, and never used by pool processes.
        redis = redis_from_settings(self.settings)
        storage = S3Storage.from_settings(self.settings)
        rule = lifecycle.ensure_expiry_rule(storage, self.settings.session_ttl_seconds)
        (log.info if rule.outcome != "refused" else log.warning)("%s: bucket expiry rule %s: %s", self.hostname,
                                                                  rule.outcome, rule.detail)
        interval = self.settings.sweep_interval_seconds
        if not interval:
            log.info("%s: the object sweep is off (QAGEN_SWEEP_INTERVAL_SECONDS=0)", self.hostname)
            return
        while True:
            try:
                report = lifecycle.sweep_if_due(redis, storage, interval, self.hostname)
                if report is not None:
                    log.info("%s: object sweep: %s", self.hostname, report.summary())
            except Exception as exc:  # S3 or Redis away: the next interval tries again
                log.warning("%s: object sweep failed: %s", self.hostname, exc)
            if self.stopped.wait(interval * random.uniform(0.8, 1.2)):
                return


_housekeeper: Housekeeper | None = None


@signals.worker_ready.connect
def _start(sender=None, **_):  # type: ignore[no-untyped-def]
    global _housekeeper
    _housekeeper = Housekeeper(get_settings(), getattr(sender, "hostname", None) or "worker")
    _housekeeper.start()


@signals.worker_shutdown.connect
def _stop(**_):  # type: ignore[no-untyped-def]
    if _housekeeper is not None:
        _housekeeper.stop()
