#!/usr/bin/env python3
"""Install a plugin archive the way ``kubectl krew install --manifest M --archive A`` does.

krew cannot be downloaded here, so tests and ``make krew-install-local`` use this stand-in. It
follows krew v0.4's installation code (internal/installation, internal/download) in the points
that can break a release:

- the archive's sha256 must equal the manifest's (download.NewSha256Verifier);
- .tar.gz entries may only be directories and regular files; a symlink, hard link or device
  fails the install ("unable to handle file type"); no entry may contain ``..`` or start with
  ``/`` (suspiciousPath); file modes come from the archive;
- ``files`` operations (default ``[{from: "*", to: "."}]``) move from the unpacked archive into
  ``$KREW_ROOT/store/<name>/<version>/``; ``bin`` must resolve inside it;
- ``$KREW_ROOT/bin/kubectl-<name>`` (dashes in the name become underscores) is a symlink to bin.

Usage: krew_install.py MANIFEST ARCHIVE KREW_ROOT [--os linux --arch amd64]
Then put $KREW_ROOT/bin on PATH and run ``kubectl <name>``.
"""

from __future__ import annotations

import argparse
import glob
import os
import platform as platform_mod
import posixpath
import shutil
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_krew import sha256_file  # noqa: E402,F401 (stdlib only: build_krew runs in a bare venv)
from check_krew_manifest import load_manifest, selector_matches  # noqa: E402


class InstallError(Exception):
    """The install failed where krew's would fail."""


@dataclass(frozen=True)
class Installed:
    install_dir: Path  # $KREW_ROOT/store/<name>/<version>
    link: Path  # $KREW_ROOT/bin/kubectl-<name>
    target: Path  # what the link points at


def host_os_arch() -> tuple[str, str]:
    """runtime.GOOS/GOARCH spelled the Go way, as krew reports them."""
    arch = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386", "i386": "386"}.get(
        platform_mod.machine(), platform_mod.machine()
    )
    return sys.platform.replace("win32", "windows"), arch


def _suspicious(name: str) -> None:
    if ".." in name:
        raise InstallError(f"refusing to unpack archive with suspicious entry {name!r}")
    if name.startswith("/") or name.startswith("\\"):
        raise InstallError(f"refusing to unpack archive with absolute entry {name!r}")


def extract(archive: Path, dest: Path) -> None:
    """downloader.go extractTARGZ / extractZIP, including what they refuse."""
    with archive.open("rb") as fh:
        magic = fh.read(4)
    if magic[:2] == b"\x1f\x8b":
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.name == "pax_global_header":
                    continue
                _suspicious(member.name)
                path = dest / member.name
                if member.isdir():
                    path.mkdir(parents=True, exist_ok=True, mode=member.mode or 0o755)
                elif member.isreg():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    src = tar.extractfile(member)
                    assert src is not None
                    with src, path.open("wb") as out:
                        shutil.copyfileobj(src, out)
                    path.chmod(member.mode & 0o7777)
                else:
                    raise InstallError(f"unable to handle file type {member.type!r} for {member.name!r} in tar")
    elif magic == b"PK\x03\x04":
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                _suspicious(info.filename)
                path = dest / info.filename
                mode = (info.external_attr >> 16) & 0o7777
                if info.is_dir():
                    path.mkdir(parents=True, exist_ok=True)
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, path.open("wb") as out:
                    shutil.copyfileobj(src, out)
                if mode:
                    path.chmod(mode)
    else:
        raise InstallError(f"{archive.name}: not a supported archive format (want .tar.gz or .zip)")


def _move(src_root: Path, dst_root: Path, op: dict[str, str]) -> None:
    """move.go findMoveTargets: a direct file/dir move, else a glob into a directory."""
    to = op["to"]
    if to != posixpath.normpath(to):
        raise InstallError(f"the provided path is not clean, {to!r}")
    direct = src_root / op["from"]
    if direct.exists():
        target = dst_root / (direct.name if posixpath.normpath(to) == "." else to)
        moves = [(direct, target)]
    else:
        matches = sorted(glob.glob(str(src_root / op["from"])))
        if not matches:
            raise InstallError(f"no files in the plugin archive matched the glob pattern={op['from']}")
        moves = [(Path(m), dst_root / to / Path(m).name) for m in matches]
    for src, dst in moves:
        for base, path in ((src_root, src), (dst_root, dst)):
            if not _inside(base, path):
                raise InstallError(f"can't move, move target {path} is not a subpath of {base}")
        dst.parent.mkdir(parents=True, exist_ok=True)
        if dst.is_dir():
            shutil.rmtree(dst)
        shutil.move(str(src), str(dst))


def _inside(base: Path, path: Path) -> bool:
    base, path = Path(os.path.abspath(base)), Path(os.path.abspath(path))
    return path == base or base in path.parents


def install(manifest: Path, archive: Path, krew_root: Path, os_: str | None = None, arch: str | None = None) -> Installed:
    doc = load_manifest(manifest)
    name, version = doc["metadata"]["name"], doc["spec"]["version"]
    want_os, want_arch = host_os_arch()
    os_, arch = os_ or want_os, arch or want_arch
    candidates = [p for p in doc["spec"]["platforms"] if selector_matches(p["selector"], os_, arch)]
    if not candidates:
        raise InstallError(f"plugin {name!r} does not offer installation for this platform ({os_}/{arch})")
    platform = candidates[0]
    actual = sha256_file(archive)
    if actual != platform["sha256"]:
        raise InstallError(f"checksum does not match, want: {platform['sha256']}, got {actual}")

    install_dir = krew_root / "store" / name / version
    bin_dir = krew_root / "bin"
    with tempfile.TemporaryDirectory(prefix="krew-downloads") as staging, tempfile.TemporaryDirectory(prefix="krew-temp-move") as moved:
        extract(archive, Path(staging))
        for op in platform.get("files") or [{"from": "*", "to": "."}]:
            _move(Path(staging), Path(moved), op)
        install_dir.parent.mkdir(parents=True, exist_ok=True)
        if install_dir.exists():
            shutil.rmtree(install_dir)
        shutil.copytree(moved, install_dir, symlinks=True)
        install_dir.chmod(0o755)
    target = install_dir / platform["bin"]
    if not _inside(install_dir, target):
        raise InstallError(f"the path {target} does not extend the sub-path {install_dir}")
    if not target.exists():
        raise InstallError(f"can't create symbolic link, source binary ({target}) cannot be found in extracted archive")
    bin_dir.mkdir(parents=True, exist_ok=True)
    link = bin_dir / ("kubectl-" + name.replace("-", "_") + (".exe" if os_ == "windows" else ""))
    if link.is_symlink():
        link.unlink()
    os.symlink(target, link)
    return Installed(install_dir, link, target)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("manifest", type=Path)
    ap.add_argument("archive", type=Path)
    ap.add_argument("krew_root", type=Path)
    ap.add_argument("--os", dest="os_", default=None)
    ap.add_argument("--arch", default=None)
    args = ap.parse_args(argv)
    try:
        result = install(args.manifest, args.archive, args.krew_root, args.os_, args.arch)
    except (InstallError, OSError, KeyError) as exc:
        print(f"error: install failed: {exc}", file=sys.stderr)
        return 1
    print(f"Installed plugin: {result.link.name} -> {result.target}")
    print(f'Add it to PATH: export PATH="{args.krew_root.resolve() / "bin"}:$PATH"')
    return 0


if __name__ == "__main__":
    sys.exit(main())
