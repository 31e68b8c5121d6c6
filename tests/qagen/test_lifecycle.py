"""Data lifecycle on the real stack (qagen.lifecycle): the sweep of unreferenced objects,
`qagen tenants delete`, and the bucket expiry rule a worker sets at start-up. What is left
in the bucket is read by an independent S3 client (minio)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import httpx
import pytest
from minio import Minio

from qagen.apikeys import ApiKeyStore
from qagen.jobs.records import index_for, key_for, object_prefix
from qagen.knowledge.store import KnowledgeBaseStore, prefix_for
from qagen.lifecycle import EXPIRY_RULE_ID, expiry_days
from tests.api.test_knowledge import NOTES, PAPER, wait_until_indexed
from tests.conftest import REPO
from tests.waiting import wait_for_session


@pytest.fixture(scope="module")
def minio_client(settings) -> Minio:
    return Minio(settings.s3_endpoint.removeprefix("http://"), access_key=settings.s3_access_key,
                 secret_key=settings.s3_secret_key.get_secret_value(), secure=False)


def in_bucket(minio_client, settings, prefix: str) -> set[str]:
    return {o.object_name for o in minio_client.list_objects(settings.s3_bucket, prefix=prefix, recursive=True)}


def qagen(stack, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qagen.cli", *args], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, **stack.layout.settings_overrides()}, timeout=timeout)


def tenant_client(stack, key: str) -> httpx.Client:
    return httpx.Client(base_url=stack.layout.api_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def answered(client, **headers: str) -> str:
    response = client.post("/api/v1/upload", files={"file": ("quiz.txt", PAPER)}, headers=headers)
    assert response.status_code == 202, response.text
    session_id = response.json()["session_id"]
    assert wait_for_session(client, session_id)["status"] == "complete"
    return session_id


def ready_knowledge_base(client) -> str:
    response = client.post("/api/v1/knowledge", data={"name": "notes"}, files={"file": ("notes.md", NOTES)})
    assert response.status_code == 202, response.text
    kb_id = response.json()["knowledge_base_id"]
    assert wait_until_indexed(client, kb_id)["status"] == "ready"
    return kb_id


def test_the_sweep_removes_what_no_live_session_or_base_references_and_keeps_the_rest(
        stack, client, storage, redis_client, minio_client, settings):
    live_session = answered(client)
    kb_id = ready_knowledge_base(client)
    live = in_bucket(minio_client, settings, object_prefix("tests", live_session)) | \
        in_bucket(minio_client, settings, prefix_for("tests", kb_id))
    # An upload refused after it was stored (no record was ever written), a session whose
    # record expired (old layout and new), a deleted base's documents, a leftover in a
    # finished session's folder and a base's index replaced by a newer one.
    orphans = {f"{object_prefix('sweep-t', str(uuid.uuid4()))}input/refused.pdf",
               f"{object_prefix('tests', str(uuid.uuid4()))}answers.pdf",
               f"tenants/sweep-t/sessions/{uuid.uuid4()}/result.json",
               f"{prefix_for('sweep-t', str(uuid.uuid4()))}docs/abc/notes.md",
               f"{object_prefix('tests', live_session)}stray.bin",
               f"{prefix_for('tests', kb_id)}index/replaced.bin"}
    for key in orphans:
        storage.put(key, b"x")
    # Another tenant must not own a session's folder by naming it.
    foreign = f"{object_prefix('sweep-other', live_session)}input/paper.pdf"
    storage.put(foreign, b"x")
    time.sleep(6)
    dry = qagen(stack, "sweep", "--grace", "5", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert orphans | {foreign} <= set(dry.stdout.split())
    assert in_bucket(minio_client, settings, "") >= orphans  # a dry run removes nothing
    young = f"{object_prefix('sweep-t', str(uuid.uuid4()))}input/in-flight.pdf"
    storage.put(young, b"x")

    swept = qagen(stack, "sweep", "--grace", "5")

    assert swept.returncode == 0, swept.stderr
    remaining = in_bucket(minio_client, settings, "")
    assert not (orphans | {foreign}) & remaining
    assert live <= remaining and young in remaining
    assert "Swept:" in swept.stderr
    assert client.get(f"/api/v1/sessions/{live_session}/result.json").status_code == 200
    answered_with_notes = client.post("/api/v1/upload", data={"knowledge_base": kb_id}, files={"file": ("q.txt", PAPER)})
    assert wait_for_session(client, answered_with_notes.json()["session_id"])["status"] == "complete"


def test_tenants_delete_removes_keys_sessions_bases_records_and_objects(stack, client, redis_client, minio_client,
                                                                       settings):
    tenant = f"doomed-{uuid.uuid4().hex[:6]}"
    key = ApiKeyStore(redis_client).create(tenant)
    with tenant_client(stack, key) as doomed:
        session_id = answered(doomed, **{"Idempotency-Key": "once"})
        kb_id = ready_knowledge_base(doomed)
        assert doomed.get("/api/v1/webhook-secret").status_code == 200
    kept_session = answered(client)
    assert in_bucket(minio_client, settings, f"sessions/{tenant}/") and in_bucket(minio_client, settings,
                                                                                   f"tenants/{tenant}/")
    refused = qagen(stack, "tenants", "delete", "*")
    assert refused.returncode == 2  # never a pattern
    # A key under the bases' prefix that is not a base's record (qagen:kb:indexing is a sorted set).
    odd = f"qagen:kb:odd-{uuid.uuid4().hex[:6]}"
    redis_client.zadd(odd, {"x": 1})

    # Its limits and usage (the upload above counted a paper).
    assert qagen(stack, "tenants", "set", tenant, "--monthly-papers", "50", "--max-running", "2").returncode == 0
    assert list(redis_client.scan_iter(match=f"qagen:usage:{tenant}:*"))

    result = qagen(stack, "tenants", "delete", tenant, "--yes")
    redis_client.delete(odd)

    assert result.returncode == 0, result.stderr
    assert "1 key(s), 1 session(s), 1 knowledge base(s)" in result.stdout
    with tenant_client(stack, key) as doomed:
        assert doomed.get("/api/v1/sessions").status_code == 401
    assert in_bucket(minio_client, settings, f"sessions/{tenant}/") == set()
    assert in_bucket(minio_client, settings, f"tenants/{tenant}/") == set()
    assert not redis_client.exists(key_for(session_id), index_for(tenant), f"qagen:kb:{kb_id}")
    assert list(redis_client.scan_iter(match=f"qagen:tenant:{tenant}:*")) == []
    assert list(redis_client.scan_iter(match=f"qagen:idempotency:{tenant}:*")) == []
    assert not redis_client.sismember("qagen:tenants", tenant)
    assert list(redis_client.scan_iter(match=f"qagen:usage:{tenant}:*")) == []
    assert not redis_client.sismember("qagen:usage:tenants", tenant)
    assert not redis_client.exists(f"qagen:tenant-limits:{tenant}")
    assert not redis_client.hexists("qagen:fair:max-running", tenant)
    assert tenant not in qagen(stack, "tenants", "list").stdout.split()
    with pytest.raises(Exception):
        KnowledgeBaseStore(redis_client).fetch(kb_id)
    # Nobody else's data moved.
    assert client.get(f"/api/v1/sessions/{kept_session}").json()["status"] == "complete"
    assert len(in_bucket(minio_client, settings, object_prefix("tests", kept_session))) == 3


def test_a_worker_sets_the_buckets_expiry_rule_at_start(settings, minio_client):
    deadline = time.monotonic() + 30
    while True:
        config = minio_client.get_bucket_lifecycle(settings.s3_bucket)
        rules = {rule.rule_id: rule for rule in (config.rules if config else [])}
        if EXPIRY_RULE_ID in rules or time.monotonic() > deadline:
            break
        time.sleep(0.5)

    rule = rules[EXPIRY_RULE_ID]
    assert rule.status == "Enabled"
    assert rule.rule_filter.prefix == "sessions/"
    assert rule.expiration.days == expiry_days(settings.session_ttl_seconds) == 8


def test_expiry_days_outlast_the_session_record():
    assert expiry_days(7 * 86400) == 8
    assert expiry_days(3600) == 2
    assert all(expiry_days(ttl) * 86400 > ttl for ttl in (3600, 86400, 86401, 604800))
