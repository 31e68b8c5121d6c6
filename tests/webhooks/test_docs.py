"""The receiver code in docs/webhooks.md works: it verifies what qagen signs and rejects tampering."""

from __future__ import annotations

import re
import shutil
import subprocess
import time

import pytest

from qagen.webhooks import sign
from tests.conftest import REPO

DOC = (REPO / "docs" / "webhooks.md").read_text()
SECRET = "whsec_doc-test"
BODY = '{"id":"evt_1","type":"session.complete","data":{"filename":"é.pdf"}}'.encode()


def _block(language: str, starts_with: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.S)
    return next(b for b in blocks if b.startswith(starts_with))


def test_the_python_verifier_in_the_docs_agrees_with_qagen():
    namespace: dict = {}
    exec(_block("python", "import hashlib"), namespace)  # noqa: S102 (our own documentation)
    verify = namespace["verify"]
    now = int(time.time())
    header = sign([SECRET, "whsec_old"], now, BODY)

    assert verify(SECRET, header, BODY)
    assert verify("whsec_old", header, BODY)
    assert not verify(SECRET, header, BODY + b" ")
    assert not verify(SECRET, sign(SECRET, now - 301, BODY), BODY)


@pytest.mark.skipif(shutil.which("php") is None, reason="php is not installed")
def test_the_php_verifier_in_the_docs_agrees_with_qagen(tmp_path):
    php = _block("php", "<?php")
    function = php[: php.index("// In the plugin")]
    script = tmp_path / "verify.php"
    script.write_text(function + "echo qagen_verify($argv[1], $argv[2], file_get_contents($argv[3])) ? 'yes' : 'no';\n")
    body_file = tmp_path / "body.json"
    body_file.write_bytes(BODY)

    def run(secret: str, header: str) -> str:
        return subprocess.run(["php", str(script), secret, header, str(body_file)], capture_output=True, text=True,
                              check=True).stdout

    now = int(time.time())
    assert run(SECRET, sign(SECRET, now, BODY)) == "yes"
    assert run("whsec_old", sign([SECRET, "whsec_old"], now, BODY)) == "yes"
    assert run("whsec_other", sign(SECRET, now, BODY)) == "no"
    assert run(SECRET, sign(SECRET, now - 400, BODY)) == "no"
