"""What qagen deletes, and when (docs/data.md).

- `delete_session`: a session's upload, PDF and result.json, then its record, its place in
  the tenant's list, its lease and watch entry, its webhook delivery records and its
  Idempotency-Key record, then whatever a run still wrote meanwhile. A running job is
  fenced: its lease and record are gone, so it stops at its next step, and a result it had
  already begun to write is removed either by the last listing here or by the worker
  itself, which checks the record after writing (worker/tasks.py): the record goes before
  that last listing, so one of the two always sees the other's write.
- `delete_tenant`: its keys first (nothing new can arrive), then its sessions, knowledge
  bases, webhook secret, idempotency and webhook records, and every object of its prefixes.
- `sweep`: removes the objects that no live session or knowledge base references (sessions
  that expired, uploads refused after storing, an index replaced by a newer one), once
  they are older than a grace period that covers a write in flight. Workers run it every
  `sweep_interval_seconds` (worker/housekeeping.py), and `qagen sweep` on demand.
- `ensure_expiry_rule`: the bucket lifecycle rule that expires session objects a day after
  their records, where the store accepts one; checked when a worker starts.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import redis

from qagen import quotas, usage
from qagen.apikeys import TENANTS, ApiKeyStore
from qagen.errors import SessionNotFound
from qagen.jobs.fairness import MAX_RUNNING_KEY
from qagen.jobs.fencing import fence_key
from qagen.jobs.leases import ACTIVE_KEY, CLAIM_PREFIX, lease_key
from qagen.jobs.records import SESSION_OBJECTS, Session, SessionStore, index_for, key_for, object_prefix
from qagen.knowledge.indexing import INDEX_LEASES
from qagen.knowledge.store import KEY_PREFIX as KB_PREFIX
from qagen.knowledge.store import KnowledgeBase, KnowledgeBaseStore
from qagen.lti import grants
from qagen.lti.registry import PlatformStore
from qagen.storage import S3Storage
from qagen.webhooks.deliveries import (EVENT_TYPES, FINAL_STATUSES, RECORD_PREFIX, SCHEDULE_KEY, event_id_for,
                                      record_key)

log = logging.getLogger(__name__)

EXPIRY_RULE_ID = "qagen-sessions"
ORPHAN_GRACE_SECONDS = 3600  # an object younger than this may belong to a write in flight: never swept
SWEEP_CLAIM_KEY = "qagen:sweep:claim"  # one sweep per interval, fleet-wide
IDEMPOTENCY_PREFIX = "qagen:idempotency:"  # + tenant + ":" + hash (api/idempotency.py)
_KNOWLEDGE = "tenants/"  # tenants/<tenant>/knowledge/<id>/...; also the sessions of the old layout
_DAY = 86400

# KEYS: the Idempotency-Key record. ARGV: the session id. Removed only if it is that session's
# (the key may have expired and been used again for a newer upload).
_FORGET_IDEMPOTENCY = """
local value = redis.call('get', KEYS[1])
if value and string.find(value, ARGV[1], 1, true) then return redis.call('del', KEYS[1]) end
return 0
"""


# ------------------------------------------------------------------------------ one session


def delete_session(client: redis.Redis, storage: S3Storage, session: Session) -> None:
    """Remove everything of `session` (docs/data.md); raises TransientError (S3) or a Redis
    error when the first steps fail, and then nothing of the record is gone yet: call again."""
    sid, tenant = session.id, session.tenant
    storage.delete_many(_session_objects(storage, session))
    events = [event_id_for(sid, status) for status in EVENT_TYPES]
    pipe = client.pipeline()
    pipe.delete(key_for(sid), lease_key(sid), fence_key(sid), CLAIM_PREFIX + sid, *(record_key(e) for e in events),
                *(record_key(e) + ":lock" for e in events))
    pipe.zrem(index_for(tenant), sid)
    pipe.zrem(ACTIVE_KEY, sid)
    pipe.zrem(SCHEDULE_KEY, *events)
    if session.idempotency_record:
        pipe.eval(_FORGET_IDEMPOTENCY, 1, session.idempotency_record, sid)
    pipe.execute()
    # A run that wrote after the first listing: the record is gone now, so this listing or the
    # run's own check after writing finds it. A failure here leaves orphans for the sweep.
    try:
        storage.delete_many(_session_objects(storage, session))
    except Exception as exc:
        log.warning("session %s: deleted, but its objects could not be listed again (the sweep removes "
                    "any left): %s", sid, exc)
    log.info("session %s of tenant %s deleted", sid, tenant)


def _session_objects(storage: S3Storage, session: Session) -> set[str]:
    keys = {k for k in (session.input_key, session.result_key, session.result_json_key, session.paper_key) if k}
    keys.update(storage.list_keys(object_prefix(session.tenant, session.id)))
    legacy = f"{_KNOWLEDGE}{session.tenant}/sessions/{session.id}/"
    if any(k.startswith(legacy) for k in keys):
        keys.update(storage.list_keys(legacy))
    return keys


# ------------------------------------------------------------------------------ a tenant


@dataclass
class TenantDeletion:
    keys: int = 0
    sessions: int = 0
    knowledge_bases: int = 0
    records: int = 0  # other Redis records: webhook secret, idempotency and webhook records, LTI deployments
    objects: int = 0


def delete_tenant(client: redis.Redis, storage: S3Storage, tenant: str) -> TenantDeletion:
    """Remove the tenant's keys, sessions, knowledge bases, records and objects (its name too)."""
    report = TenantDeletion()
    keys = ApiKeyStore(client)
    for key in keys.list(tenant):
        report.keys += keys.revoke(key.id)
    client.srem(TENANTS, tenant)
    # Its LMS deployments and teachers' launch tokens (docs/lti.md): no launch brings it back.
    report.records += PlatformStore(client).remove_tenant(tenant) + grants.revoke_tenant(client, tenant)

    sessions = SessionStore(client, ttl_seconds=3600)
    for raw_id in client.zrange(index_for(tenant), 0, -1):
        try:
            session = sessions.fetch(raw_id.decode())
        except SessionNotFound:  # expired: its objects go with the prefixes below
            continue
        if session.tenant == tenant:
            delete_session(client, storage, session)
            report.sessions += 1

    knowledge = KnowledgeBaseStore(client)
    for kb in _knowledge_bases(client, tenant):
        knowledge.delete(kb.id)
        client.delete(INDEX_LEASES.lease_prefix + kb.id)  # a build running now finds its base gone
        client.zrem(INDEX_LEASES.active_key, kb.id)
        report.knowledge_bases += 1

    # Its limits (quotas, running cap) and usage counts: a tenant created again under the same
    # name starts from nothing (read `qagen usage TENANT` first to keep the figures).
    report.records += client.delete(quotas.limits_key(tenant))
    report.records += client.hdel(MAX_RUNNING_KEY, tenant)
    client.srem(usage.TENANTS_KEY, tenant)
    for pattern in (f"qagen:tenant:{tenant}:*", f"{IDEMPOTENCY_PREFIX}{tenant}:*", f"{usage.PREFIX}{tenant}:*"):
        for name in client.scan_iter(match=pattern, count=1000):
            report.records += client.delete(name)
    for name in client.scan_iter(match=RECORD_PREFIX + "*", count=1000):
        raw = _string(client, name)
        if raw and _json_field(raw, "tenant") == tenant:
            report.records += client.delete(name)
            client.zrem(SCHEDULE_KEY, name.decode().removeprefix(RECORD_PREFIX))

    for prefix in (f"{SESSION_OBJECTS}{tenant}/", f"{_KNOWLEDGE}{tenant}/"):
        report.objects += storage.delete_many(storage.list_keys(prefix))
    log.info("tenant %s deleted: %s", tenant, report)
    return report


