#!/usr/bin/env python3
"""Start-up time of kubectl-svcpath as users start it, and what dominates it.

Measures (wall clock of the whole process, median and min of N runs after one warm-up):

- ``kubectl svcpath --help`` through the real kubectl, with the venv's console script on PATH
  (target < 0.3 s), and the console script alone (kubectl's own share is the difference);
- ``kubectl svcpath --example`` (the offline path: parse, correlate, render) from the venv;
- the completion helper: ``kubectl __complete svcpath -o ""`` and the helper alone;
- the packaged artefact (the krew archive from ``make krew-archive``, unpacked into a krew-like
  $KREW_ROOT) running ``--help`` and ``--example`` through kubectl (target < 1 s);
- with ``--compare``: the same for a zipapp variant of the archive (lib/common zipped: zipimport), with sizes;
- ``python -X importtime``: the top-level imports that cost the most for ``--help`` and
  ``--example``.

Prints Markdown tables (paste them into docs/install.md / README.md). Not a test: timings
depend on the machine; the tests only assert behaviour.

Usage: bench/bench_startup.py [--runs 10] [--archive dist/....tar.gz] [--compare] [--no-importtime]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "packaging"))


def timed(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float, float, int]:
    """(median wall, min wall, median CPU) seconds over ``runs`` runs after a warm-up, and the exit code.

    CPU = user + system time of the process and everything it waited for (kubectl -> plugin):
    on a busy shared machine it stays close to what an idle machine's wall clock would show.
    """
    rc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), min(walls), statistics.median(cpus), rc


def env_with(bin_dir: Path | None, home: Path) -> dict[str, str]:
    # PYTHONDONTWRITEBYTECODE (set on some dev machines) would recompile every module on every
    # run; users' installs have .pyc files, so measure with them.
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE") and k != "PYTHONDONTWRITEBYTECODE"}
    env["HOME"] = str(home)
    env["KUBECONFIG"] = str(home / "no-kubeconfig")  # never reach a real cluster
    env["NO_COLOR"] = "1"
    if bin_dir is not None:
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def dir_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def unpack_krew_like(archive: Path, root: Path) -> Path:
    """$KREW_ROOT/store/svcpath/vX/<archive contents> + bin/kubectl-svcpath symlink; returns bin/."""
    store = root / "store" / "svcpath" / "bench"
    store.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(store, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(store)
    bin_dir = root / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubectl-svcpath").symlink_to(store / "kubectl-svcpath")
    return bin_dir


def build_variant(kind: str, work: Path, archive: Path) -> Path:
    """A variant of the krew archive, in a bin/ folder as kubectl-svcpath.

    zipapp: the archive's lib/common (pure Python) as one zip file that Python imports from
    (zipimport), with the compiled lib/cp3XY folders beside it, as a zipapp carrying per-platform
    wheels would need them unpacked (C extensions cannot be imported from a zip).
    """
    bin_dir = work / kind / "bin"
    bin_dir.mkdir(parents=True)
    if kind == "zipapp":
        import zipapp

        store = work / kind / "store"
        with tarfile.open(archive) as tar:
            tar.extractall(store, filter="data")
        src = store / "lib" / "common"
        (src / "__main__.py").write_text(
            "import os, sys\n"
            "here = os.path.dirname(os.path.realpath(sys.argv[0]))\n"
            "sys.path.insert(1, os.path.join(here, 'lib', 'cp%d%d' % sys.version_info[:2]))\n"
            "from kubectl_svcpath.cli import main\nmain()\n")
        zipapp.create_archive(src, store / "kubectl-svcpath", interpreter="/usr/bin/env python3")
        shutil.rmtree(src)
        (bin_dir / "kubectl-svcpath").symlink_to(store / "kubectl-svcpath")
    return bin_dir


def importtime(args: list[str], env: dict[str, str], top: int) -> list[tuple[str, float]]:
    """Seconds spent importing each package, biggest first.

    A package's figure is the cumulative time of every import that enters it from outside, so
    rows overlap: typer's includes the pydantic it pulls in, which also has its own row.
    kubectl_svcpath's row is its modules' own time only.
    """
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "kubectl_svcpath", *args],
                          env=env, capture_output=True, text=True, check=False)
    entries = []  # (depth, root, self_s, cumulative_s), in importtime's order (children first)
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        fields = line[len("import time:"):].split("|")
        if len(fields) != 3 or not fields[1].strip().isdigit():
            continue  # the header line
        name = fields[2][1:]
        depth = (len(name) - len(name.lstrip(" "))) // 2
        entries.append((depth, name.strip().split(".")[0], int(fields[0]) / 1e6, int(fields[1]) / 1e6))
    totals: dict[str, float] = {}
    stack: list[tuple[int, str]] = []
    for depth, root, self_s, cumulative in reversed(entries):  # parents first
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parent = stack[-1][1] if stack else None
        if root == "kubectl_svcpath":
            totals[root] = totals.get(root, 0.0) + self_s
        elif parent != root:
            totals[root] = totals.get(root, 0.0) + cumulative
        stack.append((depth, root))
    return sorted(totals.items(), key=lambda kv: -kv[1])[:top]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--archive", type=Path, default=None, help="krew archive (default: newest dist/kubectl-svcpath_*.tar.gz)")
    ap.add_argument("--compare", action="store_true", help="also time a zipapp variant of the krew archive")
    ap.add_argument("--no-importtime", action="store_true")
    args = ap.parse_args(argv)

    kubectl = shutil.which("kubectl")
    if kubectl is None:
        print("error: kubectl not on PATH (make system-deps)", file=sys.stderr)
        return 1
    rows: list[tuple[str, str, float, float, float, int, str]] = []
    with tempfile.TemporaryDirectory(prefix="svp-bench-") as tmp_s:
        tmp = Path(tmp_s)
        (tmp / "home").mkdir()
        venv_env = env_with(VENV_BIN, tmp / "home")
        plain_env = env_with(None, tmp / "home")

        def add(what: str, how: str, cmd: list[str], env: dict[str, str], target: str = "") -> None:
            med, best, cpu, rc = timed(cmd, env, args.runs)
            rows.append((what, how, med, best, cpu, rc, target))

        add("baseline", "python3 -c pass", [sys.executable, "-c", "pass"], plain_env)
        add("baseline", "kubectl version --client", [kubectl, "version", "--client"], plain_env)
        add("--help", "kubectl svcpath (venv console script)", [kubectl, "svcpath", "--help"], venv_env, "< 0.3 s")
        add("--help", "kubectl-svcpath (venv, no kubectl)", [str(VENV_BIN / "kubectl-svcpath"), "--help"], venv_env)
        add("--example", "kubectl svcpath (venv)", [kubectl, "svcpath", "--example"], venv_env)
        add("completion", 'kubectl __complete svcpath -o ""', [kubectl, "__complete", "svcpath", "-o", ""], venv_env)
        add("completion", 'kubectl_complete-svcpath -o "" (alone)', [str(VENV_BIN / "kubectl_complete-svcpath"), "-o", ""], venv_env)

        sizes: list[tuple[str, int, int]] = []
        archive = args.archive
        if archive is None:
            found = sorted((ROOT / "dist").glob("kubectl-svcpath_*.tar.gz"), key=lambda p: p.stat().st_mtime)
            archive = found[-1] if found else None
        variants: list[tuple[str, Path]] = []
        if archive is not None and archive.exists():
            bin_dir = unpack_krew_like(archive, tmp / "krew")
            variants.append(("krew archive", bin_dir))
            sizes.append(("krew archive .tar.gz", archive.stat().st_size, dir_size(tmp / "krew" / "store")))
        else:
            print("note: no krew archive (make krew-archive); skipping the packaged artefact", file=sys.stderr)
        if args.compare and archive is not None:
            bin_dir = build_variant("zipapp", tmp / "variants", archive)
            variants.append(("zipapp variant", bin_dir))
            sizes.append(("zipapp variant (.pyz + lib/cp3XY)", 0, dir_size(tmp / "variants" / "zipapp" / "store")))
        for label, bin_dir in variants:
            env = env_with(bin_dir, tmp / "home")
            add("--help", f"kubectl svcpath ({label})", [kubectl, "svcpath", "--help"], env, "< 0.3 s")
            add("--example", f"kubectl svcpath ({label})", [kubectl, "svcpath", "--example"], env, "< 1 s")
            if label.startswith("krew"):
                link = bin_dir / "kubectl_complete-svcpath"
                link.symlink_to("kubectl-svcpath")
                add("completion", f'kubectl __complete svcpath -o "" ({label})', [kubectl, "__complete", "svcpath", "-o", ""], env)

        load = os.getloadavg()[0]
        print(f"Start-up, {args.runs} runs each after a warm-up: wall clock median and min, and CPU time "
              f"(user+sys, median); {os.cpu_count()} CPUs, load average {load:.1f}, Python {sys.version.split()[0]}\n")
        print("| command | how | wall median | wall min | CPU | exit | target |\n|---|---|---|---|---|---|---|")
        for what, how, med, best, cpu, rc, target in rows:
            print(f"| {what} | {how} | {med:.3f} s | {best:.3f} s | {cpu:.3f} s | {rc} | {target} |")
        if sizes:
            print("\n| artefact | download | on disk |\n|---|---|---|")
            for label, download, disk in sizes:
                print(f"| {label} | {download / 1e6:.1f} MB | {disk / 1e6:.1f} MB |")
        if not args.no_importtime:
            for what in (["--help"], ["--example"]):
                print(f"\nWhat `python -X importtime -m kubectl_svcpath {' '.join(what)}` spends per package "
                      "(cumulative, rows overlap: typer includes the pydantic it imports):\n")
                print("| package | seconds |\n|---|---|")
                for name, secs in importtime(what, venv_env, 12):
                    print(f"| {name} | {secs:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
