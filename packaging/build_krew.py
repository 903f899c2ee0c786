#!/usr/bin/env python3
"""Build the krew archives for every platform, on this Linux machine, reproducibly.

An archive holds a small Python launcher (``kubectl-svcpath``, run by the user's ``python3``), the
project and every pure-Python dependency once (``lib/common/``), and, per CPython minor version,
the compiled dependencies unpacked from the wheels published for that platform
(``lib/cp310/`` ... ``lib/cp314/``). Why this and not PyInstaller or a zipapp: docs/install.md
("Packaging choice, measured").

Inputs are pinned: packaging/krew-requirements.in names the versions, packaging/krew-lock.txt the
exact file (wheel or sdist) and sha256 for every target ``<os>_<arch>-cp3XY``; the build fetches
them with ``pip download --require-hashes`` for that target's platform tags and never reads the
virtualenv it runs in. python-iptables ships only as source: its Python code goes into the Linux
archives and its C helper (libxtwrapper, no Python API) is compiled here for each Linux arch
(``cc``; ``aarch64-linux-gnu-gcc``), with fixed paths so the bytes do not depend on the folder.

The .tar.gz depends only on those inputs: sorted members, fixed mtimes/owners/modes, gzip without
a name or time (``write_archive``).

Usage:
  build_krew.py lock                       # resolve krew-requirements.in for every target -> krew-lock.txt
  build_krew.py build [--platform P ...] [--dist DIR] [--work DIR] [--manifest FILE | --no-manifest]
Prints one archive path per line; ``--manifest`` (default krew-manifest.yaml) gets their sha256.
"""

from __future__ import annotations

import argparse
import email.parser
import gzip
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REQUIREMENTS = HERE / "krew-requirements.in"
LOCK = HERE / "krew-lock.txt"
LAUNCHER = HERE / "krew_launcher.py"
PLUGIN = "kubectl-svcpath"
DEFAULT_EPOCH = 315532800  # 1980-01-01: fixed mtime of every archive member (SOURCE_DATE_EPOCH wins)
PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14")  # CPython minors the archives carry wheels for


@dataclass(frozen=True)
class Platform:
    os: str  # krew's os label
    arch: str  # krew's arch label
    pip_platforms: tuple[str, ...]  # pip download --platform values (each expands to older compatible tags)
    cc: str | None  # compiler for libxtwrapper (Linux only)


PLATFORMS = {
    # manylinux_2_17 (= manylinux2014) and older only: the glibc floor of the Linux archives is 2.17
    "linux_amd64": Platform("linux", "amd64", ("manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux_2_12_x86_64",
                                               "manylinux2010_x86_64", "manylinux_2_5_x86_64", "manylinux1_x86_64"),
                            "cc"),
    "linux_arm64": Platform("linux", "arm64", ("manylinux_2_17_aarch64", "manylinux2014_aarch64"),
                            "aarch64-linux-gnu-gcc"),
    # macOS 10.15 / 11.0 and older tags (pip expands a macosx tag to every older version and to universal2)
    "darwin_amd64": Platform("darwin", "amd64", ("macosx_10_15_x86_64",), None),
    "darwin_arm64": Platform("darwin", "arm64", ("macosx_11_0_arm64",), None),
}
# Required by the kubernetes client, never imported by kubectl-svcpath (it uses the synchronous
# client only): left out of the archives. tests/packaging/test_kubectl_plugin.py runs the live path from one.
NOT_BUNDLED = {"aiohttp", "aiohttp-retry", "aiosignal", "aiohappyeyeballs", "frozenlist", "multidict", "yarl", "propcache", "attrs"}
# kubernetes.aio (40 MB unpacked) is the asyncio client: it needs aiohttp, left out above.
PRUNED = ("kubernetes/aio/",)
SDIST_ONLY = {"python-iptables"}  # built here: Linux archives only


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pytag(minor: str) -> str:
    return "cp" + minor.replace(".", "")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def version() -> str:
    text = (ROOT / "kubectl_svcpath" / "__init__.py").read_text(encoding="utf-8")
    m = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', text, re.M)
    if not m:
        raise SystemExit("error: no __version__ in kubectl_svcpath/__init__.py")
    return m.group(1)


