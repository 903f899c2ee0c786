#!/usr/bin/env python3
"""Benchmark of the live-cluster path (issue 3), against the netns lab behind the fake API server.

1. One node holding hello-service plus N background Services x M endpoints (default 1,000 x 10):
   the reference is what an operator types by hand, ``kubectl exec <kube-proxy pod> -- iptables-save
   -c -t nat`` (real kubectl, same server, same WebSocket exec); against it the installed plugin,
   ``kubectl-svcpath hello-service -o json`` (a child process, as users run it), and - to show where
   the time goes - ``kubectl exec`` of the plugin's own listing (all tables), ``live.gather()`` in
   a warm process (no interpreter start, no imports), and the interpreter start plus the
   ``kubernetes`` modules the plugin loads, beside what the generated ``CoreV1Api`` and
   ``DiscoveryV1Api`` would add (the plugin does not load them: kubectl_svcpath/kube/transport.py).
2. ``--all-nodes`` on K lab nodes (default 20) against ``--node`` on one of them: the execs run
   concurrently (at most 8 at a time), so K nodes should cost far less than K single runs.

Commands compared with each other run in turns (A B C A B C ...), so that load from other jobs on
the machine hits them alike; each figure is the best of R runs, with the median beside it. Every
run is checked for success and the fake server's request log for reads only. The lab shares the
CPUs with the API server and the tools it runs. Run as root:
``python bench/bench_live.py [--services N --endpoints M --nodes K --repeat R]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kubectl_svcpath import live  # noqa: E402
from kubectl_svcpath.kube.exec import is_allowed  # noqa: E402
from tests.fakeapi.server import FakeApiServer, FakeCluster, make_cert  # noqa: E402
from tests.lab import kpgen  # noqa: E402
from tests.lab.netns import Lab, unavailable_reason  # noqa: E402

PLUGIN = str(Path(sys.executable).parent / "kubectl-svcpath")
CIP, POD_IP = "10.101.173.15", "192.168.189.15"


@dataclass
class Timing:
    best: float
    median: float
    result: subprocess.CompletedProcess

    def __str__(self) -> str:
        return f"{self.best:.2f} s (median {self.median:.2f})"


def race(commands: dict[str, list[str]], repeat: int) -> dict[str, Timing]:
    """Each command ``repeat`` times, in turns; a failing run stops the benchmark."""
    times: dict[str, list[float]] = {k: [] for k in commands}
    last: dict[str, subprocess.CompletedProcess] = {}
    for _ in range(repeat):
        for key, argv in commands.items():
            t0 = time.perf_counter()
            result = subprocess.run(argv, capture_output=True, text=True, timeout=600)
            times[key].append(time.perf_counter() - t0)
            if result.returncode not in (0, 3):
                raise SystemExit(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()[:300]}")
            last[key] = result
    return {k: Timing(min(v), statistics.median(v), last[k]) for k, v in times.items()}


# what the plugin imports of the client, and what the generated API classes would add
CLIENT_IMPORTS = "import kubernetes.config, kubernetes.client.api_client, kubernetes.stream.ws_client"
GENERATED_IMPORTS = CLIENT_IMPORTS + "; from kubernetes import client; client.CoreV1Api; client.DiscoveryV1Api"
GENERATED = ("kubernetes.client.api.", "kubernetes.client.models.")


def generated_modules_loaded(args: list[str], tmp: Path) -> int:
    """How many generated API/model modules a plugin run (the console script's entry point) imports."""
    out = tmp / "modules.txt"
    child = (f"import atexit, sys\n"
             f"atexit.register(lambda: open({str(out)!r}, 'w').write('\\n'.join(sorted(sys.modules))))\n"
             f"from kubectl_svcpath.cli import main\nmain({args!r})\n")
    subprocess.run([sys.executable, "-c", child], capture_output=True, timeout=600)
    return sum(m.startswith(GENERATED) for m in out.read_text().split())


def rules_for(background: int, endpoints: int) -> str:
    specs = [kpgen.hello_service()] + kpgen.cluster_services(background, endpoints)
    return kpgen.generate(specs, kpgen.HELLO_CONFIG)


def check_reads(cluster: FakeCluster) -> None:
    bad = [r for r in cluster.requests if r.method != "GET" or (r.argv is not None and not is_allowed(r.argv))]
    if bad or cluster.violations:
        raise SystemExit(f"not read-only: {bad[:3]} {cluster.violations[:3]}")


def part_one(lab: Lab, cert, tmp: Path, services: int, endpoints: int, repeat: int) -> list[tuple[str, str]]:
    cluster = FakeCluster()
    node = lab.add_node("cp01")
    lab.add_pod(node, "products", POD_IP, ports=[9090, 9191])
    t0 = time.perf_counter()
    lab.load_iptables(node, rules_for(services, endpoints), backend="nft")
    load_s = time.perf_counter() - t0
    cluster.add_node("cp01", node.ns, backend="nft")
    cluster.add_objects(kpgen.api_objects(kpgen.hello_service(), node_of={POD_IP: "cp01"}))
    cluster.set_proxy_config("")
    lab.connect(node, CIP, 39090, n=2)
    pod = next(name for kind, _, name in cluster.objects if kind == "Pod")
    rows = []
    with FakeApiServer(cluster, cert) as api:
        kc = str(api.write_kubeconfig(tmp / "kc1"))
        save_all = lab.save(node)
        rows.append(("rules on the node", f"{services + 1:,} Services, {save_all.count(chr(10) + '[')+0:,} rules, "
                                          f"`iptables-save -c` {len(save_all) / 1e6:.1f} MB (loaded in {load_s:.1f} s)"))
        commands = {"plugin": [PLUGIN, "hello-service", "-o", "json", "--kubeconfig", kc]}
        if shutil.which("kubectl"):
            kexec = ["kubectl", "--kubeconfig", kc, "-n", "kube-system", "exec", pod, "--"]
            commands = {"nat": kexec + ["iptables-save", "-c", "-t", "nat"], **commands,
                        "all": kexec + ["iptables-save", "-c"]}
        t = race(commands, repeat)
        doc = json.loads(t["plugin"].result.stdout)
        packets = [p["packets"] for port in doc["ports"] for p in port["paths"] if p["entry"] == "clusterIP"]
        plugin = f"{t['plugin']} (clusterIP packets {packets})"
        if "nat" in t:
            ref = t["nat"]
            rows.append(("`kubectl exec <kube-proxy pod> -- iptables-save -c -t nat` (reference)",
                         f"{ref} ({len(ref.result.stdout) / 1e6:.1f} MB)"))
            plugin += f" = {t['plugin'].best / ref.best:.1f}x the reference (median {t['plugin'].median / ref.median:.1f}x)"
        rows.append(("`kubectl svcpath hello-service -o json` (child process)", plugin))
        if "all" in t:
            rows.append(("of which: `kubectl exec` of the plugin's listing, `iptables-save -c` (all tables)",
                         f"{t['all']} ({len(t['all'].result.stdout) / 1e6:.1f} MB)"))
        req = live.LiveRequest("hello-service", None, kc, None, 120.0, None, False)
        live.gather(req)  # warm the imports
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            live.gather(req)
            times.append(time.perf_counter() - t0)
        rows.append(("of which: `live.gather()` in a warm process (4 API reads + 2 execs)",
                     f"{min(times):.2f} s (median {statistics.median(times):.2f})"))
        imports = race({"client": [sys.executable, "-c", CLIENT_IMPORTS],
                        "generated": [sys.executable, "-c", GENERATED_IMPORTS]}, repeat)
        rows.append(("of which: python start + the `kubernetes` modules the plugin loads (config, ApiClient, ws_client)",
                     str(imports["client"])))
        rows.append(("not loaded: the same + the generated `CoreV1Api`, `DiscoveryV1Api` (pydantic models)",
                     f"{imports['generated']} ({generated_modules_loaded(commands['plugin'][1:], tmp)} generated "
                     f"API/model modules imported by a plugin run)"))
    check_reads(cluster)
    return rows


def part_two(lab: Lab, cert, tmp: Path, n_nodes: int, services: int, endpoints: int,
             repeat: int) -> list[tuple[str, str]]:
    cluster = FakeCluster()
    text = rules_for(services, endpoints)
    for i in range(n_nodes):
        name = f"w{i:02d}"
        node = lab.add_node(name)
        lab.load_iptables(node, text, backend="nft")
        cluster.add_node(name, node.ns, backend="nft")
    cluster.add_objects(kpgen.api_objects(kpgen.hello_service(), node_of={POD_IP: "w00"}))
    cluster.set_proxy_config("")
    rows = []
    with FakeApiServer(cluster, cert) as api:
        kc = str(api.write_kubeconfig(tmp / "kc2"))
        base = [PLUGIN, "hello-service", "-o", "json", "--kubeconfig", kc]
        before = len(cluster.execs())
        t = race({"one": base + ["--node", "w00"], "all": base + ["--all-nodes"]}, repeat)
        execs = (len(cluster.execs()) - before) // repeat - 2
        doc = json.loads(t["all"].result.stdout)
        assert len(doc["items"]) == n_nodes and not doc["errors"], doc["errors"]
        one, every = t["one"], t["all"]
        rows.append((f"`--node w00` (1 of {n_nodes} nodes, {services + 1:,} Services each)", str(one)))
        rows.append((f"`--all-nodes` ({n_nodes} nodes, {execs} execs, <= 8 at a time)",
                     f"{every} = {every.best / one.best:.1f}x one node (median {every.median / one.median:.1f}x; "
                     f"sequential would be ~{n_nodes}x)"))
        req = live.LiveRequest("hello-service", None, kc, None, 120.0, None, True)
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            got = live.gather(req)
            times.append(time.perf_counter() - t0)
        assert all(n.error is None for n in got.nodes)
        rows.append((f"of which: collecting ({n_nodes} nodes, `live.gather()` in a warm process)",
                     f"{min(times):.2f} s (median {statistics.median(times):.2f})"))
    check_reads(cluster)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--services", type=int, default=1000, help="background Services on the node (part 1)")
    ap.add_argument("--endpoints", type=int, default=10)
    ap.add_argument("--nodes", type=int, default=20, help="lab nodes for --all-nodes (part 2)")
    ap.add_argument("--node-services", type=int, default=200, help="background Services on each of those nodes")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    reason = unavailable_reason()
    if reason:
        raise SystemExit(f"bench_live: {reason}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        cert = make_cert(tmp)
        with Lab() as lab:
            rows = part_one(lab, cert, tmp, args.services, args.endpoints, args.repeat)
        with Lab() as lab:
            rows += part_two(lab, cert, tmp, args.nodes, args.node_services, args.endpoints, args.repeat)
    print(f"\nLive path (fake API server over HTTPS + WebSocket exec, netns nodes), best of {args.repeat} "
          f"(load average {os.getloadavg()[0]:.1f} at the end):\n")
    print("| what | time |\n|---|---|")
    for what, value in rows:
        print(f"| {what} | {value} |")


if __name__ == "__main__":
    main()
