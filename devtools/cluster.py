"""A test cluster of nodes in network namespaces: the stack of devtools/stack.py, one node per role.

    data node   10.213.0.10   Redis (append-only) and SeaweedFS (`weed server -s3`)
    api node    10.213.0.20   gunicorn (the Procfile's web line); also 10.213.1.20 on the front network
    w1, w2, w3  10.213.0.31-33 a Celery worker each (the Procfile's worker line), with its own LLM stub
    observer    10.213.0.2    the test process itself (it enters this namespace); also 10.213.1.2

Each node is a network namespace (`ip netns add qgc-<node>`) with its own HOME and TMPDIR,
joined to the others only through its veth, whose other end is on a Linux bridge in a
namespace of its own (`qgc-switch`): the back network (10.213.0.0/24) joins every node; the
front network (10.213.1.0/24) joins the API and the observer, so that cutting the API off
from the data node leaves clients able to reach it. Nothing is created in the host's network
namespace, and nothing routes out of these. Cutting a node off is `ip link set <veth> down`
on the switch's end (`Cluster.cut`), after which no packet crosses (`Cluster.reachable`
checks it), and `heal` sets it up again. Root only; `unavailable()` says why not.

Processes start with `ip netns exec qgc-<node> <command>`: the commands are StackLayout's,
on the node's address instead of loopback. `cleanup_leftovers()` removes what a killed run
left (namespaces named qgc-*, and the processes in them) before a new cluster is built.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from devtools.stack import StackLayout, _read_from, stop_process_group, wait_until
from qagen.settings import Settings

PREFIX = "qgc-"
SWITCH = PREFIX + "switch"
BACK, FRONT = "10.213.0.", "10.213.1."
# node -> (address on the back network, address on the front network or None)
NODES = {"observer": ("2", "2"), "data": ("10", None), "api": ("20", "20"), "w1": ("31", None),
         "w2": ("32", None), "w3": ("33", None)}
WORKERS = ("w1", "w2", "w3")
STUB_PORT = 8099
_CLONE_NEWNET = 0x40000000
_REPO = Path(__file__).resolve().parent.parent


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=30)


def namespace(node: str) -> str:
    return PREFIX + node


def address(node: str, front: bool = False) -> str:
    back, front_part = NODES[node]
    return (FRONT + front_part) if front and front_part else BACK + back


def unavailable() -> str | None:
    """Why this machine cannot build the cluster (None: it can)."""
    if os.geteuid() != 0:
        return "network namespaces need root (ip netns add)"
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is not installed"
    probe = PREFIX + "probe"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"ip netns add failed: {made.stderr.strip()}"
    try:
        bridge = _ip("-n", probe, "link", "add", "br0", "type", "bridge", check=False)
        if bridge.returncode != 0:
            return f"a Linux bridge cannot be created: {bridge.stderr.strip()}"
        veth = _ip("-n", probe, "link", "add", "a0", "type", "veth", "peer", "name", "b0", check=False)
        if veth.returncode != 0:
            return f"a veth pair cannot be created: {veth.stderr.strip()}"
    finally:
        _ip("netns", "del", probe, check=False)
    return None


def cleanup_leftovers() -> list[str]:
    """Remove namespaces named qgc-* (a killed run's), ending the processes still in them."""
    names = [line.split()[0] for line in _ip("netns", "list").stdout.splitlines() if line.startswith(PREFIX)]
    for name in names:
        pids = _ip("netns", "pids", name, check=False).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        _ip("netns", "del", name, check=False)
    return names


def build_network() -> None:
    """The namespaces, the switch's two bridges and a veth per node and network."""
    _ip("netns", "add", SWITCH)
    for bridge in ("back", "front"):
        _ip("-n", SWITCH, "link", "add", bridge, "type", "bridge")
        _ip("-n", SWITCH, "link", "set", bridge, "up")
    for node, (_, front) in NODES.items():
        ns = namespace(node)
        _ip("netns", "add", ns)
        _ip("-n", ns, "link", "set", "lo", "up")
        for bridge, side, present in (("back", "eth0", True), ("front", "eth1", front is not None)):
            if not present:
                continue
            port = veth(node, bridge)
            _ip("-n", SWITCH, "link", "add", port, "type", "veth", "peer", "name", side, "netns", ns)
            _ip("-n", SWITCH, "link", "set", port, "master", bridge, "up")
            _ip("-n", ns, "addr", "add", f"{address(node, bridge == 'front')}/24", "dev", side)
            _ip("-n", ns, "link", "set", side, "up")


def veth(node: str, bridge: str = "back") -> str:
    """The switch's end of a node's link (what `cut` takes down)."""
    return f"{node}-{bridge[0]}"


def destroy_network() -> None:
    cleanup_leftovers()


@contextmanager
def inside(node: str):
    """Run the calling thread in the node's network namespace (sockets made meanwhile, and
    threads started meanwhile, stay in it); back to where it was afterwards."""
    libc = ctypes.CDLL(None, use_errno=True)
    original = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{namespace(node)}", os.O_RDONLY)
    try:
        if libc.setns(target, _CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns into {namespace(node)} failed")
        yield
    finally:
        libc.setns(original, _CLONE_NEWNET)
        os.close(target)
        os.close(original)


@dataclass
class Cluster:
    """The nodes' processes. `start()` builds the network and starts every service."""

    root: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    worker_env: dict[str, str] = field(default_factory=dict)
    stub_args: tuple[str, ...] = ()
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    cut_links: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        ports = {"master": 9333, "master_grpc": 19333, "volume": 8080, "volume_grpc": 18080, "filer": 8888,
                 "filer_grpc": 18888, "s3_grpc": 18333}
        self.layout = StackLayout(data_dir=self.root / "data", redis_port=6379, s3_port=8333, api_port=8000,
                                  weed_ports=ports, access_key="qagen-cluster",
                                  secret_key="qagen-cluster-" + os.urandom(6).hex(), worker_concurrency=2,
                                  redis_appendfsync="always")

    # --- addresses and settings ----------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"http://{address('api', front=True)}:{self.layout.api_port}"

    def service_env(self) -> dict[str, str]:
        """Every node's qagen settings: Redis and S3 on the data node."""
        data = address("data")
        env = {name: value.replace("127.0.0.1", data) for name, value in self.layout.settings_overrides().items()}
        return {**env, **self.extra_env}

    @property
    def settings(self) -> Settings:
        values = {k.removeprefix("QAGEN_").lower(): v for k, v in self.service_env().items() if k.startswith("QAGEN_")}
        return Settings(**values)

    def node_env(self, node: str) -> dict[str, str]:
        home, tmp = self.root / "nodes" / node / "home", self.root / "nodes" / node / "tmp"
        home.mkdir(parents=True, exist_ok=True)
        tmp.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("QAGEN_")}
        env.update(self.service_env())
        env.update({"HOME": str(home), "TMPDIR": str(tmp), "PYTHONUNBUFFERED": "1",
                    "LITELLM_LOCAL_MODEL_COST_MAP": "True", "MPLCONFIGDIR": str(tmp / "mpl")})
        return env

    def log_path(self, name: str) -> Path:
        return self.root / "logs" / f"{name}.log"

    # --- processes ----------------------------------------------------------------------------

    def spawn(self, node: str, name: str, command: list[str], env: dict[str, str] | None = None,
              ready: str | None = None, timeout: float = 90.0) -> subprocess.Popen:
        """Start `command` in the node's namespace; wait for `ready` in its log if given."""
        log = self.log_path(name)
        log.parent.mkdir(parents=True, exist_ok=True)
        offset = log.stat().st_size if log.exists() else 0
        with open(log, "ab") as handle:
            process = subprocess.Popen(["ip", "netns", "exec", namespace(node), *command], stdout=handle,
                                       stderr=subprocess.STDOUT, env={**self.node_env(node), **(env or {})},
                                       cwd=_REPO, start_new_session=True)
        self.processes[name] = process
        if ready:
            def up() -> bool:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}; see {log}")
                return ready.encode() in _read_from(log, offset)
            wait_until(up, timeout, f"{name} (log: {log})", 0.2)
        return process

    def service_command(self, service: str, node: str) -> list[str]:
        """StackLayout's command for `service`, bound to the node's address instead of loopback."""
        host = "0.0.0.0" if service == "web" else address(node)
        command = [part.replace("127.0.0.1", host) for part in self.layout.command(service)]
        # Redis refuses other hosts without a password unless told: this network is private to the cluster.
        return [*command, "--protected-mode", "no"] if service == "redis" else command

    def start_data(self, timeout: float = 90.0) -> None:
        from qagen.redis_client import redis_from_settings
        from qagen.storage import S3Storage

        self.spawn("data", "redis", self.service_command("redis", "data"), ready="Ready to accept connections",
                   timeout=timeout)
        self.spawn("data", "s3", self.service_command("s3", "data"))
        with inside("observer"):
            wait_until(redis_from_settings(self.settings, timeout_seconds=1.0).ping, timeout, "Redis on the data node")
            storage = S3Storage.from_settings(self.settings, timeout_seconds=2.0, attempts=1)
            wait_until(lambda: storage.ensure_bucket() or True, timeout, "the bucket on the data node", 0.5)

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
        stop_process_group(self.processes.pop(name, None), sig, timeout)

    def start_api(self, timeout: float = 90.0) -> None:
        import httpx

        self.spawn("api", "web", self.service_command("web", "api"))
        with inside("observer"):
            wait_until(lambda: httpx.get(f"{self.api_url}/healthz", timeout=2).status_code == 200, timeout,
                       "the API node", 0.3)

    def start_worker(self, node: str, timeout: float = 120.0) -> subprocess.Popen:
        """The node's LLM stub (on its loopback), then its Celery worker named after the node."""
        if f"stub-{node}" not in self.processes:
            self.spawn(node, f"stub-{node}", [sys.executable, "-m", "devtools.llm_stub", "--port", str(STUB_PORT),
                                              *self.stub_args], ready="stub LLM listening", timeout=30)
        from dataclasses import replace

        command = [part.replace("127.0.0.1", address(node)) for part in replace(self.layout, worker_name=node).command("worker")]
        env = {"QAGEN_MODEL": "openai/stub-model", "QAGEN_LLM_API_BASE": f"http://127.0.0.1:{STUB_PORT}/v1",
               "OPENAI_API_KEY": "sk-stub-not-a-real-key", **self.worker_env}
        return self.spawn(node, node, command, env=env, ready=" ready.", timeout=timeout)

    def start(self) -> Cluster:
        cleanup_leftovers()
        build_network()
        self.start_data()
        self.start_api()
        for node in WORKERS:
            self.start_worker(node)
        return self

    def close(self) -> None:
        """Stop every process (SIGKILL: the test is over), then remove the namespaces."""
        for name in reversed(list(self.processes)):
            self.stop(name, signal.SIGKILL, timeout=10)
        destroy_network()

    # --- partitions ---------------------------------------------------------------------------

    def cut(self, node: str, bridge: str = "back") -> float:
        """Take the node's link down (the switch's end); the moment it was cut."""
        _ip("-n", SWITCH, "link", "set", veth(node, bridge), "down")
        self.cut_links.add(veth(node, bridge))
        return time.time()

    def heal(self, node: str, bridge: str = "back") -> float:
        _ip("-n", SWITCH, "link", "set", veth(node, bridge), "up")
        self.cut_links.discard(veth(node, bridge))
        return time.time()

    def reachable(self, source: str, target: str, port: int, timeout: float = 1.0) -> bool:
        """Whether a TCP connection from `source` to `target`:`port` on the back network opens now."""
        probe = ("import socket,sys\ns=socket.socket();s.settimeout(float(sys.argv[3]))\n"
                 "sys.exit(s.connect_ex((sys.argv[1],int(sys.argv[2]))))")
        done = subprocess.run(["ip", "netns", "exec", namespace(source), sys.executable, "-c", probe, address(target),
                               str(port), str(timeout)], capture_output=True, timeout=timeout + 10)
        return done.returncode == 0

    def worker_pids(self, node: str) -> tuple[int, list[int]]:
        """(main pid, pool process pids) of the node's worker."""
        main = self.processes[node].pid
        children = subprocess.run(["pgrep", "-P", str(main)], capture_output=True, text=True).stdout.split()
        return main, [int(pid) for pid in children]
