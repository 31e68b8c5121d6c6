"""The platforms (LMSs) qagen is registered in, kept in Redis; an operator adds them with
`qagen lti add-platform`.

A registration is what the platform's administrator reads off its own tool configuration: the
issuer (`iss`), the client id it gave qagen, its OIDC authorization URL, its token URL and the
URL of its public keys (JWKS), and one or more deployment ids. Each deployment is mapped to
one qagen tenant: a launch from it works in that tenant, and the teacher who launched sees only
their own sessions there (api/lti/).

One Redis hash, `qagen:lti:platforms`, holds every registration as JSON, one field per
(issuer, client id): an LMS has a handful of registrations, so reading them all is cheap.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

from qagen.apikeys import validate_tenant

KEY = "qagen:lti:platforms"


def _field(issuer: str, client_id: str) -> str:
    return f"{issuer}\n{client_id}"


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of an absolute http(s) URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def check_url(name: str, url: str) -> str:
    """`url` if it is an absolute http(s) URL; else a ValueError naming the option."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{name} must be an absolute http(s) URL, not {url!r}.")
    return url


@dataclass
class Platform:
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    # deployment id -> qagen tenant
    deployments: dict[str, str] = field(default_factory=dict)
    # Origins allowed to frame the tool's pages (CSP frame-ancestors); none: the issuer's and the
    # authorization URL's (api/lti/pages.py).
    frame_origins: list[str] = field(default_factory=list)
    created_at: float = 0.0

    def tenant_of(self, deployment_id: str) -> str | None:
        return self.deployments.get(deployment_id)

    def framing_origins(self) -> list[str]:
        found = self.frame_origins or [origin_of(self.issuer), origin_of(self.auth_login_url)]
        return sorted(set(found))


class PlatformStore:
    def __init__(self, redis):
        self.redis = redis

    def add(self, issuer: str, client_id: str, auth_login_url: str, auth_token_url: str, key_set_url: str,
            deployment_id: str, tenant: str, frame_origins: list[str] | None = None) -> Platform:
        """Register a platform's deployment for `tenant`; an existing (issuer, client id) gains the
        deployment (its URLs are replaced by these). ValueError, in words, for a bad value."""
        issuer = check_url("--issuer", issuer.strip())
        for name, url in (("--auth-login-url", auth_login_url), ("--auth-token-url", auth_token_url),
                          ("--key-set-url", key_set_url)):
            check_url(name, url)
        if not client_id.strip():
            raise ValueError("--client-id is empty: use the client id the platform showed for qagen.")
        if not deployment_id.strip():
            raise ValueError("--deployment-id is empty: use the deployment id the platform showed for qagen.")
        validate_tenant(tenant)
        origins = [origin_of(check_url("--frame-origin", o)) for o in (frame_origins or [])]
        platform = self.get(issuer, client_id) or Platform(issuer, client_id.strip(), auth_login_url, auth_token_url,
                                                           key_set_url, created_at=time.time())
        platform.auth_login_url, platform.auth_token_url, platform.key_set_url = (auth_login_url, auth_token_url,
                                                                                  key_set_url)
        platform.deployments[deployment_id.strip()] = tenant
        if origins:
            platform.frame_origins = origins
        self.redis.hset(KEY, _field(platform.issuer, platform.client_id), json.dumps(asdict(platform)))
        return platform

    def get(self, issuer: str, client_id: str) -> Platform | None:
        raw = self.redis.hget(KEY, _field(issuer, client_id))
        return Platform(**json.loads(raw)) if raw else None

    def find(self, issuer: str, client_id: str | None = None) -> Platform | None:
        """The registration of `issuer` (and `client_id`, when the platform sends one); without a
        client id, the issuer's only registration (None when it has several)."""
        if client_id:
            return self.get(issuer, client_id)
        found = [p for p in self.all() if p.issuer == issuer]
        return found[0] if len(found) == 1 else None

    def all(self) -> list[Platform]:
        return sorted((Platform(**json.loads(raw)) for raw in self.redis.hvals(KEY)),
                      key=lambda p: (p.issuer, p.client_id))

    def remove(self, issuer: str, client_id: str, deployment_id: str | None = None) -> bool:
        """Remove one deployment, or the whole registration; False when there was nothing to remove."""
        platform = self.get(issuer, client_id)
        if platform is None:
            return False
        if deployment_id is None:
            return bool(self.redis.hdel(KEY, _field(issuer, client_id)))
        if platform.deployments.pop(deployment_id, None) is None:
            return False
        self.redis.hset(KEY, _field(issuer, client_id), json.dumps(asdict(platform)))
        return True

    def remove_tenant(self, tenant: str) -> int:
        """Remove every deployment mapped to `tenant`, and a registration left with none (the
        tenant is being deleted: no launch may bring it back); how many deployments."""
        removed = 0
        for platform in self.all():
            gone = [d for d, t in platform.deployments.items() if t == tenant]
            if not gone:
                continue
            removed += len(gone)
            for deployment_id in gone:
                del platform.deployments[deployment_id]
            name = _field(platform.issuer, platform.client_id)
            if platform.deployments:
                self.redis.hset(KEY, name, json.dumps(asdict(platform)))
            else:
                self.redis.hdel(KEY, name)
        return removed
