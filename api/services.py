"""The resources a request needs, built once per process and kept in `app.extensions`."""

from __future__ import annotations

from dataclasses import dataclass

from celery import Celery
from flask import current_app

from qagen.apikeys import ApiKeyStore
from qagen.jobs.queue import make_celery
from qagen.jobs.records import SessionStore
from qagen.knowledge.store import KnowledgeBaseStore
from qagen.redis_client import redis_from_settings
from qagen.settings import Settings
from qagen.storage import S3Storage


@dataclass
class Services:
    settings: Settings
    redis: object
    storage: S3Storage
    sessions: SessionStore
    keys: ApiKeyStore
    knowledge: KnowledgeBaseStore
    celery: Celery

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        redis = redis_from_settings(settings, timeout_seconds=3.0)
        return cls(
            settings=settings,
            redis=redis,
            # Few attempts and short timeouts: a request should answer 503 fast, not hang.
            storage=S3Storage.from_settings(settings, timeout_seconds=2.0, attempts=2),
            sessions=SessionStore(redis, settings.session_ttl_seconds),
            keys=ApiKeyStore(redis),
            knowledge=KnowledgeBaseStore(redis),
            celery=make_celery(settings),
        )


def services() -> Services:
    return current_app.extensions["qagen"]