def archive_name(ver: str, os_: str, arch: str) -> str:
    return f"{PLUGIN}_v{ver}_{os_}_{arch}.tar.gz"


def wheel_name_version(filename: str) -> tuple[str, str]:
    parts = filename[:-4].split("-") if filename.endswith(".whl") else re.match(r"(.+)-([^-]+)\.tar\.gz$", filename).groups()  # type: ignore[union-attr]
    return norm(parts[0]), parts[1]


def requirements() -> list[str]:
    return [line.split("#")[0].strip() for line in REQUIREMENTS.read_text().splitlines() if line.split("#")[0].strip()]


def pip_target_args(plat: Platform, minor: str) -> list[str]:
    args = ["--only-binary", ":all:", "--implementation", "cp", "--python-version", minor, "--abi", pytag(minor), "--abi", "abi3", "--abi", "none"]
    for p in plat.pip_platforms:
        args += ["--platform", p]
    return args


def pip(*args: str) -> None:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    proc = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        err = "\n".join(line for line in proc.stderr.splitlines() if "is ignored: it is neither" not in line)
        raise SystemExit(f"error: pip {' '.join(args[:2])} failed:\n{err[-3000:]}")


# --- lock ------------------------------------------------------------------------------------------


def lock() -> int:
    """Resolve krew-requirements.in for every target and write every file's sha256 to krew-lock.txt."""
    reqs = requirements()
    wheel_reqs = [r for r in reqs if norm(re.split(r"[=<>!~ ;]", r)[0]) not in SDIST_ONLY]
    lines = ["# Inputs of the krew archives: <target> <file> <sha256>. Written by `packaging/build_krew.py lock`",
             "# from krew-requirements.in; `make krew-archive` downloads exactly these files (pip --require-hashes)."]
    with tempfile.TemporaryDirectory(prefix="krew-lock-") as tmp:
        for key, plat in PLATFORMS.items():
            for minor in PYTHONS:
                dest = Path(tmp) / f"{key}-{pytag(minor)}"
                pip("download", "-q", "-d", str(dest), *pip_target_args(plat, minor), *wheel_reqs)
                for f in sorted(dest.iterdir()):
                    if wheel_name_version(f.name)[0] not in NOT_BUNDLED:
                        lines.append(f"{key}-{pytag(minor)} {f.name} {sha256_file(f)}")
        sdist_reqs = [r for r in reqs if r not in wheel_reqs]
        if sdist_reqs:
            dest = Path(tmp) / "sdist"
            pip("download", "-q", "--no-deps", "--no-binary", ":all:", "-d", str(dest), *sdist_reqs)
            for f in sorted(dest.iterdir()):
                lines.append(f"sdist {f.name} {sha256_file(f)}")
    LOCK.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{LOCK}: {len(lines) - 2} files")
    return 0


def read_lock() -> dict[str, dict[str, str]]:
    """target -> {filename: sha256}"""
    out: dict[str, dict[str, str]] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            target, name, sha = line.split()
            out.setdefault(target, {})[name] = sha
    return out


def fetch(target: str, files: dict[str, str], plat: Platform | None, minor: str | None, cache: Path) -> dict[str, Path]:
    """Download the locked files of one target into cache/ (a hit needs the right sha256)."""
    cache.mkdir(parents=True, exist_ok=True)
    missing = {n: s for n, s in files.items() if not ((cache / n).is_file() and sha256_file(cache / n) == s)}
    if missing:
        by_req: dict[str, list[str]] = {}
        for name, sha in missing.items():
            dist, ver = wheel_name_version(name)
            by_req.setdefault(f"{dist}=={ver}", []).append(sha)
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as req:
            for spec, shas in sorted(by_req.items()):
                req.write(spec + "".join(f" --hash=sha256:{s}" for s in shas) + "\n")
        try:
            if plat is not None and minor is not None:
                pip("download", "-q", "--no-deps", "--require-hashes", "-d", str(cache), *pip_target_args(plat, minor), "-r", req.name)
            else:
                pip("download", "-q", "--no-deps", "--require-hashes", "--no-binary", ":all:", "-d", str(cache), "-r", req.name)
        finally:
            os.unlink(req.name)
    for name, sha in files.items():
        path = cache / name
        if not path.is_file() or sha256_file(path) != sha:
            raise SystemExit(f"error: {target}: pip did not give the locked {name} (sha256 {sha}); "
                             f"re-run `packaging/build_krew.py lock` if the inputs changed on purpose")
    return {n: cache / n for n in files}


