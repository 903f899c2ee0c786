#!/usr/bin/env python3
"""Benchmark of IPVS mode offline: one Service and --all over a big `ipvsadm -Ln` listing.

Writes the listing kube-proxy's IPVS mode gives N Services x M endpoints (one virtual server each, on its cluster
IP; no issue sets a target for it) and times the installed plugin on it, as users run it: one Service (by its
address, as an unnamed IPVS Service is asked for) and the --all table, each command once per round, best of 3
rounds, with the CPU of each child and its peak memory. No network namespace: the listing is text.
Run: `python bench/bench_ipvs.py [--services N --endpoints M]`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.lab.ipvsgen import listing, service_address  # noqa: E402

PLUGIN = [str(Path(sys.executable).parent / "kubectl-svcpath")]
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # (as bench_core: with .pyc files)
def timed(argv: list[str]) -> tuple[float, float, int]:
    """(wall s, CPU s, peak RSS MiB) of one run of argv in a fresh child."""
    code = ("import resource,subprocess,sys,time;t=time.perf_counter();r=subprocess.run(sys.argv[1:],capture_output=True);"
            "w=time.perf_counter()-t;u=resource.getrusage(resource.RUSAGE_CHILDREN);"
            "print(r.returncode,w,u.ru_utime+u.ru_stime,u.ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True, env=CHILD_ENV).stdout
    rc, wall, cpu, rss = out.split()
    if int(rc) not in (0, 3):  # (3: dump-only, as every IPVS listing without --manifest)
        raise SystemExit(f"bench_ipvs: {' '.join(argv)} exited {rc}")
    return float(wall), float(cpu), int(rss) // 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, default=10_000)
    ap.add_argument("--endpoints", type=int, default=10)
    args = ap.parse_args()
    import compileall

    compileall.compile_dir(str(ROOT / "kubectl_svcpath"), quiet=1)
    load_before = "/".join(f"{x:.1f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ipvsadm-Ln.txt"
        path.write_text(listing(args.services, args.endpoints))
        commands = {"one Service": [*PLUGIN, "--rules-file", str(path), f"{service_address(args.services // 2)}:80"],
                    "--all": [*PLUGIN, "--rules-file", str(path), "--all"]}
        best: dict[str, tuple[float, float, int]] = {}
        for _ in range(3):
            for name, argv in commands.items():
                got = timed(argv)
                best[name] = min(best.get(name, got), got)
        size = path.stat().st_size / 1e6
    print(f"ipvsadm -Ln listing: {args.services} Services x {args.endpoints} endpoints, {size:.1f} MB")
    for name, (wall, cpu, rss) in best.items():
        print(f"  {name:12} {wall:6.2f} s wall  {cpu:6.2f} s CPU  {rss:4d} MB peak")
    print(f"load average {load_before} before, {'/'.join(f'{x:.1f}' for x in os.getloadavg())} after ({time.strftime('%H:%M UTC', time.gmtime())})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
