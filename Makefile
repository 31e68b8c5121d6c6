# Two commands set everything up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# tesseract: OCR of scanned papers; qpdf and poppler-utils: the PDF checks in the tests;
# chromium: the browser the web page's end-to-end test drives (Playwright cannot download one here);
# wrk: the load generator of the API benchmark.
APT_PACKAGES := redis-server tesseract-ocr tesseract-ocr-eng tesseract-ocr-hin qpdf poppler-utils chromium wrk
# The TypeScript client generated in the tests (tests/api/test_generated_clients.py): its npm
# packages, pinned in its package-lock.json; Node.js and npm from Debian when node is missing.
TS_CLIENT := tests/api/ts_client

.PHONY: help deps system-deps node-deps demo test test-reliability test-cluster up lock clean eval-parse eval-answers bench

help:
	@echo "make demo   - start the local stack, answer the example paper via the API, save out/*.pdf"
	@echo "make test   - run the test suite against real Redis, SeaweedFS and Celery"
	@echo "make test-reliability - the fault-injection suite (worker kills, Redis/S3 outages, ...; ~7 min)"
	@echo "make test-cluster - network partitions between nodes in network namespaces (root; ~5 min)"
	@echo "make up     - run the local stack in the foreground (Ctrl-C stops it)"
	@echo "make lock   - re-pin constraints.txt from the virtualenv"
	@echo "make eval-parse - the parser against the annotated corpus (ARGS='--papers DIR --truth FILE')"
	@echo "make eval-answers - the answer stage on the evaluation cases in devtools/answer_eval (ARGS='--half dev --show')"
	@echo "make bench  - every benchmark in bench/, tables printed and written to bench/results.json"

# Debian packages the stack needs, installed only when missing.
system-deps:
	@missing=""; for pkg in $(APT_PACKAGES); do dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Reinstall when the declared or pinned dependencies change.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install -q --upgrade pip==26.3
	$(BIN)/pip install -q -c constraints.txt -e ".[api,worker,dev]"
	touch $@

deps: system-deps $(VENV)/.installed

node-deps: $(TS_CLIENT)/node_modules/.installed

$(TS_CLIENT)/node_modules/.installed: $(TS_CLIENT)/package.json $(TS_CLIENT)/package-lock.json
	@if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
		echo "Installing Debian packages: nodejs npm"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm >/dev/null; \
	fi
	cd $(TS_CLIENT) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: deps
	LITELLM_LOCAL_MODEL_COST_MAP=True $(BIN)/python -m devtools demo

test: deps node-deps
	LITELLM_LOCAL_MODEL_COST_MAP=True $(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-reliability: deps
	LITELLM_LOCAL_MODEL_COST_MAP=True $(BIN)/python -m pytest -q tests/reliability $(PYTEST_ARGS)

# Data, API and worker nodes in network namespaces, cut off and healed (docs/reliability.md);
# it skips, saying why, where namespaces cannot be made (not root).
test-cluster: deps
	LITELLM_LOCAL_MODEL_COST_MAP=True $(BIN)/python -m pytest -q tests/cluster $(PYTEST_ARGS)

up: deps
	PATH="$(CURDIR)/$(BIN):$$PATH" LITELLM_LOCAL_MODEL_COST_MAP=True $(BIN)/honcho -f Procfile.dev start

eval-parse: deps
	$(BIN)/python -m devtools eval-parse $(ARGS)

eval-answers: deps
	LITELLM_LOCAL_MODEL_COST_MAP=True $(BIN)/python -m devtools.evaluate_answers $(ARGS)

bench: deps
	LITELLM_LOCAL_MODEL_COST_MAP=True $(BIN)/python -m bench

# `pip list --format=freeze` writes `name==version` even for a wheel installed from a
# local file, where `pip freeze` would write its path: a lock must name registry releases
# only (tests/test_pins.py checks it).
lock: $(BIN)/python
	$(BIN)/pip list --format=freeze --exclude-editable | grep -ivE '^(qagen|pip|setuptools|wheel)==' | LC_ALL=C sort -f > constraints.txt.new
	@if grep -vqE '^[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.+!-]+$$' constraints.txt.new; then \
		echo "make lock: refusing lines that are not name==version:"; \
		grep -vE '^[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.+!-]+$$' constraints.txt.new; rm -f constraints.txt.new; exit 1; fi
	mv constraints.txt.new constraints.txt

clean:
	rm -rf .qagen out .pytest_cache
