"""What the processes that read untrusted files may see of the service's environment.

A worker's environment holds the keys to everything: `QAGEN_REDIS_URL` (with its password),
`QAGEN_S3_ACCESS_KEY`/`QAGEN_S3_SECRET_KEY`, and a hosted model's key (`OPENAI_API_KEY`, ...).
The readers of uploads (pdfium, lxml, Pillow, Tesseract's Leptonica) are C code fed hostile
input, so the processes running them get an allow-list instead:

- `safe_environment()`: the environment a program such as Tesseract is started with: only
  the variables in `ALLOWED` (and `LC_*`), nothing else. `tesseract` sees no key.
- `scrub_process()`: called first thing in the parse sandbox's forked child
  (`qagen.documents.sandbox`). It removes every other variable from `os.environ` and the C
  environment, blanks them in the process's original environment block too (which is what
  `/proc/<pid>/environ` shows, to this process and to any other process of the same user,
  and which `unsetenv` leaves untouched), and cuts the child off the parent's open network
  connections (an authenticated Redis connection is as good as its password): each socket
  descriptor is replaced by /dev/null, so the number stays taken and nothing is reused.

What this does not do: a forked child is a copy of its parent's memory, where the settings
and clients still hold the keys; code running inside the child (an exploited reader) could
read them there. Reading needs no keys, so a reader that also cannot be exploited into
running code is the other half of the defence (the sandbox's limits, docs/reliability.md).
"""

from __future__ import annotations

import ctypes
import os
import stat

# Enough to run a program and read files: locale, time zone, temporary files, Tesseract's
# data and threads, matplotlib's and fontconfig's caches (read-only root filesystem).
ALLOWED = frozenset({
    "PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "LD_LIBRARY_PATH",
    "TESSDATA_PREFIX", "OMP_THREAD_LIMIT",
    "MPLCONFIGDIR", "XDG_CACHE_HOME", "FONTCONFIG_PATH", "FONTCONFIG_FILE",
})
ALLOWED_PREFIXES = ("LC_",)


def allowed(name: str) -> bool:
    return name in ALLOWED or name.startswith(ALLOWED_PREFIXES)


def safe_environment(**extra: str) -> dict[str, str]:
    """The allowed part of this process's environment, plus `extra` (e.g. OMP_THREAD_LIMIT="1")."""
    env = {name: value for name, value in os.environ.items() if allowed(name)}
    env.update(extra)
    return env


def scrub_process(keep_fds: tuple[int, ...] = ()) -> None:
    """Leave this process (a forked reader) only the allowed variables and no network connection."""
    for name in [name for name in os.environ if not allowed(name)]:
        del os.environ[name]  # also unsetenv(3): the C environment, for libraries and exec
    _blank_original_environment()
    _drop_sockets(keep_fds)


def _blank_original_environment() -> None:
    """Overwrite the disallowed NAME=value strings where the kernel put them at exec time."""
    try:
        with open("/proc/self/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        # Fields 50 and 51 of proc(5) (3 is the first after the command name): env_start, env_end.
        start, end = int(fields[47]), int(fields[48])
    except (OSError, IndexError, ValueError):
        return  # no /proc (macOS): os.environ is clean, the block cannot be found
    if not 0 < start < end:
        return
    block = ctypes.string_at(start, end - start)
    offset = 0
    for entry in block.split(b"\0"):
        name = entry.split(b"=", 1)[0].decode("utf-8", "replace")
        if entry and not allowed(name):
            ctypes.memset(start + offset, 0, len(entry))
        offset += len(entry) + 1


def _drop_sockets(keep_fds: tuple[int, ...]) -> None:
    try:
        descriptors = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:
        return
    null = None
    try:
        for fd in descriptors:
            if fd in keep_fds or fd <= 2:
                continue
            try:
                is_socket = stat.S_ISSOCK(os.fstat(fd).st_mode)
            except OSError:
                continue  # closed meanwhile (listdir's own descriptor)
            if is_socket:
                if null is None:
                    null = os.open(os.devnull, os.O_RDWR)
                os.dup2(null, fd, inheritable=False)
    finally:
        if null is not None:
            os.close(null)
