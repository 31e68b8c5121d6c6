"""Scaling on paper: KEDA + the HPA scaling qagen's workers through a burst of papers.

    .venv/bin/python bench/keda_sim.py                 # the table in docs/deploy.md
    .venv/bin/python bench/keda_sim.py --burst 100 --paper-seconds 60 --max-replicas 20

A one-second-step simulation of the rules the manifests set up (k8s/base/keda.yaml and the
prod overlay), as documented by KEDA (keda-docs 2.21: scaledobject-spec.md,
scaling-deployments.md, scaling-jobs) and the HPA (kubernetes.io, "Horizontal Pod
Autoscaling": algorithm, tolerance 0.1, sync 15 s, `behavior` policies and stabilization):

* KEDA polls the two triggers every `pollingInterval`; at 0 replicas an active metric
  (formula > activationTarget) scales to 1; with no activity for `cooldownPeriod` it scales
  to 0.
* From 1 to N the HPA, every 15 s, wants ceil(formula / target) replicas, where the formula
  is (queued + running) / concurrency (queued: every waiting job, which the manifests count
  as the dispatcher's pending jobs plus the Celery queue's few, docs/fairness.md; the
  simulation's queue is their sum and needs no per-tenant model: KEDA sees totals only); it
  keeps the current count inside the 10 %
  tolerance, limits growth by the scale-up policies (max of +100 % and +4 pods per 15 s),
  and scales down to the highest recommendation of its stabilization window (60 s), by up
  to 100 % a minute.
* Scale-in picks victims the ReplicaSet way (not-ready pods first, then the most recently
  ready), whether busy or not. A victim gets SIGTERM: a warm shutdown, so it takes nothing
  new and exits when its running jobs are done (the grace period is above the hard time
  limit). Its jobs are still in `unacked`, so still counted.
* A new pod is ready after `pod-start` seconds (scheduling, image already on the node,
  container start) plus the worker's measured boot; each worker process pays the measured
  import cost on its first job (and again after worker_max_tasks_per_child = 50 jobs).

Variants: `--metric queued` counts only the queue list (LLEN), the setup the field notes
warn against; `--scaledjob` runs one Kubernetes Job per paper (KEDA ScaledJob, `accurate`
strategy), each paying pod start and imports. Per-paper times are inputs: the measured
ones are in docs/deploy.md (devtools/measure_pods.py).

Pod-minutes count every pod from creation to exit, the cooldown tail included: that is
what a cluster pays for.
"""

from __future__ import annotations

import argparse
import math
import random
from collections import deque
from dataclasses import dataclass, field, replace

# Measured on the development machine (devtools/measure_pods.py; docs/deploy.md "Measurements").
MEASURED_BOOT_SECONDS = 1.0  # `celery worker` start to "ready" (pipeline imports are lazy)
MEASURED_WARM_PAPER_SECONDS = 1.1  # example paper, offline engine, warm process (p50)
# Extra time of a process's first job (the pipeline's imports): a fresh 2-process pod's first
# two jobs took 10.0 s against 1.1 s warm, both processes importing at once on 2 cores; one
# process alone imports in 5.7-6.0 s (a ScaledJob pod).
MEASURED_COLD_IMPORT_SECONDS = 9.0
MEASURED_SINGLE_IMPORT_SECONDS = 6.0
MAX_TASKS_PER_CHILD = 50  # qagen/jobs/queue.py


@dataclass(frozen=True)
class Config:
    concurrency: int = 2
    polling_interval: int = 15
    cooldown: int = 300
    min_replicas: int = 0
    max_replicas: int = 20
    target: float = 1.0
    activation: float = 0.0
    hpa_sync: int = 15
    tolerance: float = 0.1
    up_percent: int = 100
    up_pods: int = 4
    up_period: int = 15
    down_window: int = 60
    down_percent: int = 100
    down_period: int = 60
    pod_start: float = 15.0
    boot: float = MEASURED_BOOT_SECONDS
    cold_import: float = MEASURED_COLD_IMPORT_SECONDS
    job_cold_import: float = MEASURED_SINGLE_IMPORT_SECONDS
    # A burst lands this many seconds before KEDA's next poll / the HPA's next sync (the
    # average case: half an interval).
    poll_phase: int = 7
    hpa_phase: int = 7
    metric: str = "queued+running"  # or "queued"
    scaledjob: bool = False


