"""GET /api/v1/knowledge on the real stack: a tenant's bases newest first, page by page, and
nobody else's; bases made before the per-tenant index are listed too."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from qagen.apikeys import ApiKeyStore
from qagen.knowledge.store import BACKFILLED_KEY, KnowledgeBase, KnowledgeBaseStore, key_for, tenant_index_for
from qagen.lifecycle import delete_tenant

NOTES = b"# Stacks\n\nA stack is a last-in, first-out structure: push adds on top, pop removes the top.\n"


@pytest.fixture
def tenant_client(stack, redis_client):
    """`tenant_client()` -> (tenant, an httpx client with a key of a new tenant of its own)."""
    opened: list[httpx.Client] = []

    def make() -> tuple[str, httpx.Client]:
        tenant = f"kb-list-{uuid.uuid4().hex[:8]}"
        key = ApiKeyStore(redis_client).create(tenant)
        c = httpx.Client(base_url=stack.layout.api_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        opened.append(c)
        return tenant, c

    yield make
    for c in opened:
        c.close()


def create_base(c: httpx.Client, name: str) -> str:
    response = c.post("/api/v1/knowledge", data={"name": name}, files={"file": (f"{name}.md", NOTES)})
    assert response.status_code == 202, response.text
    return response.json()["knowledge_base_id"]


def listing(c: httpx.Client, **params) -> dict:
    response = c.get("/api/v1/knowledge", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_tenants_bases_are_listed_newest_first_page_by_page(tenant_client):
    _, c = tenant_client()
    made = [create_base(c, f"notes-{n}") for n in range(5)]

    pages, cursor = [], None
    while True:
        body = listing(c, limit=2, **({"cursor": cursor} if cursor else {}))
        pages.append([kb["knowledge_base_id"] for kb in body["knowledge_bases"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert pages == [made[4:2:-1], made[2:0:-1], made[0:1]]
    first = listing(c, limit=1)["knowledge_bases"][0]
    assert first["name"] == "notes-4" and first["documents"][0]["filename"] == "notes-4.md"
    assert first["status"] in ("indexing", "ready") and first["created_at"].endswith("Z")


def test_another_tenant_sees_none_of_them(tenant_client):
    _, owner = tenant_client()
    _, other = tenant_client()
    kb_id = create_base(owner, "private")

    assert listing(other)["knowledge_bases"] == [] and listing(other)["next_cursor"] is None
    assert [kb["knowledge_base_id"] for kb in listing(owner)["knowledge_bases"]] == [kb_id]
    assert other.get(f"/api/v1/knowledge/{kb_id}").status_code == 404


def test_a_deleted_base_leaves_the_listing_and_the_tenants_index(tenant_client, redis_client):
    tenant, c = tenant_client()
    kept, doomed = create_base(c, "kept"), create_base(c, "doomed")

    assert c.delete(f"/api/v1/knowledge/{doomed}").status_code == 204

    assert [kb["knowledge_base_id"] for kb in listing(c)["knowledge_bases"]] == [kept]
    assert redis_client.zscore(tenant_index_for(tenant), doomed) is None


@pytest.mark.parametrize("cursor", ["nope", "nan:x", "inf:x", "1.5", "1.5:", ":abc", "-1e400:x"])
def test_a_cursor_the_api_did_not_write_is_400_bad_cursor(client, cursor):
    response = client.get("/api/v1/knowledge", params={"cursor": cursor})

    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "bad_cursor"


@pytest.mark.parametrize("limit", [0, 101, "x"])
def test_a_limit_outside_1_to_100_is_400(client, limit):
    assert client.get("/api/v1/knowledge", params={"limit": limit}).status_code == 400


def test_bases_with_the_same_creation_time_are_all_listed_once(tenant_client, redis_client):
    """The cursor is (time, id): bases created in the same instant are not skipped at a page's edge."""
    tenant, c = tenant_client()
    store = KnowledgeBaseStore(redis_client)
    ids = [store.create(tenant, f"same-{n}").id for n in range(5)]
    for kb_id in ids:  # the same score for all five
        redis_client.zadd(tenant_index_for(tenant), {kb_id: 1_700_000_000.5})

    seen, cursor = [], None
    while True:
        body = listing(c, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [kb["knowledge_base_id"] for kb in body["knowledge_bases"]]
        if not (cursor := body["next_cursor"]):
            break

    assert sorted(seen) == sorted(ids) and len(seen) == 5


def test_a_base_made_before_the_tenant_index_existed_is_listed(tenant_client, redis_client):
    tenant, c = tenant_client()
    old = KnowledgeBase(id=str(uuid.uuid4()), tenant=tenant, name="from last year", created_at=time.time() - 86400)
    KnowledgeBaseStore(redis_client)._save(old)  # the record alone, as the store wrote it before the index
    redis_client.delete(BACKFILLED_KEY)  # as on the first listing after an upgrade

    body = listing(c)

    assert [kb["knowledge_base_id"] for kb in body["knowledge_bases"]] == [old.id]
    assert redis_client.exists(BACKFILLED_KEY)
    redis_client.delete(key_for(old.id))


def test_deleting_the_tenant_removes_its_index(stack, tenant_client, redis_client, storage):
    tenant, c = tenant_client()
    create_base(c, "gone soon")
    assert redis_client.zcard(tenant_index_for(tenant)) == 1

    delete_tenant(redis_client, storage, tenant)

    assert not redis_client.exists(tenant_index_for(tenant))
