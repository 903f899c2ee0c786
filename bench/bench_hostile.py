#!/usr/bin/env python3
"""Benchmark of the inputs that used to be quadratic (issue 15), each at n and 4n: linear means
about 4x the time, not 16x.

- iptables: one Service with n KUBE-SEP chains (``iptables-save``, dump only), the DNAT-target list;
- IPVS: one virtual server with n real servers (``ipvsadm -Ln``), the real-server lookup;
- nftables: one service chain whose numgen verdict map jumps to n endpoint chains (``nft list``),
  the map-order check;
- one Service with n endpoints in its EndpointSlice (a ``-o json`` manifest) against the
  example's iptables-save, report built and printed as JSON, YAML and ``-o tree`` (the fuzz
  campaign's hangs: 10^5 endpoints must stay well under its 10 CPU-second limit).

Each run is the installed plugin in a child process, as users run it; CPU seconds (user+sys)
are what the README quotes (wall time on a shared machine says more about the neighbours).
Run: `python bench/bench_hostile.py [--scale 1.0]`.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fuzz.cases import EXAMPLE, big_iptables, big_ipvs, big_nft, many_endpoints_json  # noqa: E402

PLUGIN = [str(Path(sys.executable).parent / "kubectl-svcpath")]
if not Path(PLUGIN[0]).exists():
    PLUGIN = [sys.executable, "-m", "kubectl_svcpath"]
MANIFEST = EXAMPLE / "manifest.yaml"
IPTABLES = EXAMPLE / "iptables-save-on-node-host.txt"


def run(args: list[str]) -> tuple[float, float, float, int]:
    """(CPU seconds, wall seconds, max RSS MB, exit code) of one plugin run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with open(os.devnull, "w") as null:
        code = subprocess.run([*PLUGIN, *args], stdout=null, stderr=subprocess.PIPE, timeout=600).returncode
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, after.ru_maxrss / 1024, code


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every n (0.25 for a quick look)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="svcpath-bench-hostile-"))
    cases = [
        ("iptables: one Service's endpoint chains", 10_000, lambda n: (big_iptables(n), "iptables-save.txt"),
         lambda f: ["--rules-file", str(f), "hello-service", "-o", "wide"]),
        ("IPVS real servers", 10_000, lambda n: (big_ipvs(n), "ipvsadm.txt"),
         lambda f: ["--rules-file", str(f), "--manifest", str(MANIFEST), "hello-service", "-o", "json"]),
        ("nft endpoint chains in one numgen map", 10_000, lambda n: (big_nft(n), "nft.txt"),
         lambda f: ["--rules-file", str(f), "--manifest", str(MANIFEST), "hello-service", "-o", "json"]),
        ("endpoints of one Service (manifest)", 25_000, lambda n: (many_endpoints_json(n), "manifest.json"),
         lambda f: ["--rules-file", str(IPTABLES), "--manifest", str(f), "hello-service", "-o", "json"]),
        ("the same, printed as -o yaml", 25_000, lambda n: (many_endpoints_json(n), "manifest.json"),
         lambda f: ["--rules-file", str(IPTABLES), "--manifest", str(f), "hello-service", "-o", "yaml"]),
        ("the same, printed as -o tree", 25_000, lambda n: (many_endpoints_json(n), "manifest.json"),
         lambda f: ["--rules-file", str(IPTABLES), "--manifest", str(f), "hello-service", "-o", "tree"]),
    ]
    print(f"{'input':<40} {'n':>8} {'CPU s':>7} {'wall s':>7} {'RSS MB':>7}  exit")
    for label, n0, make, argv in cases:
        cpus = []
        for n in (int(n0 * args.scale), int(4 * n0 * args.scale)):
            text, name = make(n)
            path = tmp / name
            path.write_text(text)
            cpu, wall, rss, code = run(argv(path))
            cpus.append(cpu)
            print(f"{label:<40} {n:>8} {cpu:>7.2f} {wall:>7.2f} {rss:>7.0f}  {code}", flush=True)
        print(f"{'':<40} {'4x n:':>8} {cpus[1] / max(cpus[0], 1e-9):>6.1f}x CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
