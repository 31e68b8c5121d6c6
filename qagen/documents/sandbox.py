"""Read untrusted documents in a forked child with bounded memory and time.

A one-megabyte PDF can inflate to gigabytes (a FlateDecode bomb), and pdfium, lxml and
Pillow allocate in C where no Python check reaches. So a worker that reads uploads calls
`configure(memory_bytes, timeout_seconds)` once (the Celery worker does it for each of
its processes), and from then on `bounded(fn, ...)` runs `fn` in a fork of the calling
process with:

- `RLIMIT_AS` = the address space it already has + `memory_bytes`: an allocation past it
  fails (MemoryError in Python, an abort or a crash in C) in the child only;
- a wall-clock deadline (and `RLIMIT_CPU` a little above it): past it the child is killed;
- `PR_SET_PDEATHSIG`, so the child dies with its parent (a killed worker leaves no orphan),
  and a high `oom_score_adj`, so the kernel's OOM killer picks the child first;
- none of the service's secrets in its environment, and none of its parent's network
  connections (`qagen.documents.environment.scrub_process`: an allow-list of variables).

The result (or the InputError) comes back pickled through a pipe. Whatever kills the child
becomes an `InputError` with a message for the user; the worker process itself never sees
the allocation. Unconfigured (the CLI, the tests), `bounded` just calls `fn`.

Linux only, fully: without `os.fork` (Windows) `bounded` calls `fn` unbounded, and without
/proc (macOS) the child is bounded in time but not in memory (its address space cannot be
measured, and neither `prctl` nor `oom_score_adj` exists there).
"""

from __future__ import annotations

import ctypes
import faulthandler
import os
import pickle
import select
import signal
import time
from collections.abc import Callable
from typing import Any, TypeVar

try:
    import resource
except ImportError:  # Windows, which has no os.fork either: `bounded` never forks there
    resource = None  # type: ignore[assignment]

from qagen.errors import InputError
from qagen.documents.environment import scrub_process
from qagen.documents.errors import TooComplex

T = TypeVar("T")
_limits: tuple[int, float] | None = None  # (extra bytes of address space or 0, seconds)
_PR_SET_PDEATHSIG = 1


def configure(memory_bytes: int, timeout_seconds: float) -> None:
    """Run every later `bounded` call in a child with these limits (memory 0 = unbounded memory)."""
    global _limits
    _limits = (max(0, int(memory_bytes)), float(timeout_seconds))


def disable() -> None:
    global _limits
    _limits = None


def limits() -> tuple[int, float] | None:
    return _limits


def bounded(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    if _limits is None or not hasattr(os, "fork"):
        return fn(*args, **kwargs)
    memory, timeout = _limits
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        _child(fn, args, kwargs, write_fd, memory, timeout)
    os.close(write_fd)
    try:
        payload = _read_all(read_fd, time.monotonic() + timeout)
    except TimeoutError:
        _kill(pid)
        raise TooComplex(f"Reading the file took longer than {timeout:.0f} s, the limit; it is too large or too "
                         "complex for a paper or notes. Upload only the pages needed, as a plain PDF.") from None
    except BaseException:  # e.g. SoftTimeLimitExceeded while waiting: the child must not outlive us
        _kill(pid)
        raise
    finally:
        os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    if payload:
        try:
            kind, value = pickle.loads(payload)
        except Exception:
            kind, value = "crash", None
    else:
        kind, value = "crash", None
    if kind == "ok":
        return value
    if kind == "input":
        raise value
    if kind == "memory" or (kind == "crash" and _memory_death(status)):
        raise TooComplex(_memory_message(memory))
    if kind == "crash":
        what = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit status {os.waitstatus_to_exitcode(status)}"
        raise TooComplex(f"The file crashed the document reader ({what}); it is damaged or built to attack readers. "
                         "Re-export it as a plain PDF and upload it again.")
    raise RuntimeError(f"reading the document failed: {value}")


def _child(fn, args, kwargs, write_fd: int, memory: int, timeout: float) -> None:  # type: ignore[no-untyped-def]
    code = 0
    try:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGQUIT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        faulthandler.disable()  # an allocator's abort here is expected, not worth a stack dump
        _die_with_parent()
        _prefer_for_oom_kill()
        scrub_process(keep_fds=(write_fd,))  # no S3, Redis or model keys for the readers
        base = _address_space() if memory else None
        if base is not None:
            limit = base + memory
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        cpu = int(timeout) + 5
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        try:
            result: tuple[str, Any] = ("ok", fn(*args, **kwargs))
        except InputError as exc:
            result = ("input", exc)
        except MemoryError:
            result = ("memory", None)
        except BaseException as exc:  # a bug, reported to the parent as text
            result = ("error", f"{type(exc).__name__}: {exc}")
        try:
            payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            payload = pickle.dumps(("memory", None))
        except Exception as exc:
            payload = pickle.dumps(("error", f"unpicklable result: {exc}"))
        view = memoryview(payload)
        while view:
            written = os.write(write_fd, view)
            view = view[written:]
    except BaseException:
        code = 70
    finally:
        os._exit(code)  # no atexit handlers, no flushing of the parent's buffers


def _read_all(fd: int, deadline: float) -> bytes:
    chunks = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        ready, _, _ = select.select([fd], [], [], min(remaining, 1.0))
        if not ready:
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _memory_death(status: int) -> bool:
    """Killed by the OOM killer (SIGKILL) or an allocator's abort/trap once the address space ran out."""
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGKILL, signal.SIGABRT, signal.SIGSEGV,
                                                               signal.SIGBUS, signal.SIGTRAP, signal.SIGILL)


def _memory_message(memory: int) -> str:
    limit = f"{memory // (1024 * 1024)} MB" if memory else "the memory available"
    return (f"Reading the file needed more than {limit} of memory; a paper or notes need far less, so the file is "
            "damaged or built to inflate (for example a compressed stream that expands to gigabytes). Re-export "
            "it as a plain PDF and upload it again.")


def _address_space() -> int | None:
    """This process's address space in bytes, or None without /proc (macOS): then no memory bound."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[0])
    except OSError:
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _prefer_for_oom_kill() -> None:
    try:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("1000")
    except OSError:
        pass
