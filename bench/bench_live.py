#!/usr/bin/env python3
"""Benchmark of the live path (issue 11, items 4 and 5), against the netns lab behind the fake API server.

1. Start-up: a plugin run under ``python -X importtime``, module by module (cumulative import
   time of the packages the run loads: the official client's config modules, typer, pydantic...).
2. One Service on a node holding hello-service plus N background Services x 10 endpoints (1,000
   and 10,000): the reference is what an operator types by hand, ``kubectl exec <kube-proxy pod>
   -- iptables-save -c -t nat`` (real kubectl, same server, same WebSocket exec), against the
   installed plugin, ``kubectl-svcpath hello-service -o json`` (a child process, as users run it);
   both again with 20 ms added on the way to the API server. The figures: the plugin's own time
   above the reference (target <= 0.5 s) and the ratio (target <= 1.5x at 10,000 Services).
3. ``--all-nodes`` on K API nodes (default 100) whose execs run in a few lab namespaces (the
   light lab: a Node names the namespace its exec runs in), against ``--node`` on one of them,
   with the default ``--max-parallel`` and its peak memory; the per-node cost it implies for
   1,000 and 5,000 nodes, and ``--sample 10`` beside it; then both again with each node's
   ``iptables-save -c`` recorded once and replayed by the server (the nodes' own work, which a real
   cluster does on the nodes, taken off this machine's two CPUs).

4. ``--all -A`` live (``--parts audit``): the API server holds the N + 1 Services and their EndpointSlices
   (listed in pages), the node their rules; against one Service on the same node and server.

The 20 ms: this kernel has no netem (CONFIG_NET_SCH_NETEM is not set: ``tc qdisc add ... netem``
answers "Specified qdisc kind is unknown"), so a relay on 127.0.0.1 inside this process holds
every chunk the client sends for 20 ms before passing it on (what ``netem delay 20ms`` on the
client's side of a link does: +20 ms per round trip, no loss, no rate limit). The plugin and the
reference both go through it.

Commands compared with each other run in turns (A B A B ...), so that load from other jobs on the
machine hits them alike; each figure is the best of R runs, with the median beside it. Every run
is checked for success and the fake server's request log for reads only. Run as root:
``python bench/bench_live.py [--sizes 1000,10000 --nodes 100 --repeat R]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kubectl_svcpath.kube.exec import is_allowed  # noqa: E402
from kubectl_svcpath.options import MAX_PARALLEL  # noqa: E402
from tests.fakeapi.server import FakeApiServer, FakeCluster, make_cert  # noqa: E402
from tests.lab import kpgen  # noqa: E402
from tests.lab.netns import Lab, unavailable_reason  # noqa: E402

PLUGIN = str(Path(sys.executable).parent / "kubectl-svcpath")
POD_IP = "192.168.189.15"
DELAY = 0.020
# Children run as an installed plugin runs: with its modules' .pyc files. PYTHONDONTWRITEBYTECODE (set
# on some development machines) would have every run compile the package from source (~0.2 s of CPU).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def compile_package() -> None:
    import compileall

    compileall.compile_dir(str(ROOT / "kubectl_svcpath"), quiet=1)


@dataclass
class Timing:
    best: float
    median: float
    cpu: float  # the least CPU (user + sys) of a run: the command and the commands its execs ran
    result: subprocess.CompletedProcess
    own: float = 0.0  # the least CPU of the command's own process (the plugin, or kubectl), without the execs
    server: float = 0.0  # the least CPU of this process meanwhile: the fake API server's threads (TLS, frames)

    def __str__(self) -> str:
        return f"{self.best:.2f} s ({self.median:.2f}), CPU {self.cpu:.2f} s"


def _children_cpu(who: int = resource.RUSAGE_CHILDREN) -> float:
    ru = resource.getrusage(who)
    return ru.ru_utime + ru.ru_stime


def race(commands: dict[str, list[str]], repeat: int) -> dict[str, Timing]:
    """Each command ``repeat`` times, in turns; a failing run stops the benchmark.

    CPU is counted over this process's children: the command itself and what the fake API server
    runs for its execs (``ip netns exec … iptables-save``), the same for the plugin and kubectl;
    ``own`` is the command's process alone (GNU time around it), what a user's machine pays."""
    times: dict[str, list[float]] = {k: [] for k in commands}
    cpus: dict[str, list[float]] = {k: [] for k in commands}
    owns: dict[str, list[float]] = {k: [] for k in commands}
    servers: dict[str, list[float]] = {k: [] for k in commands}
    last: dict[str, subprocess.CompletedProcess] = {}
    with tempfile.NamedTemporaryFile("r") as usage:
        for _ in range(repeat):
            for key, argv in commands.items():
                c0, s0, t0 = _children_cpu(), _children_cpu(resource.RUSAGE_SELF), time.perf_counter()
                result = subprocess.run(["/usr/bin/time", "-f", "%U %S", "-o", usage.name, *argv], capture_output=True,
                                        text=True, timeout=900, env=CHILD_ENV)
                times[key].append(time.perf_counter() - t0)
                cpus[key].append(_children_cpu() - c0)
                servers[key].append(_children_cpu(resource.RUSAGE_SELF) - s0)
                usage.seek(0)
                owns[key].append(sum(float(x) for x in usage.read().split()[-2:]))
                if result.returncode not in (0, 3):
                    raise SystemExit(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()[:300]}")
                last[key] = result
    return {k: Timing(min(v), statistics.median(v), min(cpus[k]), last[k], min(owns[k]), min(servers[k]))
            for k, v in times.items()}


def peak_rss_mb(argv: list[str]) -> float:
    """The child's peak resident memory (GNU time's %M)."""
    r = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], capture_output=True, text=True, timeout=900, env=CHILD_ENV)
    return int(r.stderr.strip().splitlines()[-1]) / 1024


class DelayRelay:
    """127.0.0.1:port -> target: what the client sends is passed on ``delay`` seconds later, in order."""

    def __init__(self, target: tuple[str, int], delay: float) -> None:
        self.target, self.delay = target, delay
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closing:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pump, args=(client, server, self.delay), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, 0.0), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket, delay: float) -> None:
        import queue

        chunks: queue.Queue[tuple[float, bytes]] = queue.Queue()

        def send() -> None:
            while True:
                due, data = chunks.get()
                time.sleep(max(0.0, due - time.monotonic()))
                try:
                    dst.sendall(data) if data else dst.shutdown(socket.SHUT_WR)
                except OSError:
                    return
                if not data:
                    return

        threading.Thread(target=send, daemon=True).start()
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            chunks.put((time.monotonic() + delay, data))
            if not data:
                return

    def close(self) -> None:
        self.closing = True
        self.sock.close()


WATCHED = ("kubernetes", "kubernetes.client", "kubernetes.config", "kubernetes.config.kube_config",
           "kubernetes.config.incluster_config", "requests_oauthlib", "kubernetes.client.api_client",
           "kubernetes.stream", "pydantic", "urllib3", "yaml", "typer", "typer._adapters",
           "kubectl_svcpath.cli", "kubectl_svcpath.app", "kubectl_svcpath.pipeline", "kubectl_svcpath.live")


def startup_rows(kc: str) -> list[tuple[str, str]]:
    """A plugin run under -X importtime: the imports in all, and the cumulative time of the modules
    worth watching (each counts what it imported first; nested entries overlap their parents)."""
    env = {**CHILD_ENV, "PYTHONPROFILEIMPORTTIME": "1"}
    r = subprocess.run([PLUGIN, "hello-service", "-o", "json", "--kubeconfig", kc],
                       capture_output=True, text=True, timeout=300, env=env)
    total, cumulative = 0, {}
    for line in r.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)", line)
        if m:
            total += int(m.group(1))
            cumulative.setdefault(m.group(3), int(m.group(2)))
    rows = [("every import of a plugin run", f"{total / 1e6:.2f} s")]
    rows += [(f"`{mod}`", f"{cumulative[mod] / 1e6:.3f} s") for mod in WATCHED if mod in cumulative]
    loaded = [mod for mod in ("typer._adapters", "kubernetes.client.api.core_v1_api") if mod not in cumulative]
    if loaded:
        rows.append(("not imported", ", ".join(f"`{m}`" for m in loaded)))
    return rows


STEPS = """
import sys, time
c, t = time.process_time, time.process_time()
print("interpreter and site", t)  # process time counts from the process's start
def step(name, f):
    global t
    f(); now = c(); print(name, now - t); t = now