@dataclass
class Slot:
    task: int | None = None
    left: float = 0.0
    done: int = 0  # jobs this worker process has run (recycled every MAX_TASKS_PER_CHILD)


@dataclass
class Pod:
    created: float
    ready_at: float
    slots: list[Slot]
    terminating: bool = False
    ended: float | None = None
    ready_since: float | None = None
    one_shot: bool = False  # a ScaledJob pod: one paper, then exit

    def running(self) -> int:
        return sum(slot.task is not None for slot in self.slots)


@dataclass
class Result:
    burst: int
    paper_seconds: float
    drain_seconds: float
    first_start_seconds: float
    p95_wait_seconds: float
    peak_pods: int
    pod_minutes: float
    busy_fraction: float
    pods_started: int
    timeline: list[tuple[int, int, int, int]] = field(default_factory=list)  # t, queued, running, pods


def simulate(burst: int, paper_seconds: float, config: Config = Config(), *, jitter: float = 0.2,
             seed: int = 1, limit_seconds: int = 6 * 3600, every_seconds: float = 0.0) -> Result:
    """Drop `burst` papers on an idle system (0 workers) and run until it is idle again.

    All at t=0 by default; with `every_seconds`, one paper every that many seconds instead
    (a steady stream). Per-paper times vary by +-`jitter` (seeded, so runs repeat exactly).
    """
    rng = random.Random(seed)
    durations = [paper_seconds * (1 + rng.uniform(-jitter, jitter)) for _ in range(burst)]
    arrivals = [i * every_seconds for i in range(burst)]
    queue: deque[int] = deque()
    arrived = 0
    started: dict[int, float] = {}
    finished: dict[int, float] = {}
    pods: list[Pod] = []
    replicas = 0
    last_active = -math.inf
    history: deque[tuple[int, int]] = deque()  # HPA recommendations (t, desired)
    changes: deque[tuple[int, int]] = deque()  # HPA replica changes (t, delta)
    busy_slot_seconds = 0.0
    result_timeline: list[tuple[int, int, int, int]] = []

    def live() -> list[Pod]:
        return [p for p in pods if p.ended is None]

    def running_count() -> int:
        return sum(p.running() for p in live())

    def metric() -> float:
        work = len(queue) + (running_count() if config.metric == "queued+running" else 0)
        return work / config.concurrency

    def new_pod(t: float, one_shot: bool = False) -> Pod:
        slots = 1 if one_shot else config.concurrency
        pod = Pod(created=t, ready_at=t + config.pod_start + config.boot, slots=[Slot() for _ in range(slots)],
                  one_shot=one_shot)
        pods.append(pod)
        return pod

    def set_replicas(t: float, wanted: int) -> None:
        nonlocal replicas
        active = [p for p in live() if not p.terminating]
        if wanted > len(active):
            for _ in range(wanted - len(active)):
                new_pod(t)
        elif wanted < len(active):
            # ReplicaSet victim order: not ready first (newest first), then most recently ready.
            order = sorted(active, key=lambda p: (p.ready_since is not None, -(p.ready_since or p.created)))
            for pod in order[: len(active) - wanted]:
                pod.terminating = True
        replicas = wanted

    t = 0
    while t < limit_seconds:
        while arrived < burst and arrivals[arrived] <= t:
            queue.append(arrived)
            arrived += 1
        # 1. Pods become ready; free slots take queued papers (FIFO).
        for pod in live():
            if pod.ready_since is None and t >= pod.ready_at:
                pod.ready_since = t
            if pod.ready_since is None or pod.terminating:
                continue
            for slot in pod.slots:
                if slot.task is None and queue:
                    task = queue.popleft()
                    cold = slot.done % MAX_TASKS_PER_CHILD == 0
                    penalty = config.job_cold_import if pod.one_shot else config.cold_import
                    slot.task, slot.left = task, durations[task] + (penalty if cold else 0.0)
                    started[task] = t
        # 2. One second of work.
        for pod in live():
            for slot in pod.slots:
                if slot.task is not None:
                    busy_slot_seconds += 1
                    slot.left -= 1
                    if slot.left <= 0:
                        finished[slot.task] = t + 1
                        slot.task, slot.done = None, slot.done + 1
                        if pod.one_shot:
                            pod.ended = t + 1
        # 3. Terminating pods leave when their running jobs are done (warm shutdown).
        for pod in live():
            if pod.terminating and pod.running() == 0:
                pod.ended = t
        result_timeline.append((t, len(queue), running_count(), len(live())))

        if config.scaledjob:
            if t % config.polling_interval == config.poll_phase % config.polling_interval:
                running_jobs = [p for p in live()]
                pending = sum(1 for p in running_jobs if p.ready_since is None)
                max_scale = len(queue)  # listLength 1: one Job per waiting paper
                cap = config.max_replicas * config.concurrency  # same parallelism as the Deployment
                if max_scale + len(running_jobs) > cap:
                    create = cap - len(running_jobs)
                else:
                    create = max_scale - pending
                for _ in range(max(0, create)):
                    new_pod(t, one_shot=True)
            # One-shot pods that found nothing to do exit (the queue was taken by others).
            for pod in live():
                if pod.one_shot and pod.ready_since is not None and pod.running() == 0:
                    pod.ended = t
        else:
            # 4. KEDA: activation and scale to zero.
            if t % config.polling_interval == config.poll_phase % config.polling_interval:
                active = metric() > config.activation
                if active:
                    last_active = t
                if replicas == 0 and active:
                    set_replicas(t, max(1, config.min_replicas))
                elif replicas > 0 and not active and config.min_replicas == 0 and t - last_active >= config.cooldown:
                    set_replicas(t, 0)
                    history.clear()
            # 5. The HPA between 1 and max.
            if replicas > 0 and t % config.hpa_sync == config.hpa_phase % config.hpa_sync:
                value = metric()
                current = replicas
                raw = math.ceil(value / config.target) if value > 0 else 0
                if abs(value / (config.target * current) - 1) <= config.tolerance:
                    raw = current
                raw = min(max(raw, 1), config.max_replicas)
                history.append((t, raw))
                while history and history[0][0] <= t - config.down_window:
                    history.popleft()
                # Scale-up stabilization window 0: act on this recommendation; scale-down: the
                # highest recommendation of the window, never above the current count.
                desired = raw if raw >= current else min(current, max(r for _, r in history))
                while changes and changes[0][0] <= t - max(config.up_period, config.down_period):
                    changes.popleft()
                if desired > current:
                    base = current - sum(d for s, d in changes if s > t - config.up_period and d > 0)
                    limit = max(base * (1 + config.up_percent / 100), base + config.up_pods)
                    desired = min(desired, int(limit), config.max_replicas)
                elif desired < current:
                    base = current - sum(d for s, d in changes if s > t - config.down_period and d < 0)
                    desired = max(desired, math.ceil(base * (1 - config.down_percent / 100)), 1)
                if desired != current:
                    changes.append((t, desired - current))
                    set_replicas(t, desired)

        t += 1
        if len(finished) == burst and not live() and (config.scaledjob or replicas == 0):
            break

    pod_seconds = sum((p.ended if p.ended is not None else t) - p.created for p in pods)
    slot_capacity = sum(((p.ended if p.ended is not None else t) - p.created) * len(p.slots) for p in pods)
    waits = sorted(started[i] - arrivals[i] for i in range(burst)) if burst else [0]
    return Result(
        burst=burst,
        paper_seconds=paper_seconds,
        drain_seconds=max(finished.values(), default=0),
        first_start_seconds=min(started.values(), default=0),
        p95_wait_seconds=waits[min(len(waits) - 1, int(0.95 * len(waits)))],
        peak_pods=max((n for *_, n in result_timeline), default=0),
        pod_minutes=pod_seconds / 60,
        busy_fraction=busy_slot_seconds / slot_capacity if slot_capacity else 0.0,
        pods_started=len(pods),
        timeline=result_timeline,
    )


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 120 else f"{seconds:.0f} s"


