"""Uploads up to 2 MiB stay in memory while the request is parsed; bigger ones spool to disk."""

from __future__ import annotations

import io

from flask import request

from api import create_app
from api.files import IN_MEMORY_UPLOAD_BYTES


def _stream_of_an_upload(settings, size: int):
    app = create_app(settings)
    data = {"file": (io.BytesIO(b"%PDF-1.4\n" + b"0" * size), "paper.pdf")}
    with app.test_request_context("/api/v1/upload", method="POST", data=data, content_type="multipart/form-data"):
        upload = request.files["file"]
        return upload.stream, upload.read()


def test_a_typical_paper_is_parsed_in_memory(settings):
    stream, content = _stream_of_an_upload(settings, 1024 * 1024)
    assert not stream._rolled and len(content) == 1024 * 1024 + 9


def test_a_large_upload_still_goes_to_disk_while_it_is_parsed(settings):
    stream, content = _stream_of_an_upload(settings, IN_MEMORY_UPLOAD_BYTES + 1)
    assert stream._rolled and len(content) == IN_MEMORY_UPLOAD_BYTES + 10
