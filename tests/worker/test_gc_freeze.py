"""A pool process freezes its libraries once, after its first paper (worker/gc_freeze.py)."""

from __future__ import annotations

import gc

import pytest

from worker import gc_freeze
from worker.tasks import index_knowledge_base, process_question_paper


@pytest.fixture
def fresh_process():
    gc.unfreeze()
    gc_freeze._frozen = False
    yield
    gc.unfreeze()
    gc_freeze._frozen = False


def test_only_a_paper_job_freezes_and_only_the_first_time(fresh_process):
    gc_freeze.freeze_after_first_paper(sender=index_knowledge_base)
    assert gc.get_freeze_count() == 0  # an indexing job is not what loads the pipeline

    gc_freeze.freeze_after_first_paper(sender=process_question_paper)
    frozen = gc.get_freeze_count()
    assert frozen > 10_000

    gc.unfreeze()
    gc_freeze.freeze_after_first_paper(sender=process_question_paper)
    assert gc.get_freeze_count() == 0  # once per process: the second paper changes nothing


def test_the_worker_app_loads_the_hook():
    from worker.celery_app import app

    assert "worker.gc_freeze" in app.conf.include