# --- staging (in memory: archive path -> bytes and executable bit) --------------------------------


class Tree(dict):
    """The archive's files: relative POSIX path -> (content, executable)."""

    def add(self, rel: str, data: bytes, executable: bool = False) -> None:
        if ".." in rel.split("/") or rel.startswith("/"):
            raise SystemExit(f"error: {rel!r}: krew refuses archive entries containing '..' or starting with '/'")
        self[rel] = (data, executable)


def unpack_wheel(wheel: Path, tree: Tree, prefix: str) -> None:
    """What `pip install --target` lays out, without pip: purelib/platlib at the top, no scripts."""
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            name = info.filename
            m = re.match(r"[^/]+\.data/(purelib|platlib|scripts|headers|data)/(.*)", name)
            if m:
                if m.group(1) not in ("purelib", "platlib"):
                    continue
                name = m.group(2)
            if name.endswith(".pyc") or name.startswith(PRUNED):
                continue
            tree.add(f"{prefix}/{name}", zf.read(info), bool((info.external_attr >> 16) & 0o111))


def project_files(tree: Tree, prefix: str) -> None:
    """kubectl_svcpath from the checkout: the package and its data, no caches."""
    src = ROOT / "kubectl_svcpath"
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if path.is_dir() or "__pycache__" in rel.parts or path.suffix in (".pyc", ".pyo"):
            continue
        tree.add(f"{prefix}/kubectl_svcpath/{rel.as_posix()}", path.read_bytes())


