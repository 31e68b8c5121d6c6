"""S3Storage against the real SeaweedFS server, read back by an independent client (minio)."""

from __future__ import annotations

import pytest
from minio import Minio

from qagen.errors import NotFound, TransientError
from qagen.settings import Settings
from qagen.storage import S3Storage, content_disposition


@pytest.fixture
def minio_client(settings):
    return Minio(settings.s3_endpoint.removeprefix("http://"), access_key=settings.s3_access_key,
                 secret_key=settings.s3_secret_key.get_secret_value(), secure=False)


def test_what_s3storage_writes_another_client_reads(storage, minio_client, settings):
    storage.put("tests/contract.txt", "é ünïcode".encode(), "text/plain")

    response = minio_client.get_object(settings.s3_bucket, "tests/contract.txt")

    assert response.read() == "é ünïcode".encode()
    assert response.headers["Content-Type"] == "text/plain"


def test_a_missing_key_is_notfound(storage):
    assert not storage.exists("tests/never-written")
    with pytest.raises(NotFound):
        storage.get("tests/never-written")


def test_an_unreachable_server_is_a_transient_error():
    dead = S3Storage.from_settings(Settings(s3_endpoint="http://127.0.0.1:9"), timeout_seconds=0.5, attempts=1)

    with pytest.raises(TransientError):
        dead.put("k", b"v")


def test_signed_urls_are_signed_for_the_public_endpoint(settings):
    public = S3Storage.from_settings(settings.model_copy(update={"s3_public_endpoint": "https://files.example.org"}))

    url = public.signed_url("results/x/answers.pdf", 900, "Physics – paper.pdf")

    assert url.startswith("https://files.example.org/")
    assert "X-Amz-Expires=900" in url


def test_content_disposition_keeps_non_ascii_names():
    header = content_disposition('Fïsica "final".pdf')

    assert header.startswith('attachment; filename="F_sica final.pdf"')
    assert "filename*=UTF-8''F%C3%AFsica%20%22final%22.pdf" in header


def test_puts_do_not_wait_for_a_100_continue(storage):
    """SeaweedFS sometimes never answers `Expect: 100-continue`, stalling a put ~1 s."""
    sent = []
    storage.client.meta.events.register("before-send.s3.PutObject", lambda request, **_: sent.append(request.headers))

    storage.put("tests/no-expect.bin", b"x" * 2_000_000)

    assert sent and all("Expect" not in headers for headers in sent)