step("kubectl_svcpath.cli (typer, click)", lambda: __import__("kubectl_svcpath.cli"))
step("kubectl_svcpath.app (manifest, report, render)", lambda: __import__("kubectl_svcpath.app"))
step("kubectl_svcpath.live, kube/, collect/", lambda: __import__("kubectl_svcpath.live"))
def kube():
    import kubernetes.client, kubernetes.config.kube_config, kubernetes.stream.ws_client
step("kubernetes (client, config, stream; with its pydantic, urllib3, yaml, requests, oauthlib)", kube)
step("kubectl_svcpath.pipeline (findings, analysis; imported once the exec is under way)", lambda: __import__("kubectl_svcpath.pipeline"))
def iptables():
    import kubectl_svcpath.modes.iptables.parse_save, kubectl_svcpath.modes.iptables.correlate
    import kubectl_svcpath.modes.iptables.checks, kubectl_svcpath.render.structured
step("iptables mode parse/correlate/checks, JSON renderer", iptables)
"""


def startup_cpu_rows(runs: int = 5) -> list[tuple[str, str]]:
    """CPU (process time) of each import step of a live run, in its order, in a fresh interpreter each
    time (median of ``runs``): steadier than wall-clock import times on a shared machine."""
    per: dict[str, list[float]] = {}
    for _ in range(runs):
        r = subprocess.run([sys.executable, "-c", STEPS], capture_output=True, text=True, timeout=120, env=CHILD_ENV)
        for line in r.stdout.splitlines():
            name, _, secs = line.rpartition(" ")
            per.setdefault(name, []).append(float(secs))
    rows = [(name, f"{statistics.median(v) * 1000:.0f} ms") for name, v in per.items()]
    return rows + [("in all", f"{sum(statistics.median(v) for v in per.values()) * 1000:.0f} ms")]


def one_service(lab: Lab, cert, tmp: Path, services: int, repeat: int, kubectl: bool,
                startup: list[tuple[str, str]] | None = None) -> list[tuple[str, ...]]:
    cluster = FakeCluster()
    node = lab.add_node(f"n{services}")
    t0 = time.perf_counter()
    text = kpgen.generate([kpgen.hello_service()] + kpgen.cluster_services(services, 10), kpgen.HELLO_CONFIG)
    lab.load_iptables(node, text, backend="legacy")
    load_s = time.perf_counter() - t0
    del text
    cluster.add_node("cp01", node.ns, backend="legacy")
    cluster.add_objects(kpgen.api_objects(kpgen.hello_service(), node_of={POD_IP: "cp01"}))
    cluster.set_proxy_config("")
    pod = next(name for kind, _, name in cluster.objects if kind == "Pod")
    rows = []
    with FakeApiServer(cluster, cert) as api:
        relay = DelayRelay(("127.0.0.1", api.port), DELAY)
        try:
            for label, url in (("", api.url), (" +20 ms", f"https://127.0.0.1:{relay.port}")):
                kc = str(api.write_kubeconfig(tmp / f"kc-{services}-{bool(label)}", server=url))
                commands = {"plugin": [PLUGIN, "hello-service", "-o", "json", "--kubeconfig", kc]}
                if kubectl:
                    commands["ref"] = ["kubectl", "--kubeconfig", kc, "-n", "kube-system", "exec", pod, "--",
                                       "iptables-save", "-c", "-t", "nat"]
                t = race(commands, repeat)
                if startup is not None and not label:
                    startup.extend(startup_rows(kc))
                assert json.loads(t["plugin"].result.stdout)["service"]["name"] == "hello-service"
                size = f"{services + 1:,} Services{label}"
                if "ref" in t:
                    ref, plug = t["ref"], t["plugin"]
                    mb = len(ref.result.stdout) / 1e6
                    rows.append((size, f"{ref} ({mb:.1f} MB); kubectl {ref.own:.2f} s", f"{plug}; plugin {plug.own:.2f} s",
                                 f"{plug.best - ref.best:+.2f} s, CPU {plug.cpu - ref.cpu:+.2f} s",
                                 f"{plug.best / ref.best:.2f}x, CPU {plug.cpu / ref.cpu:.2f}x"))
                else:
                    rows.append((size, "(no kubectl)", str(t["plugin"]), "", ""))
        finally:
            relay.close()
    check_reads(cluster)
    print(f"  loaded {services + 1:,} Services in {load_s:.0f} s", file=sys.stderr)
    return rows


def many_nodes(lab: Lab, cert, tmp: Path, n_nodes: int, spaces: int, services: int, repeat: int) -> list[tuple[str, str]]:
    cluster = FakeCluster()
    text = kpgen.generate([kpgen.hello_service()] + kpgen.cluster_services(services, 10), kpgen.HELLO_CONFIG)
    namespaces = []
    for i in range(spaces):
        node = lab.add_node(f"s{i}")
        lab.load_iptables(node, text, backend="legacy")
        namespaces.append(node.ns)
    names = [f"w{i:03d}" for i in range(n_nodes)]
    for i, name in enumerate(names):
        cluster.add_node(name, namespaces[i % spaces], backend="legacy")
        cluster.objects[("Node", "", name)]["metadata"]["labels"]["topology.kubernetes.io/zone"] = f"zone-{i % 3}"
    cluster.add_objects(kpgen.api_objects(kpgen.hello_service(), node_of={POD_IP: names[0]}))
    cluster.set_proxy_config("")
    dump_mb = len(lab.run(node, ["iptables-legacy-save", "-c"]).stdout) / 1e6
    rows = []
    with FakeApiServer(cluster, cert) as api:
        kc = str(api.write_kubeconfig(tmp / "kc-many"))
        base = [PLUGIN, "hello-service", "-o", "json", "--kubeconfig", kc]
        t = race({"one": base + ["--node", names[0]], "all": base + ["--all-nodes"],
                  "sample": base + ["--sample", "10"]}, repeat)
        doc = json.loads(t["all"].result.stdout)
        assert len(doc["items"]) == n_nodes and not doc["errors"], doc["errors"]
        execs = sum(1 for r in cluster.requests if r.argv is not None)
        runs = repeat * (1 + n_nodes + 10)  # the execs of every run of the three commands
        one, every = t["one"], t["all"]
        per = {"wall": every.best - one.best, "plugin": every.own - one.own, "execs": (every.cpu - every.own) - (one.cpu - one.own),
               "server": every.server - one.server}
        per = {k: v / (n_nodes - 1) for k, v in per.items()}
        rss_one, rss_all = peak_rss_mb(base + ["--node", names[0]]), peak_rss_mb(base + ["--all-nodes"])
        rows.append((f"`--node {names[0]}` (1 of {n_nodes} nodes, {services + 1:,} Services, {dump_mb:.1f} MB each)",
                     f"{one}, of which the plugin {one.own:.2f} s; peak {rss_one:.0f} MB"))
        rows.append((f"`--all-nodes` ({n_nodes} nodes, {MAX_PARALLEL} at a time)",
                     f"{every}, of which the plugin {every.own:.2f} s; peak {rss_all:.0f} MB: "
                     f"**{every.best / one.best:.1f}x one node** (target <= 6x)"))
        rows.append(("`--sample 10` (10 nodes across 3 zones)", str(t["sample"])))
        rows.append(("each further node, (all - one) / (K - 1)",
                     f"{per['wall'] * 1000:.0f} ms wall; CPU: plugin {per['plugin'] * 1000:.1f} ms, the lab's execs "
                     f"(`ip netns exec`, `iptables-save`) {per['execs'] * 1000:.1f} ms, the fake API server "
                     f"{per['server'] * 1000:.1f} ms"))
        rows.append(("execs per node", f"{execs / runs:.2f}"))
        rows += _replayed(cluster, base, names[0], n_nodes, namespaces, repeat)
        for n in (1000, 5000):
            lab_s = one.best + per["wall"] * (n - 1)
            own_s = one.own + per["plugin"] * (n - 1)
            rows.append((f"`--all-nodes` on {n:,} nodes", f"this lab: ~{lab_s:.0f} s ({lab_s / 60:.1f} min); "
                         f"the plugin's own CPU: ~{own_s:.0f} s"))
    check_reads(cluster)
    return rows


def _replayed(cluster: FakeCluster, base: list[str], first: str, n_nodes: int, namespaces: list[str],
              repeat: int) -> list[tuple[str, str]]:
    """The same runs with each node's ``iptables-save -c`` recorded once and streamed from memory by the
    server: the node's own work (``ip netns exec`` + ``iptables-save``, 16-17 ms of CPU a node here) is
    taken off this machine, as a real cluster's nodes do it on their own CPUs. The plugin's side, the
    server's TLS and framing are unchanged."""
    for ns in namespaces:
        out = subprocess.run(["ip", "netns", "exec", ns, "iptables-legacy-save", "-c"], capture_output=True, check=True).stdout
        cluster.replay[(ns, ("iptables-save", "-c"))] = out
    try:
        t = race({"one": base + ["--node", first], "all": base + ["--all-nodes"]}, repeat)
    finally:
        cluster.replay.clear()
    one, every = t["one"], t["all"]
    return [("the same with each node's `iptables-save -c` replayed from memory (the nodes' own work off this machine)",
             f"one node {one}; `--all-nodes` {every}, of which the plugin {every.own:.2f} s: "
             f"**{every.best / one.best:.1f}x one node**; "
             f"{(every.best - one.best) / (n_nodes - 1) * 1000:.0f} ms wall a further node")]