def build_xtwrapper(sdist: Path, plat: Platform, tree: Tree, prefix: str) -> None:
    """python-iptables from its sdist: iptc/ (Python) + libxtwrapper.so compiled for plat's arch.

    libxtwrapper is plain C (setjmp/longjmp around libxtables' exit, uname): no Python headers,
    so one build per arch serves every Python. iptc finds it through IPTABLES_LIBDIR, which
    collect/iptc_reader.py points at the folder holding iptc (lib/common).
    """
    assert plat.cc
    cc = shutil.which(plat.cc)
    if cc is None:
        raise SystemExit(f"error: {plat.cc} is not installed (make krew-deps: apt-get install gcc gcc-aarch64-linux-gnu)")
    with tempfile.TemporaryDirectory(prefix="xtwrapper-") as tmp:
        with tarfile.open(sdist) as tar:
            top = tar.getnames()[0].split("/")[0]
            tar.extractall(tmp, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(tmp)
        src = Path(tmp) / top
        for path in sorted((src / "iptc").rglob("*.py")):
            tree.add(f"{prefix}/{path.relative_to(src).as_posix()}", path.read_bytes())
        out = Path(tmp) / "libxtwrapper.so"
        # relative source path, prefix map, no build-id: the bytes do not depend on the folder; -s: no debug info
        subprocess.run([cc, "-shared", "-fPIC", "-O2", "-s", "-U_FORTIFY_SOURCE", "-D_FORTIFY_SOURCE=0",
                        f"-ffile-prefix-map={src}=.", "-Wl,--build-id=none", "-o", str(out), "libxtwrapper/wrapper.c"],
                       cwd=src, check=True)
        tree.add(f"{prefix}/libxtwrapper.so", out.read_bytes(), executable=True)
        pkg_info = (src / "PKG-INFO").read_bytes()
        meta = email.parser.BytesParser().parsebytes(pkg_info)
        info = f"{prefix}/python_iptables-{meta['Version']}.dist-info"
        tree.add(f"{info}/METADATA", pkg_info)
        machine = "x86_64" if plat.arch == "amd64" else "aarch64"
        tree.add(f"{info}/WHEEL", (f"Wheel-Version: 1.0\nGenerator: kubectl-svcpath packaging/build_krew.py\n"
                                   f"Root-Is-Purelib: false\nTag: py3-none-manylinux_2_17_{machine}\n").encode())
        for lic in ("NOTICE", "LICENSE", "COPYING"):
            if (src / lic).is_file():
                tree.add(f"{info}/{lic}", (src / lic).read_bytes())


def third_party_licenses(tree: Tree) -> str:
    """The licence texts of every distribution in lib/ (each once, from its .dist-info)."""
    infos: dict[str, str] = {}
    for rel in sorted(tree):
        m = re.match(r"lib/[^/]+/([^/]+\.dist-info)/METADATA$", rel)
        if m:
            infos.setdefault(norm(m.group(1).split("-")[0]), rel.rsplit("/", 1)[0])
    parts = ["Third-party software bundled in this archive, with its licence texts.\n"
             "(Python itself is the user's python3 and is not bundled.)\n"]
    for _key, info in sorted(infos.items()):
        meta = email.parser.BytesParser().parsebytes(tree[f"{info}/METADATA"][0])
        lic = meta.get("License-Expression") or meta.get("License") or ""
        if not lic or len(lic) > 100 or "\n" in lic:
            lic = next((c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License ::")), lic[:100])
        parts.append(f"\n{'=' * 78}\n{meta['Name']} {meta['Version']} ({lic})\n{'=' * 78}\n")
        texts = [r for r in sorted(tree) if r.startswith(info + "/") and re.search(r"LICEN[CS]E|COPYING|NOTICE|AUTHORS", r.rsplit("/", 1)[1], re.I)]
        for rel in texts:
            parts.append(f"--- {rel[len(info) + 1:]} ---\n{tree[rel][0].decode('utf-8', errors='replace')}\n")
        if not texts:
            parts.append(f"(no licence file in the distribution; licence: {lic or meta.get('Home-page') or 'see its project page'})\n")
    return "".join(parts)


def stage(key: str, lock_files: dict[str, dict[str, str]], cache: Path) -> Tree:
    plat = PLATFORMS[key]
    tree = Tree()
    pure_done: set[str] = set()
    for minor in PYTHONS:
        target = f"{key}-{pytag(minor)}"
        files = lock_files.get(target)
        if not files:
            raise SystemExit(f"error: krew-lock.txt has nothing for {target}: run `packaging/build_krew.py lock`")
        for name, path in sorted(fetch(target, files, plat, minor, cache / "wheels").items()):
            if name.endswith("-none-any.whl"):
                other = next((n for n in pure_done if wheel_name_version(n)[0] == wheel_name_version(name)[0] and n != name), None)
                if other:  # lib/common is shared by every Python: one version of each pure distribution
                    raise SystemExit(f"error: {target} locks {name} but another Python locks {other}: pin one version in krew-requirements.in")
                if name not in pure_done:
                    unpack_wheel(path, tree, "lib/common")
                    pure_done.add(name)
            else:
                unpack_wheel(path, tree, f"lib/{pytag(minor)}")
    if plat.os == "linux":
        for name, path in fetch("sdist", lock_files.get("sdist", {}), None, None, cache / "sdist").items():
            if wheel_name_version(name)[0] == "python-iptables":
                build_xtwrapper(path, plat, tree, "lib/common")
    project_files(tree, "lib/common")
    tree.add(PLUGIN, LAUNCHER.read_bytes(), executable=True)
    tree.add("LICENSE", (ROOT / "LICENSE").read_bytes())
    tree.add("THIRD-PARTY-LICENSES.txt", third_party_licenses(tree).encode())
    return tree


def write_archive(tree: Tree, out: Path) -> None:
    """A .tar.gz that depends only on the files' contents and executable bits.

    Sorted entries, every parent directory as its own entry, fixed mtime (SOURCE_DATE_EPOCH or
    1980-01-01), owner 0/0 without names, modes 0755/0644, gzip without file name or time.
    """
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH))
    dirs = {"/".join(rel.split("/")[:i]) for rel in tree for i in range(1, rel.count("/") + 1)}
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=epoch, compresslevel=9) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel in sorted(dirs | set(tree)):
            info = tarfile.TarInfo(rel)
            info.mtime, info.uid, info.gid, info.uname, info.gname = epoch, 0, 0, "", ""
            if rel in dirs:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                data, executable = tree[rel]
                info.size, info.mode = len(data), 0o755 if executable else 0o644
                tar.addfile(info, io.BytesIO(data))


