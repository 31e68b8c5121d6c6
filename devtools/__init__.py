"""Development tools: the local stack, the demo, the stub LLM server, the sample paper,
corpus evaluation and the /proc readers the benchmarks use.

    python -m devtools demo          # what `make demo` runs
    python -m devtools run SERVICE   # one service of the local stack (Procfile.dev, `make up`)
    python -m devtools eval-parse    # the parser on the annotated corpus

Never in the images or the qagen wheel. `tests/` and `bench/` import it, and it imports
the product; the product (qagen, api, worker, charts) never imports it.
"""
