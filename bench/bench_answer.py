"""Answer stage against the OpenAI-compatible stub: concurrency and the shared rate limit.

    python bench/bench_answer.py [--questions 40] [--latency-ms 300] [--repeats 3]

1. Wall time for N questions at a fixed latency per call: one at a time vs ours
   (QAGEN_LLM_CONCURRENCY=8). Target: ours >= 6x faster.
2. The provider's rate limit: the stub answers 429 above L calls per window. Without our
   limiter a burst gets 429s (retried, costing time and quota); with our limit set just
   below L the stub sees none. Target: 0 429s. The limiter is the one production builds
   (`AnswerEngine.from_settings`: `ModelRateLimiter(llm_rpm, redis_url)`), shared through
   Redis (limits' moving window in a Lua script), here the bench stack's Redis
   (bench/stack.py; `python -m bench` passes its URL, run alone this starts a stack). A
   5-second window stands in for a minute so the run stays short; it is the same code
   path with a different window.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from bench.common import median_seconds, print_table, record  # noqa: E402
from qagen.answering.engine import AnswerEngine  # noqa: E402
from qagen.answering.limiter import ModelRateLimiter  # noqa: E402
from qagen.model import Paper, Question  # noqa: E402
from devtools.llm_stub import running_stub  # noqa: E402


def paper(count: int, salt: str) -> Paper:
    # A salt per run keeps the answer cache out of the measurement.
    return Paper(title="bench", questions=[Question(number=str(n), text=f"Explain idea {n} ({salt}).", marks=3)
                                           for n in range(1, count + 1)])


def engine(base: str, concurrency: int, limiter: ModelRateLimiter | None = None) -> AnswerEngine:
    return AnswerEngine(model="openai/stub", api_base=f"{base}/v1", timeout_seconds=30, concurrency=concurrency,
                        max_attempts=8, backoff_initial_seconds=0.5, backoff_max_seconds=5,
                        limiter=limiter or ModelRateLimiter(None))


def measure(n: int = 40, latency_ms: int = 300, repeats: int = 3, rate_limit: bool = True,
            redis_url: str | None = None) -> dict:
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench")
    with running_stub("--latency-ms", str(latency_ms)) as base:
        runs = iter(range(10**6))
        salt = os.urandom(3).hex()  # a fresh answer cache key every run, in every process
        engine(base, 1).answer_paper(paper(2, f"warm{salt}"))  # litellm's first call (imports, client) outside
        sequential = median_seconds(lambda: engine(base, 1).answer_paper(paper(n, f"s{salt}{next(runs)}")), repeats)
        ours = median_seconds(lambda: engine(base, 8).answer_paper(paper(n, f"c{salt}{next(runs)}")), repeats)
    print_table(f"Answer stage: {n} questions, stub at {latency_ms} ms per call (median of {repeats})",
                ["mode", "wall s", "speed-up"],
                [["sequential (concurrency 1)", sequential, "1.0x"], ["qagen (concurrency 8)", ours,
                                                                       f"{sequential / ours:.1f}x"]])
    result = {"questions": n, "latency_ms": latency_ms, "repeats": repeats, "sequential_s": sequential,
              "concurrent_s": ours, "speedup": sequential / ours, "floor_s": n * latency_ms / 1000 / 8}
    if not rate_limit:
        return result

    if not redis_url:
        raise ValueError("the rate-limit run needs a Redis (the limiter is shared through it, as in production)")
    limit, window = 12, 5
    forget_limits(redis_url)
    rows, figures = [], {}
    shared = ModelRateLimiter(limit - 2, redis_url, window)  # as AnswerEngine.from_settings with a Redis client
    for label, limiter in [("no limiter", None), (f"QAGEN limit {limit - 2}/{window}s (Redis-shared)", shared)]:
        with running_stub("--latency-ms", "50", "--rpm", str(limit), "--window-seconds", str(window)) as base:
            started = time.perf_counter()
            engine(base, 8, limiter).answer_paper(paper(n, label + os.urandom(3).hex()))
            wall = time.perf_counter() - started
            stats = httpx.get(f"{base}/stats").json()
        rows.append([label, stats["rate_limited"], stats["requests"], wall])
        figures[label] = {"429s": stats["rate_limited"], "requests": stats["requests"], "wall_s": wall}
    print_table(f"Provider rate limit: stub allows {limit} calls per {window} s; {n} questions",
                ["mode", "429s received", "HTTP requests", "wall s"], rows)
    result["rate_limit"] = figures
    result["rate_limit_storage"] = "redis (bench stack)"
    return result


def forget_limits(redis_url: str) -> None:
    """Drop the limiter's windows from an earlier run on the same Redis, so this one starts empty."""
    import redis

    from qagen.answering.limiter import NAMESPACE

    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(f"*{NAMESPACE}*", count=1000):
            client.delete(key)
    finally:
        client.close()


def run(questions: int = 40, latency_ms: int = 300, repeats: int = 3, rate_limit: bool = True,
        redis_url: str | None = None):
    """For `python -m bench`: summary rows and details (`redis_url`: the stack's, for the rate-limit run)."""
    from bench.common import Row

    r = measure(questions, latency_ms, repeats, rate_limit, redis_url)
    rows = [Row(f"answer stage, {questions} questions, stub LLM {latency_ms} ms/call", r["concurrent_s"], "s",
                r["sequential_s"], "sequential", r["concurrent_s"] / r["sequential_s"], ">= 6x faster",
                r["speedup"] >= 6, note=f"speed-up {r['speedup']:.1f}x; floor at 8 in flight {r['floor_s']:.1f} s")]
    if rate_limit:
        limited = next(v for k, v in r["rate_limit"].items() if k != "no limiter")
        free = r["rate_limit"]["no limiter"]
        rows.append(Row("  429s from a rate-limited provider, with our limiter", limited["429s"], "", free["429s"],
                        "no limiter", None, "0", limited["429s"] == 0,
                        note="the production limiter, shared through Redis; 5 s window for 60"))
    return rows, r


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--latency-ms", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-rate-limit", action="store_true", help="skip the provider rate-limit part (~40 s)")
    parser.add_argument("--redis-url", help="Redis for the shared limiter (default: start the bench stack)")
    args = parser.parse_args()
    rate_limit = not args.no_rate_limit
    if not rate_limit or args.redis_url:
        record("answer", measure(args.questions, args.latency_ms, args.repeats, rate_limit, args.redis_url))
        return
    from bench.stack import BenchStack

    stack = BenchStack()
    try:
        result = measure(args.questions, args.latency_ms, args.repeats, True, stack.settings.redis_url)
    finally:
        stack.close()
    record("answer", result)


if __name__ == "__main__":
    main()