def update_manifest(manifest: Path, ver: str, built: dict[str, tuple[str, str]]) -> None:
    """Set spec.version, and uri + sha256 of each built platform, keeping the file's layout."""
    import yaml

    sys.path.insert(0, str(HERE))
    from check_krew_manifest import selector_matches

    text = manifest.read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    homepage = doc["spec"]["homepage"].rstrip("/")
    tag = f"v{ver}"
    platforms = doc["spec"]["platforms"]
    index_of: dict[int, tuple[str, str]] = {}
    for key, (name, sha) in built.items():
        plat = PLATFORMS[key]
        index = next((i for i, p in enumerate(platforms) if selector_matches(p["selector"], plat.os, plat.arch)), None)
        if index is None:
            raise SystemExit(f"error: {manifest} has no platform for {plat.os}/{plat.arch}; add one (see docs/install.md)")
        index_of[index] = (name, sha)
    out, platform_no, in_platforms = [], -1, False
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip()
        if re.match(r"^  version:\s", line):
            line = f"  version: {tag}\n"
        elif re.match(r"^  platforms:\s*$", line):
            in_platforms = True
        elif in_platforms and stripped.startswith("- ") and len(line) - len(stripped) <= 2:
            platform_no += 1
        if in_platforms and platform_no in index_of:
            name, sha = index_of[platform_no]
            indent = line[: len(line) - len(stripped)]
            key = stripped.removeprefix("- ")
            prefix = indent + ("- " if stripped.startswith("- ") else "")
            if key.startswith("uri:"):
                line = f"{prefix}uri: {homepage}/releases/download/{tag}/{name}\n"
            elif key.startswith("sha256:"):
                line = f'{prefix}sha256: "{sha}"\n'
        out.append(line)
    new = "".join(out)
    check = yaml.safe_load(new)
    for index, (name, sha) in index_of.items():
        got = check["spec"]["platforms"][index]
        if got.get("sha256") != sha or not got.get("uri", "").endswith(name):
            raise SystemExit(f"error: could not update {manifest}: keep one `uri:` and one `sha256:` line per platform")
    manifest.write_text(new, encoding="utf-8")


def build(args: argparse.Namespace) -> int:
    ver = version()
    lock_files = read_lock()
    work = args.work.resolve()
    built: dict[str, tuple[str, str]] = {}
    for key in args.platform or list(PLATFORMS):
        started = time.monotonic()
        tree = stage(key, lock_files, work / "cache")
        plat = PLATFORMS[key]
        name = archive_name(ver, plat.os, plat.arch)
        archive = args.dist.resolve() / name
        write_archive(tree, archive)
        sha = sha256_file(archive)
        (archive.parent / (name + ".sha256")).write_text(f"{sha}  {name}\n", encoding="utf-8")
        built[key] = (name, sha)
        unpacked = sum(len(data) for data, _ in tree.values()) / 1e6
        print(f"{name}: sha256 {sha}, {archive.stat().st_size / 1e6:.1f} MB archive, {unpacked:.1f} MB unpacked, "
              f"built in {time.monotonic() - started:.0f} s", file=sys.stderr)
        print(archive)
    if not args.no_manifest:
        update_manifest(args.manifest, ver, built)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("lock", help="resolve krew-requirements.in for every target into krew-lock.txt")
    b = sub.add_parser("build", help="build the archives")
    b.add_argument("--platform", action="append", choices=sorted(PLATFORMS), help="only this one (repeatable; default: all)")
    b.add_argument("--dist", type=Path, default=ROOT / "dist", help="where the archives go (default: dist/)")
    b.add_argument("--work", type=Path, default=ROOT / "build" / "krew", help="download cache (default: build/krew)")
    b.add_argument("--manifest", type=Path, default=ROOT / "krew-manifest.yaml")
    b.add_argument("--no-manifest", action="store_true", help="do not touch the manifest")
    args = ap.parse_args(argv)
    return lock() if args.command == "lock" else build(args)


if __name__ == "__main__":
    sys.exit(main())
