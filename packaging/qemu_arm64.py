#!/usr/bin/env python3
"""Run the linux/arm64 krew archive for real: arm64 kubectl finds it and runs it on arm64 python3.

1. An arm64 Debian root (debootstrap --foreign --variant=minbase, plus python3 and
   kubernetes-client, unpacked with dpkg-deb: nothing in it is executed to set it up).
2. The linux/arm64 archive, installed krew's way (packaging/krew_install.py) into a KREW_ROOT.
3. ``kubectl svcpath --example``: kubectl is the root's arm64 binary under qemu-aarch64-static; it
   discovers $KREW_ROOT/bin/kubectl-svcpath on PATH and execs it; the launcher's
   ``#!/usr/bin/env python3`` finds a ``python3`` that runs the root's arm64 python3 under qemu.
   Those two one-line shims stand in for binfmt_misc, which this container does not offer (and
   which would change the host kernel's settings for everyone).
The output must equal the source tree's ``--example`` output, and the arm64 interpreter must
have loaded the archive's aarch64 pydantic_core (an x86-64 python could not).

Usage: qemu_arm64.py [--root DIR] [--archive FILE]   (default: build the arm64 archive into build/)
Needs (Debian): debootstrap, qemu-user-static; `make krew-qemu` installs them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import krew_install  # noqa: E402
from build_krew import archive_name, version  # noqa: E402

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("python3", "kubernetes-client")


def need(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise SystemExit(f"error: {tool} is not installed (Debian: apt-get install {package}; make krew-qemu does it)")
    return path


def make_root(root: Path) -> None:
    done = root / ".svcpath-root-ready"
    if done.exists():
        return
    if root.exists():
        shutil.rmtree(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([need("debootstrap", "debootstrap"), "--foreign", "--arch=arm64", "--variant=minbase",
                    f"--include={','.join(PACKAGES)}", SUITE, str(root), MIRROR], check=True, stdout=subprocess.DEVNULL)
    # --foreign unpacks only the required set; unpack the rest (python3, kubectl, their libraries)
    for deb in sorted((root / "var" / "cache" / "apt" / "archives").glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    done.write_text("")


def shim(folder: Path, name: str, qemu: str, root: Path, target: str) -> None:
    path = folder / name
    path.write_text(f'#!/bin/sh\nexec "{qemu}" -L "{root}" "{root}{target}" "$@"\n')
    path.chmod(0o755)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=ROOT / "build" / "arm64-root")
    ap.add_argument("--archive", type=Path, help="the linux/arm64 archive (default: build it)")
    args = ap.parse_args(argv)
    qemu = need("qemu-aarch64-static", "qemu-user-static")
    root = args.root.resolve()
    started = time.monotonic()
    make_root(root)
    took_root = time.monotonic() - started

    with tempfile.TemporaryDirectory(prefix="svcpath-qemu-") as tmp_s:
        tmp = Path(tmp_s)
        archive = args.archive
        manifest = tmp / "svcpath.yaml"
        shutil.copyfile(ROOT / "krew-manifest.yaml", manifest)
        if archive is None:
            started = time.monotonic()
            subprocess.run([sys.executable, str(HERE / "build_krew.py"), "build", "--platform", "linux_arm64",
                            "--dist", str(tmp / "dist"), "--manifest", str(manifest)], check=True, stdout=subprocess.DEVNULL)
            archive = tmp / "dist" / archive_name(version(), "linux", "arm64")
            print(f"built {archive.name} in {time.monotonic() - started:.0f} s")
        else:  # a given archive: its sha256 into the copy of the manifest
            sys.path.insert(0, str(HERE))
            from build_krew import update_manifest

            update_manifest(manifest, version(), {"linux_arm64": (archive.name, krew_install.sha256_file(archive))})
        krew_root = tmp / "krew"
        krew_install.install(manifest, archive, krew_root, "linux", "arm64")
        shims = tmp / "qemu-shims"
        shims.mkdir()
        pythons = sorted((root / "usr" / "bin").glob("python3.[0-9]*"))
        python = next(p for p in pythons if p.name.replace("python", "").replace(".", "").isdigit())
        shim(shims, "python3", qemu, root, f"/usr/bin/{python.name}")
        shim(shims, "kubectl", qemu, root, "/usr/bin/kubectl")
        env = {"PATH": f"{krew_root / 'bin'}:{shims}:/usr/bin:/bin", "HOME": str(tmp), "KUBECONFIG": str(tmp / "none"),
               "NO_COLOR": "1", "COLUMNS": "200", "LANG": "C.UTF-8"}

        def run(*argv: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
            return subprocess.run(list(argv), env=env, capture_output=True, text=True, timeout=timeout, check=False)

        machine = run("python3", "-c", "import platform, sys; print(platform.machine(), sys.version.split()[0])").stdout.split()
        kubectl_version = run("kubectl", "version", "--client").stdout.splitlines()[:1]
        plugins = run("kubectl", "plugin", "list")
        started = time.monotonic()
        proc = run("kubectl", "svcpath", "--example")
        took_example = time.monotonic() - started
        started = time.monotonic()
        again = run("kubectl", "svcpath", "--example")  # the second start: bytecode cached
        took_again = time.monotonic() - started
        loaded = run("python3", "-c", "import sys; sys.path[0:0] = [sys.argv[1], sys.argv[2]]; import pydantic_core._pydantic_core as m; print(m.__file__)",
                     str(krew_root / "store" / "svcpath" / f"v{version()}" / "lib" / f"cp{machine[1].split('.')[0]}{machine[1].split('.')[1]}"),
                     str(krew_root / "store" / "svcpath" / f"v{version()}" / "lib" / "common"))
        host_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
        source = subprocess.run([sys.executable, "-m", "kubectl_svcpath", "--example"], cwd=ROOT, env=host_env,
                                capture_output=True, text=True, check=False)

    problems = []
    if machine[:1] != ["aarch64"]:
        problems.append(f"python3 under qemu reports {machine}, not aarch64")
    if str(krew_root / "bin" / "kubectl-svcpath") not in plugins.stdout:
        problems.append(f"kubectl plugin list does not show the plugin: {plugins.stdout} {plugins.stderr}")
    if (proc.returncode, proc.stdout) != (source.returncode, source.stdout) or not proc.stdout:
        problems.append(f"--example under qemu: exit {proc.returncode}, stderr {proc.stderr[-2000:]!r}; "
                        f"the source tree gives exit {source.returncode}")
    if again.stdout != proc.stdout:
        problems.append("the second run under qemu printed something else than the first")
    if "aarch64" not in loaded.stdout:
        problems.append(f"pydantic_core did not load as aarch64: {loaded.stdout} {loaded.stderr[-500:]}")
    print(f"arm64 root ({SUITE}: {', '.join(PACKAGES)}) ready in {took_root:.0f} s; python3 {' '.join(machine)}; "
          f"kubectl {' '.join(kubectl_version)}")
    print(f"kubectl svcpath --example under qemu: exit {proc.returncode}, {took_example:.1f} s first run "
          f"(bytecode compiled), {took_again:.1f} s second; output {'==' if not problems else '!='} source tree's")
    print(f"compiled module loaded: {loaded.stdout.strip()}")
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
