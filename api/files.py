"""Uploaded files: names made safe, content checked, before anything is stored."""

from __future__ import annotations

import re
import unicodedata

from werkzeug.datastructures import FileStorage

from api.errors import ApiError
from qagen.errors import EmptyFile, UnsupportedFileType
from qagen.parsing.filetypes import sniff_kind

CONTENT_TYPES = {"pdf": "application/pdf", "text": "text/plain; charset=utf-8", "image": "application/octet-stream",
                 "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


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
