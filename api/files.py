"""Uploaded files: names made safe, content checked, before anything is stored."""

from __future__ import annotations

import re
import tempfile
import unicodedata

from flask import Request
from werkzeug.datastructures import FileStorage

from api.errors import ApiError
from qagen.errors import EmptyFile, UnsupportedFileType
from qagen.documents.filetypes import sniff_kind

CONTENT_TYPES = {"pdf": "application/pdf", "text": "text/plain; charset=utf-8", "image": "application/octet-stream",
                 "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


# Werkzeug spools uploads over 500 KB to a temporary file on disk. The API reads every
# upload into memory anyway (to check it, then to store it), so for a typical paper the
# disk round trip is pure cost (and a latency tail when the disk is busy); beyond this
# size, the file still goes to disk until it is read.
IN_MEMORY_UPLOAD_BYTES = 2 * 1024 * 1024


class UploadRequest(Request):
    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):  # type: ignore[no-untyped-def]
        return tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_UPLOAD_BYTES, mode="rb+")


def safe_filename(name: str | None) -> str:
    """A name safe for an object key and a download header: no paths, no control characters."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = re.sub(r"[\x00-\x1f\x7f\"<>|*?:]", "", name).strip(" .")
    return name[:120] or "paper"


def read_upload(file: FileStorage) -> tuple[str, bytes, str]:
    """(safe name, bytes, kind) of an uploaded file; 400 when empty, 415 when not a kind we read."""
    name = safe_filename(file.filename)
    data = file.read()
    if not data:
        raise ApiError(400, "empty_file", f"The uploaded file {name!r} is empty.")
    try:
        kind = sniff_kind(data)
    except EmptyFile as exc:
        raise ApiError(400, "empty_file", f"The uploaded file {name!r} has no content.") from exc
    except UnsupportedFileType as exc:
        raise ApiError(415, "unsupported_media_type", str(exc)) from exc
    return name, data, kind
