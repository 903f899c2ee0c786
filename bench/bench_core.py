#!/usr/bin/env python3
"""Benchmark of the offline core (issue 2): one Service and the --all audit on a big dump.

Generates kube-proxy iptables-mode rules for N Services x M endpoints (default 10,000 x 10; with
the built-in chains' jumps, as on a node), loads them into a throw-away network namespace with iptables-legacy-restore, and times
``iptables-save -c -t nat`` there (the reference: what a node needs just to print the rules).
Then it times the installed plugin (a child process, as users run it) analysing one Service of
that dump and auditing all of them, with peak memory (ru_maxrss of the child).

Targets (README, issue 11): one Service <= 0.5x the dump's time; --all <= 3x one Service of the
same run; peak memory < 2x dump size + 60 MB. The script prints each reference and ratio, the CPU
time of each child beside its wall time (each command once per round, in turn, best of 3 rounds:
a load that comes and goes sways them alike), the start-up (the same command on a 4-line dump),
and the load average before and after (the machine may be shared: run it with `nice -n 0`, and
compare ratios of one run only).
Run as root: `make bench` or `python bench/bench_core.py [--services N --endpoints M]`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.lab.kpgen import ProxyConfig, cluster_services, generate_cluster, save_text  # noqa: E402
from tests.lab.netns import Lab, unavailable_reason  # noqa: E402

PLUGIN = [str(Path(sys.executable).parent / "kubectl-svcpath")]
# Children run as an installed plugin runs: with its modules' .pyc files. PYTHONDONTWRITEBYTECODE (set
# on some development machines) would have every run compile the package from source (~0.2 s of CPU).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def compile_package() -> None:
    import compileall

    compileall.compile_dir(str(ROOT / "kubectl_svcpath"), quiet=1)


CPU: dict[str, float] = {}  # argv key -> best CPU seconds (user + sys) of the child: less swayed by other jobs
WALL: dict[str, float] = {}  # argv key -> best wall seconds


def run_once(argv: list[str], **kw) -> subprocess.CompletedProcess:
    """Run argv once; keep its best wall and CPU time so far."""
    key = " ".join(argv)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, env=CHILD_ENV, **kw)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    WALL[key] = min(WALL.get(key, float("inf")), wall)
    CPU[key] = min(CPU.get(key, float("inf")), cpu_s)
    return result


def rounds(argvs: list[list[str]], repeat: int = 3) -> list[subprocess.CompletedProcess]:
    """Each command once per round, in turn, ``repeat`` rounds: a load that comes and goes sways them
    alike, so the ratios of one run compare like with like. The last round's results."""
    results: list[subprocess.CompletedProcess] = []
    for _ in range(repeat):
        results = [run_once(a) for a in argvs]
    return results


def wall(argv: list[str]) -> float:
    return WALL[" ".join(argv)]


