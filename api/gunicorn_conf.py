"""gunicorn settings for the API (`gunicorn -c python:api.gunicorn_conf "api:create_app()"`).

Threaded workers: a live-progress stream (SSE) holds its connection for minutes, which
would occupy a whole sync worker. gunicorn's own variables still apply on top
(PORT/--bind, WEB_CONCURRENCY for processes, GUNICORN_CMD_ARGS).
"""

import os

worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
timeout = 60
graceful_timeout = 25
keepalive = 5
# The path without its query string: an EventSource or download link may carry the API
# key as ?access_token=, which must never reach a log.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'
