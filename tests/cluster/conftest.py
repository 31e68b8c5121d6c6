"""The cluster suite's nodes: a data node, an API node and three worker nodes in network
namespaces (devtools/cluster.py), built once for the suite and torn down even when a test
fails; the test process itself runs in the observer node's namespace.

Run it with `make test-cluster` (`pytest tests/cluster`): a plain `pytest` leaves it out,
like the fault suite. Where namespaces cannot be built (not root, no iproute2) it skips and
says why. It prints its measurements at the end and writes them to
test-artifacts/cluster-summary.md; docs/reliability.md holds a measured copy.
"""

from __future__ import annotations

import os
import uuid

import httpx
import pytest

from devtools import cluster as nodes
from qagen.apikeys import ApiKeyStore
from qagen.redis_client import redis_from_settings
from qagen.storage import S3Storage
from tests.cluster import drill

# Production's lease, heartbeat and sweep (20 s, 5 s, 5 s): the times measured are the ones
# production gets. The API's rate limits are raised for bursts of uploads. Jobs are slowed
# by the model, not by qagen: each node's LLM stub answers after 1 s, two calls at a time.
CLUSTER_ENV = {
    "QAGEN_UPLOAD_RATE_LIMIT": "100000/minute",
    "QAGEN_RATE_LIMIT": "100000/minute",
    "QAGEN_LOG_LEVEL": "INFO",
    # Callbacks go to a receiver in the observer node (a private address), retried after 1 s, 2 s.
    "QAGEN_WEBHOOK_ALLOW": "private",
    "QAGEN_WEBHOOK_SCHEDULE": "1,2",
    "QAGEN_WEBHOOK_TIMEOUT_SECONDS": "4",
}
WORKER_ENV = {"QAGEN_LLM_CONCURRENCY": "2"}
STUB_ARGS = ("--latency-ms", "1000")


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    reason = nodes.unavailable()
    if reason:
        pytest.skip(f"the cluster suite needs network namespaces: {reason}")
    built = nodes.Cluster(tmp_path_factory.mktemp("cluster"), extra_env=dict(CLUSTER_ENV),
                          worker_env=dict(WORKER_ENV), stub_args=STUB_ARGS)
    try:
        nodes.cleanup_leftovers()
        nodes.build_network()
        with nodes.inside("observer"):
            built.start_data()
            built.start_api()
            built.spawn("data", "webhooks", built.service_command("webhooks", "data"),
                        ready="webhook dispatcher ready")
            for node in nodes.WORKERS:
                built.start_worker(node)
            yield built
    finally:
        built.close()


@pytest.fixture(scope="session")
def credis(cluster):
    return redis_from_settings(cluster.settings)


@pytest.fixture(scope="session")
def cstorage(cluster) -> S3Storage:
    return S3Storage.from_settings(cluster.settings)


@pytest.fixture
def tenant_key(credis) -> tuple[str, str]:
    tenant = f"cl-{uuid.uuid4().hex[:10]}"
    return tenant, ApiKeyStore(credis).create(tenant)


@pytest.fixture
def cclient(cluster, tenant_key):
    with httpx.Client(base_url=cluster.api_url, headers={"Authorization": f"Bearer {tenant_key[1]}"},
                      timeout=60) as client:
        yield client


@pytest.fixture(autouse=True)
def _links_up(request):
    """Whatever a test cut, it is healed after it (a failing test included)."""
    yield
    built = request.node.funcargs.get("cluster")
    if built is not None:
        for link in list(built.cut_links):
            node, bridge = link.rsplit("-", 1)
            built.heal(node, {"b": "back", "f": "front"}[bridge])


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001
    if not drill.ROWS:
        return
    table = drill.table()
    terminalreporter.write_sep("=", "cluster summary")
    terminalreporter.write_line(table)
    drill.SUMMARY_FILE.parent.mkdir(parents=True, exist_ok=True)
    drill.SUMMARY_FILE.write_text(table + "\n")


_HERE = os.path.dirname(os.path.abspath(__file__))


def _selected(config) -> bool:  # type: ignore[no-untyped-def]
    if os.environ.get("CLUSTER_SUITE") == "1":
        return True
    for arg in config.args:
        path = os.path.abspath(str(arg).split("::", 1)[0])
        if path == _HERE or path.startswith(_HERE + os.sep):
            return True
    return False


def pytest_ignore_collect(collection_path, config):  # type: ignore[no-untyped-def]
    if not _selected(config) and str(collection_path).startswith(_HERE + os.sep):
        return True
    return None
