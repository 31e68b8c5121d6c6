"""PyLTI1p3 (pylti1p3.contrib.flask) on qagen's registrations, with its state in Redis.

- `ToolConf` finds registrations and deployments in qagen.lti.registry and gives every
  registration the tool's key pair (qagen.lti.keys).
- `RedisCache` is the cache behind FlaskCacheDataStorage: the nonces the login issues, the
  launch data deep linking reads back, as JSON with a TTL, so any API replica can take the
  platform's POST that follows another's login.
- `Launch` spends the nonce once the id_token's signature holds: the same id_token posted
  again is refused (the library alone only checks that a nonce was issued). It reads the
  platform's keyset (JWKS) with a timeout and keeps it in Redis for KEY_SET_SECONDS; an id_token
  signed with a key the kept set lacks (the platform rotated its keys) fetches it again, once.
- `refusal` turns the library's exceptions into ApiErrors with codes (docs/errors.md).
"""

from __future__ import annotations

import hashlib
import json
import typing as t

import requests
from pylti1p3.contrib.flask import FlaskCacheDataStorage, FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.deployment import Deployment
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.launch_data_storage.base import DisableSessionId
from pylti1p3.registration import Registration
from pylti1p3.tool_config import ToolConfAbstract

from api.errors import ApiError
from qagen.lti.keys import tool_key_pair
from qagen.lti.registry import Platform, PlatformStore

CACHE_PREFIX = "qagen:lti:launch:"
LAUNCH_DATA_SECONDS = 3600  # as long as a launch token (qagen/lti/grants.py): deep linking reads it back
KEY_SET_SECONDS = 300  # how long a platform's keyset is kept
KEY_SET_TIMEOUT_SECONDS = 5.0  # a platform slow to give its keyset fails the launch instead of holding a worker


class RedisCache:
    """The get/set/delete a pylti1p3 CacheDataStorage asks of its cache, on Redis."""

    def __init__(self, redis):
        self.redis = redis

    def get(self, key: str) -> t.Any:
        raw = self.redis.get(CACHE_PREFIX + key)
        return json.loads(raw) if raw is not None else None

    def set(self, key: str, value: t.Any, exp: int | None = None) -> None:
        self.redis.set(CACHE_PREFIX + key, json.dumps(value), ex=exp or LAUNCH_DATA_SECONDS)

    def take(self, key: str) -> bool:
        """Remove `key`; True when it was there (one caller wins)."""
        return bool(self.redis.delete(CACHE_PREFIX + key))


class LaunchStorage(FlaskCacheDataStorage):
    def take_value(self, key: str) -> bool:
        return self._get_cache().take(self._prepare_key(key))


class ToolConf(ToolConfAbstract):
    """Registrations from Redis; an issuer may have several client ids (Canvas: one per developer key)."""

    def __init__(self, redis):
        self.store = PlatformStore(redis)
        self.redis = redis
        self.platform: Platform | None = None  # the one the last lookup found

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def _registration(self, platform: Platform | None) -> Registration | None:
        self.platform = platform
        if platform is None:
            return None
        keys = tool_key_pair(self.redis)
        return (Registration().set_issuer(platform.issuer).set_client_id(platform.client_id)
                .set_auth_login_url(platform.auth_login_url).set_auth_token_url(platform.auth_token_url)
                .set_key_set_url(platform.key_set_url).set_tool_private_key(keys.private_pem)
                .set_tool_public_key(keys.public_pem))

    def find_registration_by_issuer(self, iss: str, *args, **kwargs) -> Registration:
        return self._registration(self.store.find(iss))  # type: ignore[return-value]

    def find_registration_by_params(self, iss: str, client_id: str, *args, **kwargs) -> Registration:
        return self._registration(self.store.find(iss, client_id))  # type: ignore[return-value]

    def find_deployment(self, iss: str, deployment_id: str) -> Deployment | None:
        return self.find_deployment_by_params(iss, deployment_id, None)  # type: ignore[arg-type]

    def find_deployment_by_params(self, iss: str, deployment_id: str, client_id: str, *args,
                                  **kwargs) -> Deployment | None:
        platform = self.store.find(iss, client_id)
        if platform is None or platform.tenant_of(deployment_id) is None:
            return None
        return Deployment().set_deployment_id(deployment_id)

    def jwks(self) -> dict:
        return {"keys": [Registration.get_jwk(tool_key_pair(self.redis).public_pem)]}


class NonceReplayed(LtiException):
    pass


