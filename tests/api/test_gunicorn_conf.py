"""gunicorn's settings for the API (api/gunicorn_conf.py)."""

from __future__ import annotations

import gc
import importlib


def test_a_worker_freezes_what_the_loaded_app_holds_once_it_is_loaded():
    conf = importlib.import_module("api.gunicorn_conf")
    assert conf.worker_class == "api.gunicorn_worker.JsonErrorWorker" and conf.accesslog is None
    assert not hasattr(conf, "post_fork")  # gunicorn loads the app after post_fork: too early to freeze
    gc.unfreeze()
    try:
        conf.post_worker_init(worker=None)
        assert gc.get_freeze_count() > 10_000  # this test process's imports, as a worker's app
    finally:
        gc.unfreeze()