def live_audit(lab: Lab, cert, tmp: Path, services: int, repeat: int) -> list[tuple[str, str]]:
    """``--all -A`` live (part 4): the API server holds all N + 1 Services and their EndpointSlices, the
    node their rules; against one Service (hello-service) on the same node and server, in turns."""
    cluster = FakeCluster()
    node = lab.add_node(f"a{services}")
    specs = [kpgen.hello_service()] + kpgen.cluster_services(services, 10)
    lab.load_iptables(node, kpgen.generate(specs, kpgen.HELLO_CONFIG), backend="legacy")
    cluster.add_node("cp01", node.ns, backend="legacy")
    cluster.add_objects(kpgen.api_objects(specs[0], node_of={POD_IP: "cp01"}))
    for spec in specs[1:]:
        cluster.add_objects(kpgen.api_objects(spec))
    cluster.set_proxy_config("")
    rows = []
    with FakeApiServer(cluster, cert) as api:
        kc = str(api.write_kubeconfig(tmp / f"kc-audit-{services}"))
        one = [PLUGIN, "hello-service", "-o", "json", "--kubeconfig", kc]
        every = [PLUGIN, "--all", "-A", "--kubeconfig", kc]
        t = race({"one": one, "all": every}, repeat)
        out = t["all"].result.stdout
        assert f"\n{services + 1} Services, " in out and len(out.splitlines()) > services + 4, out[-500:]  # a row each
        rss_one, rss_all = peak_rss_mb(one), peak_rss_mb(every)
        pages = [r for r in cluster.requests if r.path.endswith("/services") and "limit" in r.query]  # (--all's alone)
        rows.append((f"one Service (`hello-service -o json`), {services + 1:,} Services on the node",
                     f"{t['one']}; plugin {t['one'].own:.2f} s, peak {rss_one:.0f} MB"))
        rows.append((f"`--all -A` ({services + 1:,} Services and their EndpointSlices listed, one node's rules)",
                     f"{t['all']}; plugin {t['all'].own:.2f} s, peak {rss_all:.0f} MB = {t['all'].best / t['one'].best:.1f}x one "
                     f"Service (CPU {t['all'].cpu / t['one'].cpu:.1f}x, the plugin's own {t['all'].own / t['one'].own:.1f}x; "
                     f"target <= 3x); the Service LIST in {len(pages) // (repeat + 1)} pages"))
    check_reads(cluster)
    return rows


