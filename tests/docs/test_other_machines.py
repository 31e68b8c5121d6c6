"""The README's "Other machines: macOS and Windows" says what does not work natively, and why.

Each claim is checked here against the code on Linux by taking away what the other system
lacks: `os.fork` and the `resource` module (Windows), `/proc` (macOS); and against Celery's
solo pool, the one that runs on Windows.
"""

from __future__ import annotations

import builtins
import os
import re
import resource
import subprocess
import sys
import time

import pytest

from qagen.documents import sandbox
from qagen.settings import get_settings
from tests.docs.test_docs_match_code import REPO

MB = 1024 * 1024


def other_machines_section() -> str:
    readme = (REPO / "README.md").read_text()
    start = readme.index("### Other machines: macOS and Windows")
    return readme[start:readme.index("\n### ", start + 1)]


@pytest.fixture
def configured():
    """As in a worker pool process: reading runs in a forked child with 256 MB and 60 s."""
    sandbox.configure(256 * MB, 60)
    try:
        yield
    finally:
        sandbox.disable()


def _child_view() -> tuple[int, int]:
    return os.getpid(), resource.getrlimit(resource.RLIMIT_AS)[0]


def test_the_section_names_the_ways_to_run_and_the_linux_only_pieces():
    section = other_machines_section()

    for words in ("WSL2", "docker compose up", "docker-compose.yml", "fork", "RLIMIT_AS", "PR_SET_PDEATHSIG",
                  "/proc", "qagen/documents/sandbox.py", "--pool=solo", "prefork", "apt-get"):
        assert words in section, words


def test_on_linux_the_child_is_bounded_in_memory(configured):
    pid, limit = sandbox.bounded(_child_view)

    assert pid != os.getpid()
    assert limit != resource.RLIM_INFINITY and limit <= sandbox._address_space() + 256 * MB + 64 * MB


def test_without_proc_as_on_macos_the_child_still_reads_but_without_a_memory_bound(configured, monkeypatch):
    real_open = builtins.open

    def no_proc(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(path).startswith("/proc/"):
            raise FileNotFoundError(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(sandbox, "open", no_proc, raising=False)  # the module's `open`, in the child too

    pid, limit = sandbox.bounded(_child_view)

    assert pid != os.getpid(), "still read in a forked child, with its deadline"
    assert limit == resource.getrlimit(resource.RLIMIT_AS)[0], "no memory bound: the parent's limit, unchanged"


def test_without_fork_as_on_windows_files_are_read_in_the_worker_process_unbounded(configured, monkeypatch):
    monkeypatch.delattr(os, "fork")

    assert sandbox.bounded(os.getpid) == os.getpid()


def test_the_sandbox_module_imports_without_the_posix_resource_module():
    """Windows has no `resource`; the readers import the sandbox, so it must still import."""
    code = "import sys; sys.modules['resource'] = None; import qagen.documents.sandbox as s; print(s.resource)"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None"


def test_the_solo_pool_configures_the_sandbox_but_runs_jobs_in_its_own_process_without_time_limits():
    import worker.recovery  # noqa: F401  (connects worker_process_init to the sandbox's configuration)
    from celery.concurrency.solo import TaskPool

    sandbox.disable()
    try:
        pool = TaskPool()
        settings = get_settings()
        assert sandbox.limits() == (settings.parse_memory_mb * MB, float(settings.parse_timeout_seconds))

        results = []
        started = time.monotonic()
        pool.apply_async(lambda: (time.sleep(0.3), os.getpid())[1], callback=results.append,
                         soft_timeout=0.01, timeout=0.05)
        assert results == [os.getpid()], "one job at a time, in the worker's own process"
        assert time.monotonic() - started >= 0.3, "the time limits were not enforced"
        assert pool.info["max-tasks-per-child"] is None
    finally:
        sandbox.disable()


def test_the_section_says_time_limits_are_lost_with_the_solo_pool():
    section = re.sub(r"\s+", " ", other_machines_section())

    assert "no soft or hard time limits" in section
    assert "QAGEN_WORKER_MAX_TASKS_PER_CHILD" in section
