"""bench/keda_sim.py: the scaling simulation behaves like the rules it models, and the docs show its output."""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import replace


from tests.deploy.conftest import REPO, render

_spec = importlib.util.spec_from_file_location("keda_sim", REPO / "bench" / "keda_sim.py")
keda_sim = importlib.util.module_from_spec(_spec)
sys.modules["keda_sim"] = keda_sim  # dataclasses look their module up there
_spec.loader.exec_module(keda_sim)
Config, simulate = keda_sim.Config, keda_sim.simulate


def test_the_simulated_settings_are_the_manifests_settings():
    prod = {o["kind"]: o for o in render("prod") if o["kind"] == "ScaledObject"}["ScaledObject"]["spec"]
    config = Config()
    behavior = prod["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    assert (config.polling_interval, config.cooldown, config.min_replicas, config.max_replicas) == (
        prod["pollingInterval"], prod["cooldownPeriod"], prod["minReplicaCount"], prod["maxReplicaCount"])
    assert config.down_window == behavior["scaleDown"]["stabilizationWindowSeconds"]
    assert [config.down_percent, config.down_period] == [behavior["scaleDown"]["policies"][0][k]
                                                         for k in ("value", "periodSeconds")]
    up = {p["type"]: p for p in behavior["scaleUp"]["policies"]}
    assert (config.up_percent, config.up_pods) == (up["Percent"]["value"], up["Pods"]["value"])
    configmap = next(o for o in render("prod") if o["kind"] == "ConfigMap")["data"]
    assert config.concurrency == int(configmap["QAGEN_WORKER_CONCURRENCY"])


def test_a_burst_drains_within_the_replica_cap_and_the_workers_go_back_to_zero():
    config = Config(max_replicas=5)
    result = simulate(40, 60, config)
    assert result.peak_pods <= 5
    # 40 papers x ~60 s over 5 pods x 2 processes: at least 4 rounds, plus start-up.
    assert 4 * 60 * 0.8 <= result.drain_seconds <= 4 * 60 * 1.2 + 120
    t, queued, running, pods = result.timeline[-1]
    assert (queued, running, pods) == (0, 0, 0)


def test_nothing_happens_without_papers():
    result = simulate(0, 60)
    assert result.peak_pods == 0 and result.pod_minutes == 0


def test_a_busy_pod_picked_for_scale_in_finishes_its_jobs():
    result = simulate(100, 300, Config(max_replicas=10), jitter=0.5)
    assert result.drain_seconds > 0 and result.timeline[-1][1:] == (0, 0, 0)


def test_counting_running_jobs_avoids_the_cold_start_churn_of_counting_the_queue_alone():
    chosen = simulate(120, 60, Config(), every_seconds=120)
    queue_only = simulate(120, 60, replace(Config(), metric="queued"), every_seconds=120)
    assert chosen.pods_started <= 2 < 10 < queue_only.pods_started
    assert chosen.p95_wait_seconds < queue_only.p95_wait_seconds


def test_the_docs_show_the_current_simulation_table():
    docs = (REPO / "docs" / "deploy.md").read_text()
    table = keda_sim.burst_table(Config())
    assert table in docs, "docs/deploy.md is stale: paste `.venv/bin/python bench/keda_sim.py` output"
    assert keda_sim.stream_table(Config()) in docs
    assert re.search(r"\| \*\*chosen\*\* \|", docs)
