#!/usr/bin/env python3
"""Benchmark of the live-cluster path (issue 3), against the netns lab behind the fake API server.

1. One node holding hello-service plus N background Services x M endpoints (default 1,000 x 10):
   the reference is what an operator types by hand, ``kubectl exec <kube-proxy pod> -- iptables-save
   -c -t nat`` (real kubectl, same server, same WebSocket exec); against it the installed plugin,
   ``kubectl-svcpath hello-service -o json`` (a child process, as users run it), and - to show where
   the time goes - ``live.gather()`` in a warm process (no interpreter start, no imports).
2. ``--all-nodes`` on K lab nodes (default 20) against ``--node`` on one of them: the execs run
   concurrently (at most 8 at a time), so K nodes should cost far less than K single runs.

Every run is checked for success and the fake server's request log for reads only. Figures are
wall-clock best-of-R on this machine; the lab shares the CPUs with the API server and the tools.
Run as root: ``python bench/bench_live.py [--services N --endpoints M --nodes K --repeat R]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
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


def best(argv: list[str], repeat: int) -> tuple[float, subprocess.CompletedProcess]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        times.append(time.perf_counter() - t0)
        if result.returncode not in (0, 3):
            raise SystemExit(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()[:300]}")
    return min(times), result  # type: ignore[return-value]


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
        if shutil.which("kubectl"):
            t, r = best(["kubectl", "--kubeconfig", kc, "-n", "kube-system", "exec", pod, "--",
                         "iptables-save", "-c", "-t", "nat"], repeat)
            rows.append(("`kubectl exec <kube-proxy pod> -- iptables-save -c -t nat`",
                         f"{t:.2f} s ({len(r.stdout) / 1e6:.1f} MB)"))
        t, r = best([PLUGIN, "hello-service", "-o", "json", "--kubeconfig", kc], repeat)
        doc = json.loads(r.stdout)
        packets = [p["packets"] for port in doc["ports"] for p in port["paths"] if p["entry"] == "clusterIP"]
        rows.append(("`kubectl svcpath hello-service -o json` (child process)", f"{t:.2f} s (clusterIP packets {packets})"))
        req = live.LiveRequest("hello-service", None, kc, None, 120.0, None, False)
        live.gather(req)  # warm the imports
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            live.gather(req)
            times.append(time.perf_counter() - t0)
        rows.append(("`live.gather()` in a warm process (API reads + 2 execs)", f"{min(times):.2f} s"))
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "from kubernetes import client; from kubernetes.stream import stream; "
                        "client.CoreV1Api; client.DiscoveryV1Api"], check=True)
        rows.append(("of which: python start + `import kubernetes` (client, stream)", f"{time.perf_counter() - t0:.2f} s"))
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
        one, _ = best([PLUGIN, "hello-service", "-o", "json", "--node", "w00", "--kubeconfig", kc], repeat)
        before = len(cluster.execs())
        every, r = best([PLUGIN, "hello-service", "-o", "json", "--all-nodes", "--kubeconfig", kc], repeat)
        execs = (len(cluster.execs()) - before) // repeat
        doc = json.loads(r.stdout)
        assert len(doc["items"]) == n_nodes and not doc["errors"], doc["errors"]
        rows.append((f"`--node w00` (1 of {n_nodes} nodes, {services + 1:,} Services each)", f"{one:.2f} s"))
        rows.append((f"`--all-nodes` ({n_nodes} nodes, {execs} execs, <= 8 at a time)",
                     f"{every:.2f} s = {every / one:.1f}x one node (sequential would be ~{n_nodes}x)"))
        req = live.LiveRequest("hello-service", None, kc, None, 120.0, None, True)
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            got = live.gather(req)
            times.append(time.perf_counter() - t0)
        assert all(n.error is None for n in got.nodes)
        rows.append((f"of which: collecting ({n_nodes} nodes, `live.gather()` in a warm process)", f"{min(times):.2f} s"))
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
    print(f"\nLive path (fake API server over HTTPS + WebSocket exec, netns nodes), best of {args.repeat}:\n")
    print("| what | time |\n|---|---|")
    for what, value in rows:
        print(f"| {what} | {value} |")


if __name__ == "__main__":
    main()
