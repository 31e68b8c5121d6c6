#!/bin/sh
# The worker image's entrypoint (installed as /usr/local/bin/qagen-worker).
#
# `exec` replaces this shell with Celery, so Celery's main process keeps this PID (PID 1 in a
# container) and receives SIGTERM itself: a warm shutdown that lets running jobs finish.
# Without `exec`, sh would be PID 1, ignore SIGTERM, and the worker would be SIGKILLed at the
# end of the grace period with its jobs half done.
#
# QAGEN_WORKER_CONCURRENCY and QAGEN_LOG_LEVEL are qagen settings (qagen/settings.py); the
# defaults here are the settings' defaults. The worker consumes the settings' queue
# (QAGEN_QUEUE is Celery's task_default_queue). Extra arguments are appended.
set -eu
exec celery -A worker worker \
    --loglevel "${QAGEN_LOG_LEVEL:-INFO}" \
    --concurrency "${QAGEN_WORKER_CONCURRENCY:-2}" \
    -E --without-mingle --without-gossip \
    "$@"
