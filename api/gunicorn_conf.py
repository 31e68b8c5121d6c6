"""gunicorn settings for the API (`gunicorn -c python:api.gunicorn_conf "api:create_app()"`).

Threaded workers: a live-progress stream (SSE) holds its connection for minutes, which
would occupy a whole sync worker. Each process has GUNICORN_THREADS threads for requests
plus QAGEN_SSE_STREAMS_PER_PROCESS for event streams, which are admitted up to that number
only (api/streams.py): open streams never take the threads other requests need.
gunicorn's own variables still apply on top (PORT/--bind, WEB_CONCURRENCY for processes,
GUNICORN_CMD_ARGS).
"""

import os

from qagen.settings import get_settings

# gunicorn's gthread worker, whose own refusals (a bad header, an over-long request line)
# are JSON like every other error of the API (api/gunicorn_worker.py).
worker_class = "api.gunicorn_worker.JsonErrorWorker"
request_threads = int(os.environ.get("GUNICORN_THREADS", "16"))
threads = request_threads + get_settings().sse_streams_per_process
timeout = 60
graceful_timeout = 25
keepalive = 5
# No gunicorn access log: the app logs each request itself as JSON with the session id,
# and without the query string (an EventSource or download link may carry ?access_token=).
accesslog = None

# Request metrics from every worker process are pooled in files here (prometheus_client's
# multiprocess mode); the directory must exist, empty, before the workers import the app.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    import tempfile

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="qagen-metrics-")


def when_ready(server):
    # /metrics on its own port (QAGEN_METRICS_BIND), served by this master process, which
    # reads every worker's histogram file: one scrape covers all workers, and the workers'
    # port (the one the Ingress routes to) has no /metrics.
    try:
        from api.metrics import serve_from_settings

        serve_from_settings()
    except Exception:  # the API must serve without its metrics
        server.log.exception("metrics listener not started")


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    # The app is loaded now and lives as long as the process: keep the garbage collector
    # from walking it again on every full collection (~60-95 ms pauses, measured). Not in
    # post_fork: gunicorn loads the app after that hook, which froze only a third of it.
    import gc

    gc.freeze()
    # Streams get only the threads beyond the request threads, whatever gunicorn was finally
    # given (GUNICORN_CMD_ARGS="--threads N"; a sync worker has one thread: no streams).
    from gunicorn.workers.gthread import ThreadWorker
    from gunicorn.workers.sync import SyncWorker

    if isinstance(worker, (ThreadWorker, SyncWorker)):
        from api.streams import fit_to_threads

        fit_to_threads(worker.wsgi, worker.cfg.threads if isinstance(worker, ThreadWorker) else 1, request_threads)
