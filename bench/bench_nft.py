#!/usr/bin/env python3
"""Benchmark of nftables mode (issue 11): one Service and --all over a 10,000-Service kube-proxy table.

Generates kube-proxy's nftables-mode table for N Services x M endpoints (default 10,000 x 3, every
tenth a NodePort) with tests/lab/nftgen.py, loads it into a throw-away network namespace with
``nft -f``, and times ``nft -j list table ip kube-proxy`` and ``nft list table ip kube-proxy`` there:
the references, what a node needs just to print the table. Then, on each listing, the installed
plugin (a child process, as users run it): one Service (dump-only) and ``--all`` (the audit table).

Each row is the best of --repeat runs: wall time, CPU time (user + sys of the child, the steadier
figure on a shared machine) and peak RSS; the load average is printed before and after.
Targets: one Service <= 0.3x the listing of its form; --all <= 3x one Service; peak memory
<= 2 x input + 60 MB. Run as root: `python bench/bench_nft.py [--services N --endpoints M]`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.lab.netns import Lab, unavailable_reason  # noqa: E402
from tests.lab.nftgen import generate_cluster  # noqa: E402

_SCRIPT = Path(sys.executable).parent / "kubectl-svcpath"
# The plugin's peak memory is its own VmHWM, written at exit: wait4's ru_maxrss also counts the pages
# of this process, which the child shares from vfork until exec (~200 MB here: the generated table,
# the listings), so every row read the bench's own size. The plugin ends with os._exit (cli._exit_now:
# no teardown), which runs no atexit hook: the wrapper's os._exit writes it first.
_HWM = ("import atexit, os, runpy, sys\n"
        "def hwm():\n"
        "    with open(os.environ['SVCPATH_BENCH_HWM'], 'w') as f:\n"
        "        f.write(next(l for l in open('/proc/self/status') if l.startswith('VmHWM:')).split()[1])\n"
        "atexit.register(hwm)\n"
        "_exit = os._exit\n"
        "os._exit = lambda code: (hwm(), _exit(code))\n"
        "sys.argv = sys.argv[1:]\n"
        "runpy.run_path(sys.argv[0], run_name='__main__') if sys.argv[0] != '-m' else "
        "runpy.run_module('kubectl_svcpath', run_name='__main__', alter_sys=True)\n")
PLUGIN = [sys.executable, "-c", _HWM, str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-c", _HWM, "-m"]
# Children run as an installed plugin runs: with its modules' .pyc files (compiled once in main()).
# PYTHONDONTWRITEBYTECODE, set on some dev machines, would have each run compile the package (~0.2 s CPU).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    stdout: str
    code: int


def run(argv: list[str]) -> Run:
    """One child process: its wall time, CPU time (wait4), peak RSS (the plugin's VmHWM, see _HWM;
    0 for the nft listings), and what it printed."""
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as hwm:
        t0 = time.perf_counter()
        child = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, env={**CHILD_ENV, "SVCPATH_BENCH_HWM": hwm.name})
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - t0
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode()
        peak_kb = hwm.read().strip()
    return Run(wall, usage.ru_utime + usage.ru_stime, int(peak_kb or 0) / 1024, text, child.returncode)


def best(argv: list[str], repeat: int) -> Run:
    runs = [run(argv) for _ in range(repeat)]
    for r in runs:
        if r.code not in (0, 3):  # 3: the report holds an error finding (e.g. --all over varied Services)
            raise SystemExit(f"bench_nft: {' '.join(argv)} exited {r.code}")
    return Run(min(r.wall for r in runs), min(r.cpu for r in runs), max(r.rss_mb for r in runs), runs[-1].stdout, 0)


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


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
    import compileall

    compileall.compile_dir(str(ROOT / "kubectl_svcpath"), quiet=1)
    text, services = generate_cluster(args.services, args.endpoints)
    target = services[len(services) // 2 + 7]
    service = f"{target.namespace}/{target.name}"
    print(f"load average before: {load()} ({os.cpu_count()} CPUs); best of {args.repeat}")
    rows: list[tuple[str, Run, str]] = []
    met = True
    with Lab(prefix="svpbn") as lab, tempfile.TemporaryDirectory() as tmp:
        node = lab.add_node("bench")
        table_file = Path(tmp) / "kube-proxy.nft"
        table_file.write_text(text)
        # nft -f directly, with a long timeout: loading 10,000 Services takes a minute or more
        lab.run(node, ["nft", "-f", str(table_file)], timeout=3600)
        for form, flags in (("JSON", ["-j"]), ("text", [])):
            listing_argv = ["ip", "netns", "exec", node.ns, "nft", *flags, "list", "table", "ip", "kube-proxy"]
            ref = best(listing_argv, args.repeat)
            dump = Path(tmp) / f"kube-proxy.{form.lower()}"
            dump.write_text(ref.stdout)
            size_mb = dump.stat().st_size / 1e6
            budget = 2 * size_mb + 60
            one = best([*PLUGIN, service, "--rules-file", str(dump), "-o", "json"], args.repeat)
            (port,) = json.loads(one.stdout)["ports"]
            (path,) = [p for p in port["paths"] if p["entry"] == "clusterIP"]
            assert [e["ip"] for e in path["endpoints"]] == target.endpoints, "wrong answer"
            audit = best([*PLUGIN, "--all", "--rules-file", str(dump)], args.repeat)
            assert audit.stdout.count("\n") > len(services), "the audit did not list every Service"
            one_ratio, all_ratio = one.cpu / ref.cpu, audit.cpu / one.cpu
            met = met and one_ratio <= 0.3 and all_ratio <= 3 and max(one.rss_mb, audit.rss_mb) <= budget
            rows += [(f"nft {' '.join(flags + ['list'])} table ip kube-proxy ({form} {size_mb:.1f} MB, reference)", ref, ""),
                     (f"kubectl svcpath {service} ({form}, one Service)", one,
                      f"CPU {one_ratio:.2f}x the listing (<= 0.3x), wall {one.wall / ref.wall:.2f}x; "
                      f"memory {'<=' if one.rss_mb <= budget else '>'} {budget:.0f} MB"),
                     (f"kubectl svcpath --all ({form})", audit,
                      f"CPU {all_ratio:.2f}x one Service (<= 3x), wall {audit.wall / one.wall:.2f}x; "
                      f"memory {'<=' if audit.rss_mb <= budget else '>'} {budget:.0f} MB")]
    print(f"table: {args.services} Services x {args.endpoints} endpoints; load average after: {load()}")
    print(f"{'command':<70} {'wall':>8} {'CPU':>8} {'peak RSS':>9}  ratio (target)")
    for label, r, note in rows:
        rss = f"{r.rss_mb:7.0f} MB" if "reference" not in label else ""
        print(f"{label:<70} {r.wall:7.2f}s {r.cpu:7.2f}s {rss:>9}  {note}")
    return 0 if met else 2


if __name__ == "__main__":
    sys.exit(main())
