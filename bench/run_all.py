#!/usr/bin/env python3
"""Run every benchmark script in bench/ one after another (as root: they build network namespaces).

The figures go in README.md. Each script prints its own table; a failing one does not stop the rest.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["bench_startup.py", "bench_core.py", "bench_local.py", "bench_nft.py", "bench_ipvs.py", "bench_live.py", "bench_hostile.py"]


def main() -> int:
    failed = []
    for name in SCRIPTS:
        path = HERE / name
        if not path.exists():
            continue
        print(f"== {name}", flush=True)
        if subprocess.run([sys.executable, str(path)]).returncode != 0:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