SCENARIOS = [
    # (label, per-paper seconds)
    ("offline engine, 1.1 s (measured)", MEASURED_WARM_PAPER_SECONDS),
    ("hosted LLM, 60 s", 60.0),
    ("long paper, 300 s", 300.0),
]
VARIANTS = [
    ("**chosen**", {}),
    ("LLEN only", {"metric": "queued"}),
    ("ScaledJob", {"scaledjob": True}),
]


def _row(label: str, burst: int, name: str, r: Result) -> str:
    return (f"| {label} | {burst} | {name} | {_minutes(r.drain_seconds)} | {_minutes(r.p95_wait_seconds)} "
            f"| {r.peak_pods} | {r.pods_started} | {r.pod_minutes:.0f} | {r.busy_fraction:.0%} |")


HEADER = ("| per-paper time | papers | variant | drain time | p95 wait to start | peak pods | pods started "
          "| pod-minutes | slots busy |\n| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")


def burst_table(config: Config, bursts: tuple[int, ...] = (10, 100, 1000)) -> str:
    """Bursts arriving at once on an idle system: the chosen setup and the two alternatives."""
    rows = [HEADER]
    for label, seconds in SCENARIOS:
        for burst in bursts:
            for name, change in VARIANTS:
                rows.append(_row(label, burst, name, simulate(burst, seconds, replace(config, **change))))
    return "\n".join(rows)