def cpu(argv: list[str]) -> float:
    return CPU[" ".join(argv)]


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def peak_rss(argv: list[str]) -> int:
    """Peak RSS in KiB of one run of argv, measured in a fresh child (/usr/bin/time is not needed)."""
    code = ("import resource,subprocess,sys;subprocess.run(sys.argv[1:],capture_output=True);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True, env=CHILD_ENV).stdout
    return int(out.strip())


def main() -> int:
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still delete the lab namespace when killed
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, default=10_000)
    ap.add_argument("--endpoints", type=int, default=10)
    ap.add_argument("--audit-runs", type=int, default=3, help="rounds of the timed commands (best of each taken)")
    args = ap.parse_args()
    compile_package()
    load_before = load()
    reason = unavailable_reason()
    if reason:
        print(f"bench_core: {reason}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    # a node's whole nat table: the built-in chains' jumps to KUBE-* too (as every real dump has; without
    # them --all's run locator took a path no user's dump takes, and a slow fallback went unseen)
    restore = generate_cluster(args.services, args.endpoints, ProxyConfig(jumps=True))
    gen_s = time.perf_counter() - t0
    with Lab() as lab, tempfile.TemporaryDirectory() as tmp:
        node = lab.add_node("bench")
        t0 = time.perf_counter()
        # (not lab.load_iptables: its 60 s limit is too short for 10^5 chains on a busy machine)
        lab.run(node, ["iptables-legacy-restore"], input=restore, timeout=900)
        load_s = time.perf_counter() - t0
        save_argv = ["ip", "netns", "exec", node.ns, "iptables-legacy-save", "-c", "-t", "nat"]
        saved = run_once(save_argv)
        dump = Path(tmp) / "nat.txt"
        dump.write_bytes(saved.stdout)
        tiny = Path(tmp) / "tiny.txt"  # the same command on one Service's rules: what start-up costs
        tiny.write_text(save_text(cluster_services(1, 1), tables=("nat",)))
        size_mb = len(saved.stdout) / 1e6
        rules = saved.stdout.count(b"\n-A ") + saved.stdout.count(b"] -A ")
        svc = f"bench/svc-{args.services * 42 // 100:05d}"
        one = [*PLUGIN, svc, "--rules-file", str(dump), "-o", "json"]
        start = [*PLUGIN, "bench/svc-00000", "--rules-file", str(tiny), "-o", "json"]
        audit = [*PLUGIN, "--rules-file", str(dump), "--all"]
        res_save, res_one, _, res_audit = rounds([save_argv, one, start, audit], repeat=args.audit_runs)
        assert res_one.returncode == 0, res_one.stderr
        assert json.loads(res_one.stdout)["ports"][0]["paths"][0]["endpoints"], "no endpoints found"
        assert res_audit.returncode == 0, res_audit.stderr[:500]
        assert res_audit.stdout.splitlines().index(b"") == args.services + 1, res_audit.stdout[-500:]  # header + a row each
        one_rss, audit_rss = peak_rss(one) / 1024, peak_rss(audit) / 1024
        audit_json = [*audit, "-o", "json"]
        res = run_once(audit_json)
        assert res.returncode == 0, res.stderr[:500]
        assert len(json.loads(res.stdout)["items"]) == args.services
        audit_json_rss = peak_rss(audit_json) / 1024
        # the same rules as `iptables -L -n -v -x` lists them (a form users paste; no target): one Service, one run
        listed = Path(tmp) / "nat-L.txt"
        listed.write_bytes(run_once(["ip", "netns", "exec", node.ns, "iptables-legacy", "-t", "nat", "-L", "-n", "-v", "-x"]).stdout)
        one_listed = [*PLUGIN, svc, "--rules-file", str(listed), "-o", "json"]
        res = run_once(one_listed)
        assert res.returncode == 0, res.stderr[:500]
        listed_mb, one_listed_rss = listed.stat().st_size / 1e6, peak_rss(one_listed) / 1024
        helps = [*PLUGIN, "--help"]
        rounds([helps], repeat=5)
    print(f"dump: {args.services} Services x {args.endpoints} endpoints, {rules} nat rules, {size_mb:.1f} MB "
          f"(generated in {gen_s:.1f} s, iptables-legacy-restore {load_s:.1f} s)")
    budget = 2 * size_mb + 60
    print(f"load average (1/5/15 min) before {load_before}, after {load()} on {os.cpu_count()} CPUs: each command once per round, "
          f"{args.audit_runs} rounds, best of each; CPU = user+sys of the child; ratios of this run")
    print(f"iptables-legacy-save -c -t nat (reference)  {wall(save_argv):6.2f} s  CPU {cpu(save_argv):6.2f} s")
    print(f"kubectl-svcpath one Service (dump-only)     {wall(one):6.2f} s  CPU {cpu(one):6.2f} s   peak RSS {one_rss:6.0f} MB  "
          f"= {wall(one) / wall(save_argv):.2f}x the reference, CPU {cpu(one) / cpu(save_argv):.2f}x (target <= 0.5x; memory < {budget:.0f} MB)")
    print(f"  of which start-up (one Service's rules)   {wall(start):6.2f} s  CPU {cpu(start):6.2f} s")
    print(f"kubectl-svcpath --all audit                 {wall(audit):6.2f} s  CPU {cpu(audit):6.2f} s   peak RSS {audit_rss:6.0f} MB  "
          f"= {wall(audit) / wall(one):.1f}x one Service, CPU {cpu(audit) / cpu(one):.2f}x (target <= 3x; memory < {budget:.0f} MB)")
    print(f"kubectl-svcpath --all -o json (one run)     {wall(audit_json):6.2f} s  CPU {cpu(audit_json):6.2f} s   "
          f"peak RSS {audit_json_rss:6.0f} MB  = {wall(audit_json) / wall(one):.1f}x one Service, CPU {cpu(audit_json) / cpu(one):.1f}x")
    print(f"kubectl-svcpath one Service of -L -n -v -x  {wall(one_listed):6.2f} s  CPU {cpu(one_listed):6.2f} s   "
          f"peak RSS {one_listed_rss:6.0f} MB  (the same rules listed, {listed_mb:.1f} MB; one run, no target)")
    print(f"kubectl-svcpath --help                      {wall(helps):6.2f} s  CPU {cpu(helps):6.2f} s   (target < 0.3 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
