#!/usr/bin/env python3
"""Benchmark of nftables mode (issue 5): one Service of a 10,000-Service kube-proxy table (JSON).

Generates kube-proxy's nftables-mode table for N Services x M endpoints (default 10,000 x 3,
every tenth a NodePort) with tests/lab/nftgen.py, loads it into a throw-away network
namespace with ``nft -f``, and times ``nft -j list table ip kube-proxy`` there: the reference,
what a node needs just to print the table. Then it times the installed plugin (a child process,
as users run it) analysing one Service of that JSON, and the core steps in this process.

Target (README): one Service <= 1.5x the time nft takes to print the table.
Run as root: `python bench/bench_nft.py [--services N --endpoints M]`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.lab.netns import Lab, unavailable_reason  # noqa: E402
from tests.lab.nftgen import generate_cluster  # noqa: E402

PLUGIN = [str(Path(sys.executable).parent / "kubectl-svcpath")]
if not Path(PLUGIN[0]).exists():
    PLUGIN = [sys.executable, "-m", "kubectl_svcpath"]


def best_of(fn, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, default=10_000)
    ap.add_argument("--endpoints", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    reason = unavailable_reason()
    if reason:
        print(f"bench_nft: cannot run: {reason}", file=sys.stderr)
        return 1

    t0 = time.perf_counter()
    text, services = generate_cluster(args.services, args.endpoints)
    gen_s = time.perf_counter() - t0
    target = services[len(services) // 2 + 7]
    service = f"{target.namespace}/{target.name}"

    with Lab() as lab, tempfile.TemporaryDirectory() as tmp:
        node = lab.add_node("bench")
        table_file = Path(tmp) / "kube-proxy.nft"
        table_file.write_text(text)
        t0 = time.perf_counter()
        # nft -f directly, with a long timeout: the kernel names each anonymous numgen vmap by scanning
        # all sets, so loading 10,000 Services takes minutes (kube-proxy pays it once, then syncs deltas)
        lab.run(node, ["nft", "-f", str(table_file)], timeout=3600)
        load_s = time.perf_counter() - t0
        argv = ["ip", "netns", "exec", node.ns, "nft", "-j", "list", "table", "ip", "kube-proxy"]
        nft_s, listing = best_of(lambda: subprocess.run(argv, capture_output=True, text=True, check=True).stdout, args.repeat)
        dump = Path(tmp) / "kube-proxy.json"
        dump.write_text(listing)
        size_mb = dump.stat().st_size / 1e6

        manifest = Path(tmp) / "manifest.json"
        manifest.write_text(json.dumps(_api_objects(target)))
        runs = {}
        for label, extra in (("with --manifest", ["--manifest", str(manifest)]), ("dump-only", [])):
            cmd = [*PLUGIN, service, "--rules-file", str(dump), *extra, "-o", "json"]
            seconds, result = best_of(lambda: subprocess.run(cmd, capture_output=True, text=True), args.repeat)
            if result.returncode != 0:
                print(result.stderr, file=sys.stderr)
                return 1
            doc = json.loads(result.stdout)
            (port,) = doc["ports"]
            (path,) = [p for p in port["paths"] if p["entry"] == "clusterIP"]
            assert [e["ip"] for e in path["endpoints"]] == target.endpoints, "wrong answer"
            runs[label] = seconds

        # where the time goes, in this process
        from kubectl_svcpath.modes.nftables.correlate import correlate_nftables, infer_services_nftables
        from kubectl_svcpath.modes.nftables.parse_json import parse_nft_json

        loads_s, _ = best_of(lambda: json.loads(listing), args.repeat)
        parse_s, nft = best_of(lambda: parse_nft_json(listing, "kube-proxy.json"), args.repeat)
        only = (target.namespace, target.name)
        one_s, (snap,) = best_of(lambda: infer_services_nftables(nft, only=only), args.repeat)
        corr_s, _ = best_of(lambda: correlate_nftables(snap, nft), args.repeat)
        infer_s, _ = best_of(lambda: infer_services_nftables(nft), 1)

    rules = sum(len(c.rules) for t in nft.tables.values() for c in t.chains.values())
    chains = sum(len(t.chains) for t in nft.tables.values())
    print(f"table: {args.services} Services x {args.endpoints} endpoints: {chains} chains, {rules} rules, "
          f"JSON {size_mb:.1f} MB (generated in {gen_s:.1f} s, nft -f load {load_s:.1f} s)")
    print(f"{'nft -j list table ip kube-proxy':<48} {nft_s:7.3f} s   (reference)")
    worst = 0.0
    for label, seconds in runs.items():
        ratio = seconds / nft_s
        worst = max(worst, ratio)
        print(f"{'kubectl-svcpath ' + service + ' ' + label:<48} {seconds:7.3f} s   = {ratio:.2f}x the listing (target <= 1.50x)")
    core = parse_s + corr_s
    print(f"  in-process: json.loads {loads_s:.3f} s; parse_nft_json {parse_s:.3f} s (incl. json.loads); "
          f"rebuild one Service {one_s * 1000:.1f} ms; correlate it {corr_s * 1000:.2f} ms; "
          f"rebuild all {len(services)} {infer_s:.3f} s")
    print(f"  core (parse + correlate) = {core / nft_s:.2f}x the listing")
    return 0 if worst <= 1.5 else 2


def _api_objects(svc) -> list[dict]:
    """The Service and its EndpointSlice as the API returns them (what --manifest reads)."""
    port = svc.ports[0]
    spec = {"type": "NodePort" if port.node_port else "ClusterIP", "clusterIP": svc.cluster_ip, "clusterIPs": [svc.cluster_ip],
            "ports": [{"name": port.name, "protocol": port.protocol, "port": port.port, "targetPort": port.target_port,
                       **({"nodePort": port.node_port} if port.node_port else {})}]}
    return [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": svc.name, "namespace": svc.namespace}, "spec": spec},
        {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
         "metadata": {"name": f"{svc.name}-x", "namespace": svc.namespace, "labels": {"kubernetes.io/service-name": svc.name}},
         "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in svc.endpoints],
         "ports": [{"name": port.name, "protocol": port.protocol, "port": port.target_port}]},
    ]


if __name__ == "__main__":
    sys.exit(main())
