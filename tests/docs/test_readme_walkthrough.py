"""The README's integrator's walkthrough runs as written against the test stack (issue 19).

The commands are read from the walkthrough's shell block, not copied here, and run in order
by one `bash` with `set -euo pipefail`, in a folder that looks like the repository (its
top-level entries linked, so `answers.pdf` lands in the test's folder). Only what the README
tells the reader to set is replaced: `API` (the stack's URL) and `CALLBACK` (a receiver on
loopback, which the test stack allows: QAGEN_WEBHOOK_ALLOW=loopback). Everything else,
the operator's `.venv/bin/qagen keys create` included, runs as printed, with the stack's
environment. The test only observes: a `curl` function records each answer's status on
stderr (`-w`), markers separate the steps, and the upload command is sent a second time to
check the README's word that a retry with the same Idempotency-Key returns the same session.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid

import pytest

from qagen.webhooks import verify
from tests.docs.test_docs_match_code import REPO
from tests.webhooks.receiver import Receiver

README = REPO / "README.md"
READER_SETS = ("API", "CALLBACK")  # step 0's variables, which the README says to set
_MARK = "@@"


def walkthrough_block() -> str:
    readme = README.read_text()
    start = readme.index("### An integrator's walkthrough")
    section = readme[start:readme.index("\n### ", start + 1)]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def steps(block: str) -> dict[str, str]:
    """The block's text by step number ('0', '1', ...), from each `# N.` heading to the next."""
    parts = re.split(r"^# (\d+)\. ", block, flags=re.M)
    assert parts[0].strip() == "", "the block starts with its step 0"
    return {number: f"# {number}. {text}" for number, text in zip(parts[1::2], parts[2::2])}


def with_values(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text, count = re.subn(rf"^{name}=.*$", f"{name}={value}", text, flags=re.M)
        assert count == 1, f"the walkthrough sets {name} once, where the reader replaces it"
    return text


def logical_command(text: str, assigns: str) -> str:
    """The command (continuation lines included) that assigns the variable `assigns`."""
    found = re.search(rf"^{assigns}=(?:.*\\\n)*.*$", text, re.M)
    assert found, f"the walkthrough assigns {assigns}"
    return found.group(0)


def script(block: str, values: dict[str, str]) -> str:
    lines = ["set -euo pipefail", "exec 2>&1",
             # Observation only: every curl also reports its status (the last one, after -L) on stderr.
             f"curl() {{ command curl -w '%{{stderr}}{_MARK}http %{{http_code}}\\n' \"$@\"; }}"]
    for number, text in steps(block).items():
        lines += [f"echo '{_MARK}step {number}'", with_values(text, values) if number == "0" else text]
        if "Idempotency-Key" in text:  # the retry the README promises is safe
            lines += [f"echo '{_MARK}step {number}-retry'", "FIRST_SESSION=$SESSION", logical_command(text, "SESSION"),
                      f"echo \"{_MARK}same $FIRST_SESSION $SESSION\""]
    assigned = sorted(set(re.findall(r"^([A-Z_]+)=", block, re.M)))
    lines += [f"echo '{_MARK}step end'"] + [f"echo \"{_MARK}var {name}=${{{name}}}\"" for name in assigned]
    return "\n".join(lines) + "\n"


def outputs(text: str) -> dict[str, dict]:
    """Per step: its output `lines` (markers left out) and the `http` statuses of its curl commands."""
    found: dict[str, dict] = {}
    current = found.setdefault("preamble", {"lines": [], "http": []})
    for line in text.splitlines():
        if line.startswith(f"{_MARK}step "):
            current = found.setdefault(line.split()[1], {"lines": [], "http": []})
        elif line.startswith(f"{_MARK}http "):
            current["http"].append(int(line.split()[1]))
        else:
            current["lines"].append(line)
    return found


def json_lines(step: dict) -> list[dict]:
    return [json.loads(line) for line in step["lines"] if line.startswith("{")]


@pytest.fixture
def repository_folder(tmp_path):
    """A folder with the repository's top-level entries linked: the walkthrough's relative paths
    (.venv/bin/qagen, examples/...) work, and what it writes stays here."""
    for entry in REPO.iterdir():
        if entry.name != ".git":
            (tmp_path / entry.name).symlink_to(entry)
    return tmp_path


def test_the_walkthrough_is_a_sequence_of_steps_with_only_api_and_callback_to_set():
    block = walkthrough_block()
    numbered = list(steps(block))

    assert numbered == [str(n) for n in range(len(numbered))] and len(numbered) >= 8
    commands = "\n".join(line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#"))
    assert "uuidgen" not in commands and "6f5d" not in commands and "8d1c" not in commands  # ids come from answers
    assert "/proc/sys/kernel/random/uuid" in commands
    for name in READER_SETS:
        assert re.search(rf"^{name}=\S+$", steps(block)["0"], re.M), f"step 0 sets {name}"
    assert re.search(r"replace\s+(#\s+)?the example", steps(block)["0"]), "the README says CALLBACK is to be replaced"


def test_the_walkthrough_runs_as_written_against_the_stack(stack, repository_folder):
    with Receiver() as receiver:
        values = {"API": stack.layout.api_url, "CALLBACK": receiver.url("/qagen-hook")}
        run = subprocess.run(["bash", "-c", script(walkthrough_block(), values)], cwd=repository_folder,
                             env=stack.env, capture_output=True, text=True, timeout=240)
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
        out = outputs(run.stdout)
        assigned = dict(line.removeprefix(f"{_MARK}var ").split("=", 1) for line in out["end"]["lines"]
                        if line.startswith(f"{_MARK}var "))
        session = assigned["SESSION"]

        # 1. the operator's key; 2. the webhook secret
        assert assigned["KEY"].startswith("qk_")
        assert out["2"]["http"] == [200]
        secret = json_lines(out["2"])[0]["secret"]
        assert secret.startswith("whsec_")

        # 3. the notes (202, a knowledge base id); 4. the paper (202), and the retry: the same session
        assert out["3"]["http"] == [202] and uuid.UUID(assigned["KB"])
        assert out["4"]["http"] == [202] and uuid.UUID(session)
        assert out["4-retry"]["http"] == [202]
        assert f"{_MARK}same {session} {session}" in out["4-retry"]["lines"]

        # 5. the event stream ends with done (complete); the status says complete; the token
        assert out["5"]["http"] == [200, 200, 200]
        events = "\n".join(out["5"]["lines"])
        done = re.search(r"^event: done\n(?:id: .*\n)?data: (.*)$", events, re.M)
        assert done and json.loads(done.group(1))["status"] == "complete", events[-2000:]
        status, token = json_lines(out["5"])
        assert status["session_id"] == session and status["status"] == "complete" and status["progress"] == 100
        assert token["access_token"].startswith("qst_") and token["session_id"] == session

        # 6. the callback receives the signed session.complete event
        deliveries = [r for r in receiver.wait_for(1, timeout=30) if r.path == "/qagen-hook"]
        assert deliveries, "the callback received nothing"
        event = json.loads(deliveries[0].body)
        assert event["type"] == "session.complete" and event["data"]["session_id"] == session
        signature = {k.lower(): v for k, v in deliveries[0].headers.items()}["qagen-signature"]
        assert verify(secret, signature, deliveries[0].body)

    # 7. the PDF (302 followed to the signed URL: 200) and the answers as JSON
    assert out["7"]["http"] == [200, 200]
    assert (repository_folder / "answers.pdf").read_bytes()[:5] == b"%PDF-"
    result = json_lines(out["7"])[0]
    assert result["questions"] and all(q.get("answer") for q in result["questions"])