class _TimedSession(requests.Session):
    def request(self, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        kwargs.setdefault("timeout", KEY_SET_TIMEOUT_SECONDS)
        return super().request(*args, **kwargs)


class Launch(FlaskMessageLaunch):
    def get_public_key(self):
        try:
            return super().get_public_key()
        except LtiException as exc:
            storage = self._public_key_cache_data_storage
            if "Unable to find public key" not in str(exc) or storage is None:
                raise
        # The kept keyset lacks the token's key: the platform may have rotated its keys.
        url = self._registration.get_key_set_url()
        with DisableSessionId(storage):
            storage.take_value("key-set-url-" + hashlib.md5(url.encode()).hexdigest())
        self._registration.set_key_set(None)
        return super().get_public_key()

    def validate_jwt_signature(self):
        super().validate_jwt_signature()
        # Only a platform-signed id_token spends a nonce, and only once.
        nonce = self._get_jwt_body().get("nonce")
        if not self._session_service.data_storage.take_value(self._session_service._get_key("nonce", nonce)):
            raise NonceReplayed("Invalid Nonce")
        return self

    def tenant(self) -> str:
        conf: ToolConf = self._tool_config
        platform = conf.store.find(self.get_iss(), self.get_client_id())
        tenant = platform.tenant_of(self._get_deployment_id()) if platform else None
        if tenant is None:  # removed between the checks and now
            raise LtiException("Unable to find deployment")
        return tenant

    def platform(self) -> Platform:
        platform = self._tool_config.store.find(self.get_iss(), self.get_client_id())
        if platform is None:
            raise LtiException("Registration not found.")
        return platform


def storage(redis) -> LaunchStorage:
    return LaunchStorage(RedisCache(redis))


def oidc_login(redis) -> tuple[FlaskOIDCLogin, ToolConf]:
    conf = ToolConf(redis)
    request = FlaskRequest()
    login = FlaskOIDCLogin(request, conf, launch_data_storage=storage(redis))
    return login, conf


def message_launch(redis) -> Launch:
    launch = Launch(FlaskRequest(), ToolConf(redis), launch_data_storage=storage(redis),
                    requests_session=_TimedSession())
    launch.set_launch_data_lifetime(LAUNCH_DATA_SECONDS)
    launch.set_public_key_caching(storage(redis), KEY_SET_SECONDS)
    return launch


def restored_launch(redis, launch_id: str) -> Launch:
    """A launch validated earlier (deep linking answers after the teacher has chosen)."""
    return Launch.from_cache(launch_id, FlaskRequest(), ToolConf(redis), launch_data_storage=storage(redis))


UNKNOWN_PLATFORM = ("This platform, or this client id of it, is not registered with qagen: an operator runs "
                    "'qagen lti add-platform' with the values the platform shows for qagen (docs/lti.md).")
# The library's messages (pylti1p3/message_launch.py, oidc_login.py) -> the answer, saying what to do.
_REFUSALS: list[tuple[str, t.Callable[[], ApiError]]] = [
    ("Invalid Nonce", lambda: ApiError(401, "lti_replayed", "This launch was already used, or its login is unknown "
                                                            "here: open qagen again from the course.")),
    ("Unable to find deployment", lambda: ApiError(403, "lti_unknown_deployment", "This deployment of qagen is not "
                                                   "registered: an operator runs 'qagen lti add-platform' with its "
                                                   "deployment id and the tenant it works in.")),
    ("Registration not found", lambda: ApiError(403, "lti_unknown_platform", UNKNOWN_PLATFORM)),
    ("Could not find registration", lambda: ApiError(403, "lti_unknown_platform", UNKNOWN_PLATFORM)),
    ("Client id not registered", lambda: ApiError(403, "lti_unknown_platform", UNKNOWN_PLATFORM)),
    ("State not found", lambda: ApiError(401, "lti_launch_refused", "The login's state cookie did not come back with "
                                         "the launch: the browser may block cookies in frames; open qagen in a new "
                                         "window (the tool's placement setting in the course).")),
]


def refusal(exc: Exception) -> ApiError:
    """The answer to a login or launch the library refused."""
    text = str(exc)
    for needle, answer in _REFUSALS:
        if needle in text:
            return answer()
    if isinstance(exc, OIDCException):
        return ApiError(400, "lti_bad_request", f"The LTI login request is incomplete: {text}.")
    return ApiError(401, "lti_launch_refused", f"The platform's launch was refused: {text} (the id_token's signature, "
                                               "issuer, audience and expiry are checked against the registration).")
