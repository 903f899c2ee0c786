#!/usr/bin/env python3
"""Check what a krew archive carries against the platform it is for.

- every wheel unpacked in lib/ (its ``*.dist-info/WHEEL``) is tagged for the archive's platform or
  pure Python: Linux ``manylinux`` tags for its machine with a glibc of at most 2.17, macOS
  ``macosx`` tags for its arch (or universal2), or ``any``; lib/cp3XY holds only cp3XY/abi3 wheels;
- every shared object is of the platform's kind and machine: ELF for Linux (``readelf -h``), Mach-O
  for macOS (read here: thin or universal headers);
- Linux: the newest ``GLIBC_x.y`` symbol version any ELF file needs (``readelf -V``, the
  .gnu.version_r section) is at most 2.17, the manylinux2014 floor.

Usage: check_archive.py ARCHIVE [--os linux --arch amd64]   (default: from the file name)
Prints one line of facts; exit 1 with ``error:`` lines when a rule is broken.
"""

from __future__ import annotations

import argparse
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

GLIBC_FLOOR = (2, 17)
LINUX_MACHINE = {"amd64": ("x86_64", "Advanced Micro Devices X86-64"), "arm64": ("aarch64", "AArch64")}
# Mach-O cputype values: CPU_TYPE_X86_64 = 7 | ABI64, CPU_TYPE_ARM64 = 12 | ABI64
MACHO_CPU = {"amd64": (0x01000007, "x86_64"), "arm64": (0x0100000C, "arm64")}
MACHO_MAGICS = {b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xfe\xed\xfa\xce"}
FAT_MAGICS = {b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf"}


@dataclass
class Report:
    errors: list[str] = field(default_factory=list)
    wheels: int = 0
    shared_objects: int = 0
    newest_glibc: tuple[int, int] | None = None
    macos_min: str | None = None


def platform_of(name: str) -> tuple[str, str]:
    m = re.search(r"_(linux|darwin|windows)_([a-z0-9]+)\.(?:tar\.gz|zip)$", name)
    if not m:
        raise SystemExit(f"error: {name}: cannot tell the platform from the name (want ..._<os>_<arch>.tar.gz)")
    return m.group(1), m.group(2)


def platform_tag_ok(tag: str, os_: str, arch: str) -> bool:
    if tag == "any":
        return True
    if os_ == "linux":
        machine = LINUX_MACHINE[arch][0]
        m = re.fullmatch(rf"manylinux_(\d+)_(\d+)_{machine}", tag)
        if m:
            return (int(m.group(1)), int(m.group(2))) <= GLIBC_FLOOR
        return tag in (f"manylinux1_{machine}", f"manylinux2010_{machine}", f"manylinux2014_{machine}")
    if os_ == "darwin":
        m = re.fullmatch(r"macosx_\d+_\d+_(\w+)", tag)
        return bool(m) and m.group(1) in (MACHO_CPU[arch][1], "universal2", "intel" if arch == "amd64" else "-")
    return False


def check_wheels(lib: Path, os_: str, arch: str, report: Report) -> None:
    for wheel_file in sorted(lib.glob("*/*.dist-info/WHEEL")):
        report.wheels += 1
        folder = wheel_file.parent.parent.name  # common or cp3XY
        tags = [line.split(":", 1)[1].strip() for line in wheel_file.read_text().splitlines() if line.startswith("Tag:")]
        rel = wheel_file.relative_to(lib.parent)
        if not tags:
            report.errors.append(f"{rel}: no Tag line")
        # a wheel with several tags (compressed tag sets) installs wherever any one of them fits
        if tags and not any(platform_tag_ok(t.split("-")[2], os_, arch) for t in tags):
            report.errors.append(f"{rel}: no tag of {tags} is for {os_}/{arch} (glibc <= 2.17 on Linux)")
        for tag in tags:
            interpreter, abi, plat = tag.split("-")
            if folder == "common" and plat != "any" and not wheel_file.parent.name.startswith("python_iptables-"):
                report.errors.append(f"{rel}: a platform wheel ({tag}) in lib/common, which every Python shares")
            if folder.startswith("cp3") and interpreter not in (folder, "py3") and abi != "abi3":
                report.errors.append(f"{rel}: tag {tag} in lib/{folder}")
        mac = [tuple(map(int, m.groups())) for t in tags if (m := re.fullmatch(r"macosx_(\d+)_(\d+)_\w+", t.split("-")[2]))]
        if mac:  # the oldest macOS this wheel runs on; the archive needs the newest of those
            need = min(mac)
            if report.macos_min is None or need > tuple(map(int, report.macos_min.split("."))):
                report.macos_min = f"{need[0]}.{need[1]}"


def macho_cputypes(data: bytes) -> list[int] | None:
    magic = data[:4]
    if magic in MACHO_MAGICS:
        order = "<" if magic in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe") else ">"
        return [struct.unpack(order + "I", data[4:8])[0]]
    if magic in FAT_MAGICS:
        count = struct.unpack(">I", data[4:8])[0]
        if count > 32:  # 0xcafebabe is also a Java class file; never a Mach-O with that many slices
            return None
        size = 20 if magic == b"\xca\xfe\xba\xbe" else 32
        return [struct.unpack(">I", data[8 + i * size: 12 + i * size])[0] for i in range(count)]
    return None


def readelf(*args: str) -> str:
    if shutil.which("readelf") is None:
        raise SystemExit("error: readelf is not installed (Debian: binutils; make krew-deps)")
    return subprocess.run(["readelf", *args], capture_output=True, text=True, check=True).stdout


def check_binaries(root: Path, os_: str, arch: str, report: Report) -> None:
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        with path.open("rb") as fh:
            head = fh.read(64)
        rel = path.relative_to(root)
        if head[:4] == b"\x7fELF":
            report.shared_objects += 1
            if os_ != "linux":
                report.errors.append(f"{rel}: an ELF file in a {os_} archive")
                continue
            header = readelf("-h", "--wide", str(path))
            machine = re.search(r"Machine:\s+(.+)", header)
            if not machine or machine.group(1).strip() != LINUX_MACHINE[arch][1]:
                report.errors.append(f"{rel}: ELF machine {machine.group(1).strip() if machine else '?'}, not {LINUX_MACHINE[arch][1]}")
            needs = {tuple(map(int, v)) for v in re.findall(r"Name: GLIBC_(\d+)\.(\d+)", readelf("-V", "--wide", str(path)))}
            if needs:
                newest = max(needs)
                report.newest_glibc = max(report.newest_glibc or newest, newest)
                if newest > GLIBC_FLOOR:
                    report.errors.append(f"{rel}: needs GLIBC_{newest[0]}.{newest[1]}, above the 2.17 floor")
        else:
            cpus = macho_cputypes(head)
            if cpus is None:
                continue
            report.shared_objects += 1
            if os_ != "darwin":
                report.errors.append(f"{rel}: a Mach-O file in a {os_} archive")
            elif MACHO_CPU[arch][0] not in cpus:
                report.errors.append(f"{rel}: Mach-O for cputypes {[hex(c) for c in cpus]}, none is {MACHO_CPU[arch][1]}")


def extract_checked(archive: Path, root: Path) -> None:
    """Unpack only what the checks read: the WHEEL files and the ELF / Mach-O files (one pass)."""
    magics = {b"\x7fELF", *MACHO_MAGICS, *FAT_MAGICS}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if not member.isfile() or ".." in member.name.split("/") or member.name.startswith("/"):
                continue
            fh = tar.extractfile(member)
            assert fh is not None
            head = fh.read(64)
            if member.name.endswith(".dist-info/WHEEL") or head[:4] in magics:
                target = root / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(head + fh.read())


def check(archive: Path, os_: str | None = None, arch: str | None = None) -> Report:
    if os_ is None or arch is None:
        os_, arch = platform_of(archive.name)
    report = Report()
    with tempfile.TemporaryDirectory(prefix="krew-archive-") as tmp:
        root = Path(tmp)
        extract_checked(archive, root)
        if not (root / "lib").is_dir():
            report.errors.append("no lib/ folder")
            return report
        check_wheels(root / "lib", os_, arch, report)
        check_binaries(root, os_, arch, report)
        if report.wheels == 0:
            report.errors.append("no wheel metadata (*.dist-info/WHEEL) under lib/")
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("archive", type=Path, nargs="+")
    ap.add_argument("--os", dest="os_")
    ap.add_argument("--arch")
    args = ap.parse_args(argv)
    failed = False
    for archive in args.archive:
        r = check(archive, args.os_, args.arch)
        for e in r.errors:
            print(f"error: {archive.name}: {e}", file=sys.stderr)
        failed |= bool(r.errors)
        glibc = f", newest GLIBC needed {r.newest_glibc[0]}.{r.newest_glibc[1]}" if r.newest_glibc else ""
        macos = f", macOS >= {r.macos_min}" if r.macos_min else ""
        print(f"{archive.name}: {r.wheels} wheels, {r.shared_objects} shared objects{glibc}{macos}: "
              + ("FAILED" if r.errors else "ok"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