def _knowledge_bases(client: redis.Redis, tenant: str) -> Iterator[KnowledgeBase]:
    for name in client.scan_iter(match=KB_PREFIX + "*", count=1000):
        if b":" in name[len(KB_PREFIX):]:  # :run, :lock
            continue
        raw = _string(client, name)
        if raw and _json_field(raw, "tenant") == tenant:
            yield KnowledgeBase.from_json(raw)


def _string(client: redis.Redis, name: bytes) -> bytes | None:
    """The value of a string key; None for another type (qagen:kb:indexing is a sorted set) or none."""
    try:
        return client.get(name)
    except redis.ResponseError:
        return None


def _json_field(raw: bytes, name: str) -> object:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value.get(name) if isinstance(value, dict) else None


# ------------------------------------------------------------------------------ the sweep


@dataclass
class SweepReport:
    deleted: list[str] = field(default_factory=list)
    kept: int = 0
    young: int = 0  # unreferenced, but within the grace period
    unknown: int = 0  # outside the layout: left alone

    def summary(self) -> str:
        return (f"{len(self.deleted)} object(s) removed, {self.kept} kept, {self.young} unreferenced but younger "
                f"than the grace period, {self.unknown} outside qagen's layout left alone")


def sweep(client: redis.Redis, storage: S3Storage, *, grace_seconds: float = ORPHAN_GRACE_SECONDS,
          now: float | None = None, dry_run: bool = False) -> SweepReport:
    """Remove the objects no live session or knowledge base references, older than `grace_seconds`.

    A session's objects are kept while its record lives (all of them until it is finished,
    then its upload, PDF and result.json); a knowledge base's while its record lives (its
    documents and current index). The bucket is listed page by page, in key order, so one
    owner's objects arrive together and are judged together.
    """
    now = time.time() if now is None else now
    report = SweepReport()
    for prefix in (SESSION_OBJECTS, _KNOWLEDGE):
        groups = itertools.groupby(storage.list_objects(prefix), key=lambda item: _owner(item[0]))
        for batch in _batched(((owner, list(items)) for owner, items in groups), 200):
            doomed = _judge(client, batch, report, now - grace_seconds)
            if doomed and not dry_run:
                storage.delete_many(doomed)
            report.deleted.extend(doomed)
    return report