def stream_table(config: Config, papers: int = 120, paper_seconds: float = 60.0,
                 spacings: tuple[float, ...] = (20.0, 120.0)) -> str:
    """A steady stream (one paper every N s): where counting only the queue goes wrong."""
    rows = [HEADER]
    for every in spacings:
        for name, change in VARIANTS:
            label = f"60 s, one every {every:.0f} s"
            rows.append(_row(label, papers, name, simulate(papers, paper_seconds, replace(config, **change),
                                                           every_seconds=every)))
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description="Simulate KEDA scaling of qagen's workers for a burst of papers.")
    parser.add_argument("--burst", type=int, help="papers arriving at once (default: the docs table)")
    parser.add_argument("--paper-seconds", type=float, default=60.0)
    parser.add_argument("--max-replicas", type=int, default=Config.max_replicas)
    parser.add_argument("--concurrency", type=int, default=Config.concurrency)
    parser.add_argument("--polling-interval", type=int, default=Config.polling_interval)
    parser.add_argument("--cooldown", type=int, default=Config.cooldown)
    parser.add_argument("--pod-start", type=float, default=Config.pod_start)
    parser.add_argument("--metric", choices=["queued+running", "queued"], default=Config.metric)
    parser.add_argument("--scaledjob", action="store_true")
    parser.add_argument("--every", type=float, default=0.0, help="one paper every N s instead of all at once")
    args = parser.parse_args()
    config = Config(max_replicas=args.max_replicas, concurrency=args.concurrency, polling_interval=args.polling_interval,
                    cooldown=args.cooldown, pod_start=args.pod_start, metric=args.metric, scaledjob=args.scaledjob)
    if args.burst is None:
        print(f"Bursts at t=0 on an idle system ({config.max_replicas} pods x {config.concurrency} max):\n")
        print(burst_table(config))
        print("\nA steady stream of 120 papers:\n")
        print(stream_table(config))
        return
    r = simulate(args.burst, args.paper_seconds, config, every_seconds=args.every)
    print(f"burst {r.burst} x {r.paper_seconds:.0f} s: drained in {_minutes(r.drain_seconds)}, first start "
          f"{r.first_start_seconds:.0f} s, p95 wait {_minutes(r.p95_wait_seconds)}, peak {r.peak_pods} pods, "
          f"{r.pods_started} pods started, {r.pod_minutes:.0f} pod-minutes, slots busy {r.busy_fraction:.0%}")


if __name__ == "__main__":
    main()
