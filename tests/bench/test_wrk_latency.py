"""The API benchmark reads the peer's latencies the way wrk reads its own (bench/bench_api.py)."""

from __future__ import annotations

import pytest

from bench.bench_api import wrk_corrected, wrk_percentile


def test_a_stall_counts_for_the_requests_a_scheduled_client_would_have_seen_delayed():
    # 300 requests of 10 ms in 3.57 s on one connection, one of them stalled for 200 ms:
    # wrk's expected interval is 11.9 ms, and the stall adds 200-11.9, 200-23.8, ... > 11.9.
    latencies = [10.0] * 299 + [200.0]
    corrected = wrk_corrected(latencies, runtime_s=3.57, connections=1)

    assert len(corrected) == 300 + 15
    assert sorted(v for v in corrected if v > 10) == pytest.approx([200 - 11.9 * k for k in range(15, -1, -1)])
    assert wrk_percentile(latencies, 99) == 10.0  # raw: one slow request in 300 is not the p99
    assert wrk_percentile(corrected, 99) > 150.0  # corrected, the stall is


def test_steady_latencies_are_left_alone():
    latencies = [10.0 + (i % 3) for i in range(300)]
    assert wrk_corrected(latencies, runtime_s=3.3, connections=1) == latencies
    assert wrk_percentile(latencies, 50) == 11.0 and wrk_percentile(latencies, 100) == 12.0
