"""The processes that read uploads see none of the service's secrets (issue 16).

A worker's environment holds the Redis URL with its password, the S3 keys and the model's
key. The parse sandbox's forked child and the Tesseract it starts get an allow-list of
variables instead, and the child gets none of its parent's network connections. Each test
runs a fresh Python process whose *initial* environment carries the secrets, as a worker's
does (variables set later with os.environ never reach /proc/<pid>/environ, so setting them
in this process would prove nothing about that file).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from qagen.documents.environment import allowed, safe_environment

SECRETS = {
    "QAGEN_REDIS_URL": "redis://:redis-password-4f1c@redis:6379/0",
    "QAGEN_S3_ACCESS_KEY": "s3-access-key-9a7e",
    "QAGEN_S3_SECRET_KEY": "s3-secret-key-22d0",
    "OPENAI_API_KEY": "sk-model-key-71b3",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-5e6f",
}


def _run(script: str, tmp_path) -> dict:
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "HOME": str(tmp_path), **SECRETS}
    code = textwrap.dedent(script)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                            cwd=os.getcwd())
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _leaked(text: str) -> list[str]:
    return [name for name, value in SECRETS.items() if value in text or value.encode().hex() in text]


def test_the_parse_childs_environment_holds_no_secret_and_its_parents_connections_are_gone(tmp_path):
    seen = _run("""
        import json, os, socket
        from qagen.documents import sandbox

        assert os.environ["QAGEN_S3_SECRET_KEY"]  # the worker process itself has them
        parent_end, child_end = socket.socketpair()  # stands for the worker's Redis connection

        def look():
            with open("/proc/self/environ", "rb") as handle:
                proc_environ = handle.read().decode("utf-8", "replace")
            try:
                child_end.send(b"AUTH stolen")
                sent = True
            except OSError:
                sent = False
            return {"os_environ": dict(os.environ), "proc_environ": proc_environ, "getenv": os.getenv("OPENAI_API_KEY"),
                    "sent": sent, "shell": os.popen("env").read()}

        sandbox.configure(256 * 1024 * 1024, 30)
        result = sandbox.bounded(look)
        parent_end.setblocking(False)
        try:
            received = parent_end.recv(100).decode()
        except BlockingIOError:
            received = ""
        still = os.environ["QAGEN_S3_SECRET_KEY"]  # the worker keeps its own
        print(json.dumps({**result, "received": received, "parent_kept": still}))
    """, tmp_path)

    assert not _leaked(json.dumps(seen["os_environ"])), seen["os_environ"]
    assert not _leaked(seen["proc_environ"]), "the original environment block still shows them"
    assert not _leaked(seen["shell"]), "a program the child starts inherits them"
    assert seen["getenv"] is None
    assert set(seen["os_environ"]) == {"PATH", "LANG", "HOME"}  # what is allowed stays
    assert seen["received"] == "", "the child wrote to its parent's connection"
    assert seen["parent_kept"] == SECRETS["QAGEN_S3_SECRET_KEY"]


def test_tesseract_is_started_without_the_secrets(tmp_path):
    dump = tmp_path / "tesseract-env.txt"
    fake = tmp_path / "tesseract"  # records the environment it was given, then fails like a bad page
    fake.write_text(f"#!/bin/sh\nenv > {dump}\ncat /proc/$$/environ | tr '\\0' '\\n' >> {dump}\nexit 1\n")
    fake.chmod(0o755)
    seen = _run(f"""
        import json
        from qagen.documents import ocr, ruled, sandbox

        ocr.tesseract_path = lambda: {str(fake)!r}
        sandbox.configure(256 * 1024 * 1024, 30)
        lines = sandbox.bounded(ocr._run, b"not a png", 1, "eng", 10.0)
        first = open({str(dump)!r}).read()
        lines_unsandboxed = ocr._run(b"not a png", 1, "eng", 10.0)  # the CLI reads unsandboxed
        print(json.dumps({{"lines": lines + lines_unsandboxed, "env": first + open({str(dump)!r}).read()}}))
    """, tmp_path)

    assert seen["lines"] == []
    assert not _leaked(seen["env"]), seen["env"]
    assert "OMP_THREAD_LIMIT=1" in seen["env"] and "PATH=" in seen["env"]


def test_the_allow_list_keeps_what_programs_need_and_nothing_named_like_a_secret(monkeypatch):
    for name in ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "TESSDATA_PREFIX", "MPLCONFIGDIR"):
        assert allowed(name), name
    for name in (*SECRETS, "QAGEN_WEBHOOK_ALLOW", "REDIS_PASSWORD", "GUNICORN_CMD_ARGS", "LD_PRELOAD",
                 "PYTHONSTARTUP", "HTTPS_PROXY"):
        assert not allowed(name), name
    monkeypatch.setenv("QAGEN_S3_SECRET_KEY", "x")
    assert "QAGEN_S3_SECRET_KEY" not in safe_environment(OMP_THREAD_LIMIT="1")
