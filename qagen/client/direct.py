"""A direct upload (docs/direct-uploads.md): the file goes from here straight to the bucket.

`QagenClient.upload(..., direct=True)` calls `upload_direct`: ask the API for a presigned form,
POST the file to the bucket with it (no API key: the form is the permission), then ask the API to
make the session. The Idempotency-Key of the upload is sent, suffixed, with both API requests, so
retrying the whole upload with the same key makes no second session.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

from qagen.client.errors import QagenAPIError, QagenConnectionError
from qagen.client.models import Submission
from qagen.client.retries import backoff

# `client` below is the calling QagenClient (not imported: qagen.client.client imports this module).

_S3_CODE = re.compile(r"<Code>([^<]+)</Code>")
_S3_MESSAGE = re.compile(r"<Message>([^<]*)</Message>")


def upload_direct(client: Any, data: bytes, name: str, *, key: str, knowledge_base: str | None = None,
                  callback_url: str | None = None, review: bool = False) -> Submission:
    form = client._request("POST", "/api/v1/uploads/direct", headers={"Idempotency-Key": f"{key}:form"},
                           idempotent=True).json()
    if len(data) > int(form.get("max_bytes") or len(data)):
        raise QagenAPIError(413, "payload_too_large",
                            f"The file is {len(data)} bytes; the server takes at most {form['max_bytes']}.")
    send_to_bucket(client, form, data, name)
    fields: dict[str, Any] = {"filename": name}
    fields.update({k: v for k, v in {"knowledge_base": knowledge_base, "callback_url": callback_url,
                                     "review": "true" if review else None}.items() if v})
    response = client._request("POST", f"/api/v1/uploads/direct/{form['upload_id']}/session", json=fields,
                               headers={"Idempotency-Key": f"{key}:session"}, idempotent=True)
    return Submission.from_dict(response.json(), idempotency_key=key)


def send_to_bucket(client: Any, form: dict, data: bytes, name: str) -> None:
    """POST the file with the form's fields (the file last, as S3 requires); the bucket's refusal
    (e.g. 400 EntityTooLarge, 403 an expired form) raised as a `QagenAPIError` with S3's code.
    Sending the same file again to the same key is harmless, so failures of the bucket are retried."""
    for attempt in range(client.max_retries + 1):
        last = attempt >= client.max_retries
        try:
            # No auth: the key goes to the API only, never to the storage host.
            response = client._http.post(form["url"], data=form["fields"], files={"file": (name, data)}, auth=None,
                                         headers={"Accept": "*/*"})
        except httpx.TransportError as exc:
            if last:
                raise QagenConnectionError(f"Could not send the file to the storage host: {exc}") from exc
            time.sleep(backoff(attempt))
            continue
        if response.status_code < 300:
            return
        if response.status_code >= 500 and not last:
            time.sleep(backoff(attempt))
            continue
        code = _S3_CODE.search(response.text)
        message = _S3_MESSAGE.search(response.text)
        said = message.group(1) if message else response.text[:200]
        raise QagenAPIError(response.status_code, code.group(1) if code else f"http_{response.status_code}",
                            f"The storage host refused the file: {said}")
    raise AssertionError("unreachable")
