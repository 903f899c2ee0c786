#!/usr/bin/env python3
"""Reproducibility proof: build the krew archives twice and compare their sha256.

The second build runs from a fresh virtualenv (python3 -m venv, nothing installed), in a new work
folder with an empty download cache, so nothing of the first build (or of the developer's venv)
can leak into it. ``make krew-repro`` runs it for every platform (slow: two full downloads);
tests/packaging/test_packaging.py runs the same for linux/amd64 with a shared download cache.

Usage: repro.py [--platform P ...] [--work DIR] [--share-cache]
Exit 0 when every pair matches; prints one line per platform.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from build_krew import PLATFORMS, sha256_file  # noqa: E402


def build(python: str, platforms: list[str], work: Path, dist: Path) -> dict[str, str]:
    argv = [python, str(HERE / "build_krew.py"), "build", "--work", str(work), "--dist", str(dist), "--no-manifest"]
    for p in platforms:
        argv += ["--platform", p]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"error: build failed:\n{proc.stderr[-3000:]}")
    return {Path(line).name: sha256_file(Path(line)) for line in proc.stdout.split()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--platform", action="append", choices=sorted(PLATFORMS))
    ap.add_argument("--work", type=Path, help="keep the builds here (default: a temporary folder)")
    ap.add_argument("--share-cache", action="store_true", help="let the second build reuse the first one's downloads")
    args = ap.parse_args(argv)
    platforms = args.platform or list(PLATFORMS)
    with tempfile.TemporaryDirectory(prefix="krew-repro-") as tmp:
        work = args.work or Path(tmp)
        started = time.monotonic()
        first = build(sys.executable, platforms, work / "one", work / "one" / "dist")
        took_one = time.monotonic() - started
        # a fresh venv: with pip when it has to download, with nothing at all when it reuses the cache
        subprocess.run([sys.executable, "-m", "venv", *(["--without-pip"] if args.share_cache else []), str(work / "fresh-venv")],
                       check=True)
        second_work = work / "two"
        if args.share_cache:
            second_work.mkdir(parents=True, exist_ok=True)
            (second_work / "cache").symlink_to(work / "one" / "cache")
        started = time.monotonic()
        python = str(work / "fresh-venv" / "bin" / "python")
        second = build(python, platforms, second_work, work / "two" / "dist")
        took_two = time.monotonic() - started
        same = True
        for name in sorted(first):
            ok = first[name] == second.get(name)
            same &= ok
            print(f"{name}: {first[name]} {'==' if ok else '!='} {second.get(name)}")
        print(f"first build {took_one:.0f} s, second (fresh venv{', shared downloads' if args.share_cache else ''}) {took_two:.0f} s")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