def _owner(key: str) -> tuple[str, str, str] | None:
    """("session" | "knowledge", tenant, id) for a key of qagen's layout; None otherwise."""
    parts = key.split("/")
    if len(parts) >= 4 and parts[0] + "/" == SESSION_OBJECTS:
        return ("session", parts[1], parts[2])
    if len(parts) >= 5 and parts[0] + "/" == _KNOWLEDGE and parts[2] in ("sessions", "knowledge"):
        return ("session" if parts[2] == "sessions" else "knowledge", parts[1], parts[3])
    return None


def _batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _judge(client: redis.Redis, batch: list, report: SweepReport, cutoff: float) -> list[str]:
    """The keys of `batch` ((owner, [(key, modified)]) pairs) to remove."""
    pipe = client.pipeline(transaction=False)
    for owner, _ in batch:
        if owner is None:
            pipe.echo("")
        elif owner[0] == "session":
            pipe.hmget(key_for(owner[2]), "tenant", "status", "input_key", "result_key", "result_json_key",
                       "paper_key")
        else:
            pipe.get(KB_PREFIX + owner[2])
    doomed: list[str] = []
    for (owner, objects), found in zip(batch, pipe.execute(raise_on_error=False)):
        if isinstance(found, redis.ResponseError):  # a key of another type: no record of ours
            found = [None] * 5 if owner and owner[0] == "session" else None
        elif isinstance(found, Exception):
            raise found
        if owner is None:
            report.unknown += len(objects)
            continue
        referenced = _referenced(owner, found)
        for key, modified in objects:
            if referenced is not None and (referenced == "all" or key in referenced):
                report.kept += 1
            elif modified > cutoff:
                report.young += 1
            else:
                doomed.append(key)
    return doomed


def _referenced(owner: tuple[str, str, str], found) -> set[str] | str | None:  # type: ignore[no-untyped-def]
    """What the live owner keeps: "all", a set of keys, or None when it is gone (or another tenant's)."""
    kind, tenant, _ = owner
    if kind == "session":
        values = [v.decode() if v is not None else None for v in found]
        if values[0] != tenant:
            return None
        if values[1] not in FINAL_STATUSES:
            return "all"  # a job may be writing its results
        return {v for v in values[2:] if v}
    if not found or _json_field(found, "tenant") != tenant:
        return None
    kb = KnowledgeBase.from_json(found)
    return {d.key for d in kb.documents} | ({kb.index_key} if kb.index_key else set())


def sweep_if_due(client: redis.Redis, storage: S3Storage, interval_seconds: float, holder: str,
                 grace_seconds: float = ORPHAN_GRACE_SECONDS) -> SweepReport | None:
    """`sweep`, unless another process swept within `interval_seconds` (None then)."""
    if not client.set(SWEEP_CLAIM_KEY, holder, nx=True, ex=max(1, int(interval_seconds * 0.9))):
        return None
    return sweep(client, storage, grace_seconds=grace_seconds)


# ------------------------------------------------------------------------------ the bucket rule


def expiry_days(session_ttl_seconds: int) -> int:
    """Days after which a session's objects expire: a day past the record (S3 counts whole days)."""
    return math.ceil(session_ttl_seconds / _DAY) + 1


@dataclass(frozen=True)
class RuleCheck:
    outcome: str  # "present", "set" or "refused"
    detail: str


def ensure_expiry_rule(storage: S3Storage, session_ttl_seconds: int) -> RuleCheck:
    """Make sure the bucket expires `sessions/` objects `expiry_days` after they are written."""
    days = expiry_days(session_ttl_seconds)
    try:
        rule = storage.expiry_rule(EXPIRY_RULE_ID)
        if rule and rule.get("Status") == "Enabled" and (rule.get("Expiration") or {}).get("Days") == days and \
                ((rule.get("Filter") or {}).get("Prefix", rule.get("Prefix")) == SESSION_OBJECTS):
            return RuleCheck("present", f"objects under {SESSION_OBJECTS} expire after {days} days")
        storage.set_expiry_rule(EXPIRY_RULE_ID, SESSION_OBJECTS, days)
        return RuleCheck("set", f"objects under {SESSION_OBJECTS} now expire after {days} days")
    except Exception as exc:  # the store has no lifecycle rules, or refused them: the sweep still runs
        return RuleCheck("refused", f"the bucket's lifecycle rule could not be set ({exc}); "
                                    "session objects are removed by the sweep only")