def check_reads(cluster: FakeCluster) -> None:
    bad = [r for r in cluster.requests if r.method != "GET" or (r.argv is not None and not is_allowed(r.argv))]
    if bad or cluster.violations:
        raise SystemExit(f"not read-only: {bad[:3]} {cluster.violations[:3]}")


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000", help="background Services on the node (part 2), comma list")
    ap.add_argument("--nodes", type=int, default=100, help="API nodes for --all-nodes (part 3)")
    ap.add_argument("--spaces", type=int, default=4, help="lab namespaces those nodes' execs run in")
    ap.add_argument("--node-services", type=int, default=200, help="background Services on each of those nodes")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--parts", default="one,many", help="which parts: one (one Service, start-up), many (--all-nodes), "
                    "audit (--all -A on a node of --audit-services Services, all of them in the API)")
    ap.add_argument("--audit-services", type=int, default=10_000, help="background Services of part audit")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    compile_package()
    load0 = os.getloadavg()[0]
    reason = unavailable_reason()
    if reason:
        raise SystemExit(f"bench_live: {reason}")
    kubectl = shutil.which("kubectl") is not None
    out = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        cert = make_cert(tmp)
        rows: list[tuple[str, ...]] = []
        start: list[tuple[str, str]] = []
        if "one" in parts:
            for size in (int(s) for s in args.sizes.split(",")):
                with Lab() as lab:
                    rows += one_service(lab, cert, tmp, size, args.repeat, kubectl, None if start else start)
            out.append("One Service (plugin's own time = plugin - reference; target <= 0.5 s, <= 1.5x at 10,000):\n")
            out.append(table(("rules on the node", "`kubectl exec … iptables-save -c -t nat` (CPU; kubectl's own)", "`kubectl svcpath hello-service -o json` (CPU; the plugin's own)",
                              "plugin's own time", "ratio"), rows))
            out.append("\nStart-up, step by step (CPU of each import step of a live run, in its order, fresh interpreter, "
                       "median of 5):\n")
            out.append(table(("step", "CPU"), startup_cpu_rows()))
            out.append("\nStart-up, module by module (`-X importtime` of a plugin run: wall, cumulative):\n")
            out.append(table(("package", "import time"), start))
        if "many" in parts:
            with Lab() as lab:
                many = many_nodes(lab, cert, tmp, args.nodes, args.spaces, args.node_services, args.repeat)
            out.append(f"\nMany nodes ({args.nodes} API nodes, execs in {args.spaces} lab namespaces):\n")
            out.append(table(("what", "time"), many))
        if "audit" in parts:
            with Lab() as lab:
                rows_audit = live_audit(lab, cert, tmp, args.audit_services, args.repeat)
            out.append("\n--all live (every Service of the cluster against one node's rules):\n")
            out.append(table(("what", "time"), rows_audit))
    print(f"\nLive path (fake API server over HTTPS + WebSocket exec, netns nodes), best of {args.repeat} "
          f"(medians in brackets; {os.cpu_count()} CPUs, load average {load0:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end):\n")
    print("\n".join(out))


if __name__ == "__main__":
    main()
