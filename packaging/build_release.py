#!/usr/bin/env python3
"""Build the krew release archive for this machine's OS/arch and fill in krew-manifest.yaml.

The archive is a PyInstaller *onedir* build (a small executable + ``_internal/`` with the Python
runtime and every dependency), so krew users need no Python. Why onedir: it starts fastest of the
self-contained options (onefile unpacks ~25 MB of libraries into /tmp on every run; a shiv
zipapp needs a matching python3, and its C extensions pin it to one CPython minor and platform
anyway); the figures are in docs/install.md and come from bench/bench_startup.py --compare.

Steps: PyInstaller with packaging/kubectl-svcpath.spec (from this venv: what is installed is what
ships; the spec says what is bundled and why) -> stage the executable,
``_internal/``, LICENSE and THIRD-PARTY-LICENSES.txt -> a reproducible .tar.gz (sorted entries,
fixed mtimes and owners, no symlinks: krew's tar extractor accepts only files and directories)
-> ``<archive>.sha256`` -> version, uri and sha256 of the matching platform in the manifest.

Usage:
  build_release.py [--dist DIR] [--work DIR] [--manifest FILE | --no-manifest] [--mode onedir|onefile]
Prints the archive path and its sha256. Needs PyInstaller: ``make release-deps``.
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from krew_install import host_os_arch, sha256_file  # noqa: E402

PLUGIN = "kubectl-svcpath"
# Fixed timestamp for archive entries unless SOURCE_DATE_EPOCH says otherwise (reproducible builds).
DEFAULT_EPOCH = 315532800  # 1980-01-01, the earliest a zip can hold too

def version() -> str:
    text = (ROOT / "kubectl_svcpath" / "__init__.py").read_text(encoding="utf-8")
    m = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', text, re.M)
    if not m:
        raise SystemExit("error: no __version__ in kubectl_svcpath/__init__.py")
    return m.group(1)


def archive_name(ver: str, os_: str, arch: str) -> str:
    return f"{PLUGIN}_v{ver}_{os_}_{arch}.tar.gz"


def run_pyinstaller(work: Path, mode: str, strip: bool = True) -> Path:
    """Freeze packaging/entry.py; return the dist folder (onedir) or the binary (onefile)."""
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise SystemExit("error: PyInstaller is not installed in this Python\n"
                         "hint: make release-deps   (pip install -e '.[release]')") from None
    dist = work / "dist"
    # PyInstaller's import analysis does not follow the editable install's import hook, and the
    # repository root cannot go on its path (ROOT/packaging would shadow the 'packaging' library):
    # give it a folder that holds only our package.
    src = work / "src"
    src.mkdir(parents=True, exist_ok=True)
    link = src / "kubectl_svcpath"
    if not link.is_symlink() or link.resolve() != (ROOT / "kubectl_svcpath").resolve():
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(ROOT / "kubectl_svcpath", target_is_directory=True)
    # what to bundle, and why, is in the spec file
    argv = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
            "--distpath", str(dist), "--workpath", str(work / "build"),
            str(HERE / "kubectl-svcpath.spec"), "--", "--src", str(src)]
    if mode == "onefile":
        argv.append("--onefile")
    if not strip:
        argv.append("--no-strip")
    # cwd=work: PyInstaller must not pick up ROOT/packaging as the 'packaging' library.
    # A fixed hash seed keeps set/frozenset constants in the bundled bytecode in one order, so
    # the same sources give the same bytes (PyInstaller's advice for reproducible builds).
    env = {**os.environ, "PYTHONHASHSEED": "0", "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", str(DEFAULT_EPOCH))}
    subprocess.run(argv, check=True, cwd=work, env=env)
    return dist / PLUGIN


def third_party_licenses() -> str:
    """Licence texts of Python and every distribution bundled (kubectl-svcpath's requirement closure)."""
    from importlib import metadata

    from packaging.requirements import Requirement

    seen: dict[str, metadata.Distribution] = {}
    todo = ["kubectl-svcpath"]
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen[key] = dist
        for spec in dist.requires or []:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    parts = ["Third-party software bundled in this archive, with its licence texts.\n"]
    py_license = Path(sys.base_prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "LICENSE.txt"
    parts.append(f"\n{'=' * 78}\nPython {sys.version.split()[0]}\n{'=' * 78}\n")
    parts.append(py_license.read_text(encoding="utf-8", errors="replace") if py_license.exists() else "PSF License\n")
    for key in sorted(seen):
        if key == "kubectl-svcpath":
            continue
        dist = seen[key]
        meta = dist.metadata
        lic = meta.get("License-Expression") or meta.get("License") or ""
        if not lic or len(lic) > 100:
            lic = next((c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License ::")), lic[:100])
        parts.append(f"\n{'=' * 78}\n{meta['Name']} {dist.version} ({lic})\n{'=' * 78}\n")
        texts = [f for f in dist.files or [] if re.search(r"(LICEN[CS]E|COPYING|NOTICE)", f.name, re.I)]
        for f in texts:
            path = Path(dist.locate_file(f))
            if path.is_file():
                parts.append(f"--- {f.name} ---\n{path.read_text(encoding='utf-8', errors='replace')}\n")
        if not texts:
            parts.append(f"(no licence file in the distribution; licence: {lic or 'see ' + str(meta.get('Home-page'))})\n")
    return "".join(parts)


def system_library_notices(internal: Path) -> str:
    """Copyright files of the shared libraries PyInstaller copied from the build host (Debian: dpkg)."""
    if not internal.is_dir() or shutil.which("dpkg") is None:
        return ""
    packages: dict[str, list[str]] = {}
    for lib in sorted(internal.glob("lib*.so*")):
        if lib.name.startswith("libpython"):
            continue  # the interpreter's own licence is already in the list
        for candidate in (f"/usr/lib/x86_64-linux-gnu/{lib.name}", f"/lib/x86_64-linux-gnu/{lib.name}", f"/usr/lib/{lib.name}"):
            proc = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True, check=False)
            if proc.returncode == 0:
                packages.setdefault(proc.stdout.split(":", 1)[0], []).append(lib.name)
                break
    parts = []
    for pkg, libs in sorted(packages.items()):
        copyright_file = Path("/usr/share/doc") / pkg / "copyright"
        text = copyright_file.read_text(encoding="utf-8", errors="replace") if copyright_file.exists() else "(no copyright file)\n"
        parts.append(f"\n{'=' * 78}\n{pkg} (Debian package; {', '.join(libs)})\n{'=' * 78}\n{text}")
    return "".join(parts)


def stage(frozen: Path, staging: Path, mode: str) -> None:
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    if mode == "onedir":
        # krew's tar extractor refuses symlinks: copy their targets instead
        shutil.copytree(frozen, staging, symlinks=False, dirs_exist_ok=True)
    else:
        shutil.copy2(frozen, staging / PLUGIN)
    shutil.copy2(ROOT / "LICENSE", staging / "LICENSE")
    notices = third_party_licenses() + system_library_notices(staging / "_internal")
    (staging / "THIRD-PARTY-LICENSES.txt").write_text(notices, encoding="utf-8")


def write_archive(staging: Path, out: Path) -> None:
    """A .tar.gz that depends only on the files' contents and executable bits."""
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH))
    paths = sorted(p for p in staging.rglob("*"))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in paths:
            rel = path.relative_to(staging).as_posix()
            if ".." in rel:
                raise SystemExit(f"error: {rel!r}: krew refuses archive entries containing '..'")
            info = tarfile.TarInfo(rel)
            info.mtime, info.uid, info.gid, info.uname, info.gname = epoch, 0, 0, "", ""
            if path.is_symlink():
                raise SystemExit(f"error: {rel}: symlink in the staging folder (krew cannot unpack it)")
            if path.is_dir():
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size = path.stat().st_size
                info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
                with path.open("rb") as fh:
                    tar.addfile(info, fh)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=epoch, compresslevel=9) as gz:
        gz.write(buf.getvalue())


