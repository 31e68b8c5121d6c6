"""`make bench` / `python -m bench`: every benchmark in bench/, one summary table, bench/results.json.

    .venv/bin/python -m bench                    # everything (~9 minutes on 2 cores)
    .venv/bin/python -m bench --only e2e,api     # some of it (names below)
    .venv/bin/python -m bench --quick            # fewer repeats, for trying the harness

Each module prints its own detailed table as it goes; at the end one summary table shows,
per metric, our figure, the floor or peer measured in the same run, their ratio, the target
and whether it is met. Every figure is a median over repeated runs. The in-process
benchmarks run first; the service benchmarks share one Redis and one SeaweedFS (started
on free loopback ports, removed at the end) and start their own API and worker processes.
The answer benchmark's rate-limit run uses that Redis too (the limiter is shared through
it in production), so the stack starts there.

bench/results.json records the commit measured (`git rev-parse HEAD`), whether the tree
differed from it (and in which files), when the run started and finished, and every
summary row under "metrics" by a stable key (`bench.common.metric_key`) with its value,
peer, ratio, target and module: what docs/performance.md's figures are read from.
docs/performance.md explains the figures and how to read them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (RESULTS, Row, cpu_accounting, foreign_cpu_fraction, machine,  # noqa: E402
                          metrics, provenance, summary_markdown, wait_until_quiet)


class Context:
    def __init__(self, quick: bool):
        self.quick = quick
        self._stack = None

    def stack(self):
        if self._stack is None:
            from bench.stack import BenchStack

            self._stack = BenchStack()
        return self._stack

    def close(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None


def _parse(ctx: Context):
    from bench import bench_parse

    return bench_parse.run(runs=3 if ctx.quick else 5, plumber_runs=1 if ctx.quick else 3)


def _render(ctx: Context):
    from bench import bench_render

    return bench_render.run(runs=3 if ctx.quick else 7)


def _answer(ctx: Context):
    from bench import bench_answer

    rate_limit = not ctx.quick
    # The rate-limit run shares the limiter through Redis, as production does: the stack's.
    return bench_answer.run(repeats=1 if ctx.quick else 3, rate_limit=rate_limit,
                            redis_url=ctx.stack().settings.redis_url if rate_limit else None)


def _growth(ctx: Context):
    from bench import bench_growth

    return bench_growth.run(repeats=1 if ctx.quick else 3)


def _keda(ctx: Context):
    import contextlib
    import io

    from bench import keda_sim

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        _keda_tables(keda_sim)
    text = out.getvalue()
    print("\n## KEDA scaling simulation (bench/keda_sim.py; the table in docs/deploy.md)\n")
    print(text)
    return [], {"tables_markdown": text}


def _keda_tables(keda_sim) -> None:
    config = keda_sim.Config()
    print(keda_sim.burst_table(config))
    print()
    print(keda_sim.stream_table(config))


def _worker(ctx: Context):
    from bench import bench_worker

    return bench_worker.run(ctx.stack(), repeats=2 if ctx.quick else 5, preload_repeats=1 if ctx.quick else 3,
                            mingle_repeats=1 if ctx.quick else 3)


def _cold_start(ctx: Context):
    from bench import bench_cold_start

    return bench_cold_start.run(ctx.stack(), repeats=1 if ctx.quick else 3, variants=bench_cold_start.TARGET_VARIANTS)


def _e2e(ctx: Context):
    from bench import bench_e2e

    return bench_e2e.run(ctx.stack(), jobs=8 if ctx.quick else 20, bare_count=20 if ctx.quick else 50)


def _api(ctx: Context):
    from bench import bench_api

    return bench_api.run(ctx.stack(), seconds=3 if ctx.quick else 5, repeats=1 if ctx.quick else 3)


def _memory(ctx: Context):
    from bench import bench_memory

    return bench_memory.run(ctx.stack(), repeats=1 if ctx.quick else 3)


def _fairness(ctx: Context):
    from bench import bench_fairness

    return bench_fairness.run(ctx.stack(), backlog=20 if ctx.quick else 60, repeats=1 if ctx.quick else 3)


def _scaling(ctx: Context):
    from bench import bench_scaling

    return bench_scaling.run(ctx.stack(), papers=8 if ctx.quick else 32, repeats=1 if ctx.quick else 3)


MODULES = {
    "parse": _parse,
    "render": _render,
    "answer": _answer,
    "growth": _growth,
    "keda": _keda,
    "worker": _worker,
    "cold_start": _cold_start,
    "e2e": _e2e,
    "api": _api,
    "memory": _memory,
    "scaling": _scaling,
    "direct": lambda ctx: __import__("bench.bench_direct_upload", fromlist=["bench"]).bench(ctx),
    "fairness": _fairness,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help=f"comma-separated, of: {', '.join(MODULES)}")
    parser.add_argument("--skip", default="", help="comma-separated modules to leave out")
    parser.add_argument("--quick", action="store_true", help="fewer repeats (not for the figures in the docs)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                        help="before each module, wait up to this long for other processes to leave the CPUs alone")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",")] if args.only else list(MODULES)
    unknown = [n for n in names + [s for s in args.skip.split(",") if s] if n not in MODULES]
    if unknown:
        parser.error(f"unknown module(s): {', '.join(unknown)}")
    names = [n for n in names if n not in args.skip.split(",")]

    started = time.perf_counter()
    # The commit measured (and whether the tree differed from it), read before anything runs.
    measured = provenance()
    results: dict = {"machine": machine(), "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                     "commit": measured["commit"], "dirty": measured["dirty"],
                     "changed_files": measured["changed_files"], "quick": args.quick,
                     "modules_run": names, "modules": {}, "summary": [], "metrics": {}}
    busy = wait_until_quiet(0, window=1.0)  # one 1-second look, no waiting
    if busy > 0.05:
        print(f"note: other processes are using {busy:.0%} of the machine: they will disturb the figures "
              "(--wait-quiet waits for them before each module)", file=sys.stderr)
    rows: list[Row] = []
    section_of: dict[int, str] = {}  # summary row index -> module
    failed = []
    ctx = Context(args.quick)
    try:
        for name in names:
            print(f"\n==> {name}", flush=True)
            if args.wait_quiet:
                wait_until_quiet(args.wait_quiet)
            module_started = time.perf_counter()
            load_before = os.getloadavg()[0]
            cpu_before = cpu_accounting()
            try:
                module_rows, details = MODULES[name](ctx)
            except Exception as exc:  # one broken benchmark must not hide the others' figures
                traceback.print_exc()
                failed.append(name)
                module_rows, details = [Row(f"{name}: FAILED", None, note=f"{type(exc).__name__}: {exc}")], {
                    "error": traceback.format_exc()}
            seconds = time.perf_counter() - module_started
            foreign = foreign_cpu_fraction(cpu_before, cpu_accounting(), seconds)
            if foreign > 0.05:
                print(f"warning: other processes used {foreign:.0%} of the machine during '{name}'; "
                      "its figures are disturbed (rerun on a quiet machine, or with --wait-quiet)", file=sys.stderr)
            section_of.update({len(rows) + i: name for i in range(len(module_rows))})
            rows += module_rows
            results["modules"][name] = {"seconds": round(seconds, 1), "load_average_before": round(load_before, 2),
                                        "load_average_after": round(os.getloadavg()[0], 2),
                                        "other_processes_cpu_share": round(foreign, 3), "details": details}
            results["summary"] = [asdict(row) for row in rows]
            results["metrics"] = metrics(rows, section_of)
            results["duration_s"] = round(time.perf_counter() - started, 1)
            args.out.write_text(json.dumps(results, indent=2, default=_plain) + "\n")
            print(f"<== {name}: {seconds:.0f} s", flush=True)
    finally:
        ctx.close()

    total = time.perf_counter() - started
    results["duration_s"] = round(total, 1)
    results["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    results["summary_markdown"] = summary_markdown(rows)
    args.out.write_text(json.dumps(results, indent=2, default=_plain) + "\n")
    m = results["machine"]
    print(f"\n# Summary: {m['nproc']} x {m['cpu']}, {m['memory_gib']} GiB, Python {m['python']}; "
          f"{total:.0f} s in all{' (quick)' if args.quick else ''}\n")
    print(results["summary_markdown"])
    notes = [(row.metric.strip(), row.note) for row in rows if row.note]
    if notes:
        print("\nnotes:")
        for metric, note in notes:
            print(f"- {metric}: {note}")
    print("\nper module (s, and the share of the machine other processes took meanwhile): "
          + ", ".join(f"{n} {v['seconds']:.0f} ({v['other_processes_cpu_share']:.0%})"
                      for n, v in results["modules"].items()))
    print(f"written: {args.out}")
    return 1 if failed else 0


def _plain(value):
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


if __name__ == "__main__":
    raise SystemExit(main())
