"""``python -m tests.fuzz --seed N --cases 2000``: generate, run, classify, summarise (make fuzz).

Exit status 1 when any run crashed, hung, ran out of memory, wrote a control character to a
terminal format, printed output that does not parse, or failed without one clear error line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

from tests.conftest import SHARED
from tests.fuzz.cases import bases, make_case
from tests.fuzz.runner import BAD, CLASSES, run_cases, summary


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=int(os.environ.get("SEED", "1")))
    ap.add_argument("--cases", type=int, default=int(os.environ.get("CASES", "2000")))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--mode", choices=("fork", "exec"), default="fork")
    ap.add_argument("--keep", type=Path, default=Path("build/fuzz-failures"), help="where failing inputs are copied")
    ap.add_argument("--json", type=Path, help="write the summary here")
    ap.add_argument("--only", default="", help="run only these case numbers (1,5,9): replay a campaign's bad runs")
    args = ap.parse_args()

    all_bases = bases(SHARED)
    started = time.monotonic()
    done = [0]
    loads = [os.getloadavg()[0]]  # the 1-minute load average as runs finish: what the machine was doing

    args.keep.mkdir(parents=True, exist_ok=True)
    keep = args.keep / f"seed-{args.seed}"
    # one line per finished run, as it finishes: a campaign stopped early still says what it ran
    log = (args.json.with_suffix(".jsonl") if args.json else keep.with_suffix(".jsonl")).open("w")

    def progress(r) -> None:
        log.write(json.dumps(asdict(r)) + "\n")
        log.flush()
        done[0] += 1
        loads.append(os.getloadavg()[0])
        if r.cls in BAD:
            print(f"  case {r.index} [{r.form} {r.mutation} -o {r.output}]: {r.cls}: {r.detail}", flush=True)
        elif done[0] % 250 == 0:
            print(f"  {done[0]} runs, {time.monotonic() - started:.0f}s", flush=True)

    indexes = [int(i) for i in args.only.split(",") if i.strip()] or range(args.cases)
    cases = (make_case(i, args.seed, all_bases) for i in indexes)
    results = run_cases(cases, jobs=args.jobs, mode=args.mode, keep=keep, progress=progress)
    s = summary(results)
    s["seed"], s["mode"], s["seconds"] = args.seed, args.mode, round(time.monotonic() - started, 1)
    s["jobs"], s["load"] = args.jobs, {"min": min(loads), "mean": round(sum(loads) / len(loads), 1), "max": max(loads)}
    s["cpu_seconds"] = round(sum(r.cpu for r in results), 1)
    print(f"seed {args.seed}: {s['cases']} cases in {s['seconds']:.0f}s ({args.mode}, {args.jobs} jobs, "
          f"load average {s['load']['min']:.0f}-{s['load']['max']:.0f}, mean {s['load']['mean']}); "
          f"{s['cpu_seconds']:.0f} CPU-s in all, max {s['max_cpu']:.1f} CPU-s and {s['max_rss_mb']:.0f} MB a run")
    print("  " + ", ".join(f"{c} {s['classes'][c]}" for c in CLASSES))
    width = max(len(f) for f in s["forms"]) if s["forms"] else 0
    for form, counts in s["forms"].items():
        print(f"  {form:<{width}}  " + ", ".join(f"{c} {n}" for c, n in counts.items()))
    if args.json:
        args.json.write_text(json.dumps(s, indent=1))
    bad = sum(s["classes"][c] for c in BAD)
    if bad:
        print(f"{bad} bad runs; inputs and commands under {keep}/")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