def update_manifest(manifest: Path, ver: str, os_: str, arch: str, name: str, sha: str) -> None:
    """Set spec.version, and uri + sha256 of the platform selecting os/arch, keeping the file's layout."""
    import yaml

    from check_krew_manifest import selector_matches

    text = manifest.read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    homepage = doc["spec"]["homepage"].rstrip("/")
    tag = f"v{ver}"
    platforms = doc["spec"]["platforms"]
    index = next((i for i, p in enumerate(platforms) if selector_matches(p["selector"], os_, arch)), None)
    if index is None:
        raise SystemExit(f"error: {manifest} has no platform for {os_}/{arch}; add one (see docs/install.md)")
    lines = text.splitlines(keepends=True)
    out, platform_no, in_platforms = [], -1, False
    for line in lines:
        stripped = line.lstrip()
        if re.match(r"^  version:\s", line):
            line = f"  version: {tag}\n"
        elif re.match(r"^  platforms:\s*$", line):
            in_platforms = True
        elif in_platforms and stripped.startswith("- ") and len(line) - len(stripped) <= 2:
            platform_no += 1
        if in_platforms and platform_no == index:
            indent = line[: len(line) - len(stripped)]
            key = stripped.removeprefix("- ")
            prefix = indent + ("- " if stripped.startswith("- ") else "")
            if key.startswith("uri:"):
                uri = f"{homepage}/releases/download/{tag}/{name}"
                line = f"{prefix}uri: {uri}\n"
            elif key.startswith("sha256:"):
                line = f'{prefix}sha256: "{sha}"\n'
        out.append(line)
    new = "".join(out)
    check = yaml.safe_load(new)
    got = check["spec"]["platforms"][index]
    if got.get("sha256") != sha or check["spec"]["version"] != tag or not got.get("uri", "").endswith(name):
        raise SystemExit(f"error: could not update {manifest}: keep one `uri:` and one `sha256:` line per platform")
    manifest.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dist", type=Path, default=ROOT / "dist", help="where the archive goes (default: dist/)")
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller", help="PyInstaller work folder (kept as a cache)")
    ap.add_argument("--manifest", type=Path, default=ROOT / "krew-manifest.yaml")
    ap.add_argument("--no-manifest", action="store_true", help="do not touch the manifest")
    ap.add_argument("--mode", choices=("onedir", "onefile"), default="onedir")
    ap.add_argument("--no-strip", action="store_true", help="keep debug symbols in the shared libraries")
    args = ap.parse_args(argv)

    ver = version()
    os_, arch = host_os_arch()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    frozen = run_pyinstaller(work, args.mode, strip=not args.no_strip)
    staging = work / "staging"
    stage(frozen, staging, args.mode)
    name = archive_name(ver, os_, arch)
    archive = args.dist.resolve() / name
    write_archive(staging, archive)
    sha = sha256_file(archive)
    (archive.parent / (name + ".sha256")).write_text(f"{sha}  {name}\n", encoding="utf-8")
    if not args.no_manifest:
        update_manifest(args.manifest, ver, os_, arch, name, sha)
    size = archive.stat().st_size / 1e6
    unpacked = sum(p.stat().st_size for p in staging.rglob("*") if p.is_file()) / 1e6
    print(f"{archive}\nsha256 {sha}\n{size:.1f} MB archive, {unpacked:.1f} MB unpacked, built in {time.monotonic() - started:.0f} s",
          file=sys.stderr)
    print(archive)
    return 0


if __name__ == "__main__":
    sys.exit(main())
