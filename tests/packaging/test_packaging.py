"""What ships: the krew manifest, the krew archives, and the wheel/sdist that pip/pipx install.

- The manifest is checked with packaging/check_krew_manifest.py, a Python re-implementation of
  krew's validate-krew-manifest (krew itself cannot be downloaded here); each rule is also shown
  to fire on a manifest that breaks it, so the checker cannot silently pass everything.
- The krew archives (packaging/build_krew.py) for linux/amd64 and linux/arm64 are built once per
  session from the pinned inputs (packaging/krew-lock.txt) and checked with
  packaging/check_archive.py (wheel tags, ELF machine, glibc <= 2.17); linux/amd64 is built a
  second time from a fresh venv and must give the same sha256. tests/packaging/test_kubectl_plugin.py
  installs it krew-style and runs it through kubectl. `make krew-repro` is the full proof (all
  platforms, no shared downloads), `make krew-qemu` runs the arm64 one under qemu.
- The wheel is installed into a fresh venv, and both console scripts are run through kubectl;
  `pip install .` works on a PATH without a C compiler; wheel and sdist hold what they should.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
import yaml

import kubectl_svcpath
from tests.conftest import ROOT

PACKAGING = ROOT / "packaging"
MANIFEST = ROOT / "krew-manifest.yaml"
KUBECTL = shutil.which("kubectl")
IN_CI = os.environ.get("CI") == "true"


def load(name: str) -> ModuleType:
    """A packaging/ script as a module (packaging/ is not a package: it would shadow the
    'packaging' library that PyInstaller and pip import)."""
    sys.path.insert(0, str(PACKAGING))
    try:
        spec = importlib.util.spec_from_file_location(f"svcpath_{name}", PACKAGING / f"{name}.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(PACKAGING))


check = load("check_krew_manifest")


def require_kubectl() -> str:
    if KUBECTL is None:
        if IN_CI:
            pytest.fail("kubectl is not installed; make system-deps installs kubernetes-client")
        pytest.skip("kubectl is not installed (make system-deps)")
    return KUBECTL


def clean_env(*bin_dirs: Path, home: Path) -> dict[str, str]:
    """PATH = our bin dirs + a folder holding only kubectl: no other kubectl-svcpath, no python."""
    kubectl_dir = home / ".kubectl-only"
    kubectl_dir.mkdir(parents=True, exist_ok=True)
    link = kubectl_dir / "kubectl"
    if not link.exists():
        link.symlink_to(require_kubectl())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = os.pathsep.join([*(str(b) for b in bin_dirs), str(kubectl_dir)])
    env["HOME"] = str(home)
    env["KUBECONFIG"] = str(home / "no-kubeconfig")  # offline: never reach a real cluster
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "200"
    return env


def run(argv: list[str], env: dict[str, str], cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


# --- the committed manifest ----------------------------------------------------------------------


def test_committed_manifest_passes_the_checker() -> None:
    proc = subprocess.run([sys.executable, str(PACKAGING / "check_krew_manifest.py"), str(MANIFEST)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert f"valid krew manifest for svcpath v{kubectl_svcpath.__version__}" in proc.stdout


def test_manifest_version_is_the_package_version() -> None:
    doc = check.load_manifest(MANIFEST)
    assert doc["spec"]["version"] == f"v{kubectl_svcpath.__version__}"
    for platform in doc["spec"]["platforms"]:
        assert f"/v{kubectl_svcpath.__version__}/" in platform["uri"]
        assert f"_v{kubectl_svcpath.__version__}_" in platform["uri"]


def test_manifest_platforms_are_the_ones_we_build() -> None:
    # Each platform must select exactly one <os,arch>, named in its archive's file name.
    doc = check.load_manifest(MANIFEST)
    for platform in doc["spec"]["platforms"]:
        pairs = check.platform_pairs(platform)
        assert len(pairs) == 1, pairs
        os_, arch = pairs[0]
        assert platform["uri"].endswith(f"_{os_}_{arch}.tar.gz")


def test_manifest_offers_every_platform_we_build() -> None:
    doc = check.load_manifest(MANIFEST)
    pairs = sorted(p for platform in doc["spec"]["platforms"] for p in check.platform_pairs(platform))
    assert pairs == [("darwin", "amd64"), ("darwin", "arm64"), ("linux", "amd64"), ("linux", "arm64")]
    for platform in doc["spec"]["platforms"]:
        assert [f["from"] for f in platform["files"]] == ["kubectl-svcpath", "lib", "LICENSE", "THIRD-PARTY-LICENSES.txt"]
        assert platform["bin"] == "kubectl-svcpath"


def test_caveats_say_only_what_the_user_must_do() -> None:
    """krew-index review: the Python the launcher needs, where the RBAC is, the completion link."""
    spec = check.load_manifest(MANIFEST)["spec"]
    caveats = spec["caveats"]
    launcher = (PACKAGING / "krew_launcher.py").read_text()
    assert "sys.version_info < (3, 10)" in launcher and "python3 3.10 or newer" in caveats
    assert "kubectl svcpath --print-rbac" in caveats
    assert 'ln -s kubectl-svcpath "${KREW_ROOT:-$HOME/.krew}/bin/kubectl_complete-svcpath"' in caveats
    assert "pods/exec" not in caveats  # the RBAC details live in --print-rbac and the README
    assert len(caveats.splitlines()) <= 8
    assert len(spec["shortDescription"]) <= 50
    assert spec["homepage"].startswith("https://github.com/")


def test_license_is_real() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0" in text and "TERMS AND CONDITIONS" in text
    assert 'license = "Apache-2.0"' in (ROOT / "pyproject.toml").read_text()


def test_minimum_constraints_are_the_declared_bounds() -> None:
    """constraints/minimum.txt (what `make test-min` installs) pins exactly pyproject's lower bounds."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {}
    for req in project["dependencies"] + project["optional-dependencies"]["local"]:  # what users install
        m = re.match(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", req)
        assert m, f"{req}: every dependency needs a tested lower bound"
        declared[m.group(1).lower()] = m.group(2)
    pins = dict(re.match(r"([A-Za-z0-9_.-]+)==([0-9.]+)", line).groups()  # type: ignore[union-attr]
                for line in (ROOT / "constraints" / "minimum.txt").read_text().splitlines() if line and not line.startswith("#"))
    pins = {k.lower(): v for k, v in pins.items()}
    for name, low in declared.items():
        assert name in pins, f"constraints/minimum.txt does not pin {name}"
        assert [int(x) for x in pins[name].split(".")] == [int(x) for x in low.split(".")] + [0] * (pins[name].count(".") - low.count(".")), (name, pins[name], low)


# --- the checker fires on each broken rule --------------------------------------------------------


def _valid() -> dict:
    doc = check.load_manifest(MANIFEST)
    doc["spec"]["platforms"][0]["sha256"] = "a" * 64
    return doc


def _set(path: str, value: object):
    def mutate(doc: dict) -> None:
        *parents, last = path.split(".")
        node = doc
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        if value is _DELETE:
            del node[int(last) if last.isdigit() else last]
        else:
            node[int(last) if last.isdigit() else last] = value
    return mutate


_DELETE = object()


def _duplicate_platform(doc: dict) -> None:
    doc["spec"]["platforms"].append(copy.deepcopy(doc["spec"]["platforms"][0]))


BROKEN = {
    "api-version": (_set("apiVersion", "krew.googlecontainertools.github.com/v1alpha1"), "apiVersion"),
    "kind": (_set("kind", "Plugins"), "kind="),
    "name-mismatch": (_set("metadata.name", "service-path"), "plugin should be named 'svcpath'"),
    "no-short-description": (_set("spec.shortDescription", ""), "should have a short description"),
    "short-description-newline": (_set("spec.shortDescription", "two\nlines"), "line breaks"),
    "short-description-long": (_set("spec.shortDescription", "x" * 51), "at most 50"),
    "description-line-long": (_set("spec.description", "y" * 81 + "\n"), "within 80"),
    "version-without-v": (_set("spec.version", "0.1.0"), "not starting with 'v'"),
    "version-not-semver": (_set("spec.version", "v0.1"), "not a semantic version"),
    "version-not-package": (_set("spec.version", "v9.9.9"), "__version__"),
    "sha-uppercase": (_set("spec.platforms.0.sha256", "A" * 64), "is not valid"),
    "sha-short": (_set("spec.platforms.0.sha256", "a" * 63), "is not valid"),
    "no-uri": (_set("spec.platforms.0.uri", ""), "`uri` has to be set"),
    "no-bin": (_set("spec.platforms.0.bin", ""), "`bin` has to be set"),
    "files-empty": (_set("spec.platforms.0.files", []), "unspecified or non-empty"),
    "files-no-to": (_set("spec.platforms.0.files", [{"from": "LICENSE"}]), "`to` field"),
    "selector-key": (_set("spec.platforms.0.selector", {"matchLabels": {"os": "linux", "distro": "debian"}}), "not supported"),
    "selector-empty": (_set("spec.platforms.0.selector", {}), "empty selector"),
    "selector-unknown-platform": (_set("spec.platforms.0.selector", {"matchLabels": {"os": "plan9"}}), "doesn't match any supported"),
    "overlapping-platforms": (_duplicate_platform, "overlapping selectors that select linux/amd64"),
    "no-platforms": (_set("spec.platforms", []), "should have a platform"),
    "uri-http": (_set("spec.platforms.0.uri", "http://example.com/v0.1.0/x.tar.gz"), "https"),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_checker_rejects(case: str) -> None:
    mutate, message = BROKEN[case]
    assert check.validate(_valid(), "svcpath", kubectl_svcpath.__version__) == []
    doc = _valid()
    mutate(doc)
    errors = check.validate(doc, "svcpath", kubectl_svcpath.__version__)
    assert any(message in e for e in errors), errors


def test_checker_selector_semantics() -> None:
    linux_all = {"matchExpressions": [{"key": "os", "operator": "In", "values": ["linux"]}]}
    assert len(check.platform_pairs({"selector": linux_all})) == 5
    not_darwin = {"matchExpressions": [{"key": "os", "operator": "NotIn", "values": ["darwin"]}], "matchLabels": {"arch": "arm64"}}
    assert check.platform_pairs({"selector": not_darwin}) == [("windows", "arm64"), ("linux", "arm64")]


# --- the krew archives ---------------------------------------------------------------------------

SLICE = ("linux_amd64", "linux_arm64")  # built in `make test`; all four: make krew-archive check-manifest


@dataclass(frozen=True)
class Release:
    archive: Path  # linux/amd64: what tests/packaging/test_kubectl_plugin.py installs and runs
    archives: dict[str, Path]  # every platform of SLICE
    manifest: Path  # a copy of krew-manifest.yaml named like krew-index's, with the real sha256s
    sha256: str
    cache: Path  # the download cache (pinned files, checked by sha256 on every use)


_BUILT: list[Release] = []  # test_kubectl_plugin.py imports this fixture: build once for both


@pytest.fixture(scope="session")
def release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    """Build the SLICE archives once per session (~40 s each on 2 idle cores)."""
    if not _BUILT:
        _BUILT.append(_build_release(tmp_path_factory))
    return _BUILT[0]


def _build_release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    tmp = tmp_path_factory.mktemp("release")
    manifest = tmp / "svcpath.yaml"
    shutil.copy2(MANIFEST, manifest)
    # downloads are kept between runs in build/krew/cache: every file is checked against the lock
    cache_root = ROOT / "build" / "krew"
    argv = [sys.executable, str(PACKAGING / "build_krew.py"), "build", "--work", str(cache_root),
            "--dist", str(tmp / "dist"), "--manifest", str(manifest)]
    for key in SLICE:
        argv += ["--platform", key]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    archives = {key: Path(line) for key, line in zip(SLICE, proc.stdout.split())}
    sha = (archives["linux_amd64"].parent / (archives["linux_amd64"].name + ".sha256")).read_text().split()[0]
    return Release(archives["linux_amd64"], archives, manifest, sha, cache_root / "cache")


def test_build_fills_the_manifest_and_nothing_else(release: Release) -> None:
    built = check.load_manifest(release.manifest)
    committed = check.load_manifest(MANIFEST)
    sums = {load("krew_install").sha256_file(a): key for key, a in release.archives.items()}
    for i, platform in enumerate(built["spec"]["platforms"]):
        os_, arch = check.platform_pairs(platform)[0]
        if f"{os_}_{arch}" in release.archives:
            assert sums[platform["sha256"]] == f"{os_}_{arch}"
            assert release.archives[f"{os_}_{arch}"].name == Path(platform["uri"]).name
        platform["sha256"] = committed["spec"]["platforms"][i]["sha256"]
    assert built == committed  # same uris and version as committed: the manifest points at what the build makes


def test_built_manifest_and_archives_pass_the_checker_with_install(release: Release) -> None:
    """krew's rules, a krew-style install of each archive, and packaging/check_archive.py: every wheel
    tagged for the platform, every ELF file of its machine, asking for GLIBC_2.17 at most."""
    argv = [sys.executable, str(PACKAGING / "check_krew_manifest.py"), str(release.manifest)]
    for archive in release.archives.values():
        argv += ["--archive", str(archive)]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert f"{len(release.archives)} archive(s) installed" in proc.stdout
    for archive in release.archives.values():
        line = next(line for line in proc.stdout.splitlines() if archive.name in line)
        m = re.search(r"(\d+) wheels, (\d+) shared objects, GLIBC <= 2\.(\d+)$", line)
        assert m, line
        # pydantic_core, _yaml, charset_normalizer per Python, libxtwrapper
        assert int(m.group(1)) >= 20 and int(m.group(2)) >= 10 and int(m.group(3)) <= 17, line


@pytest.mark.parametrize("key", SLICE)
def test_linux_archive_contents(release: Release, key: str) -> None:
    with tarfile.open(release.archives[key]) as tar:
        names = set(tar.getnames())
    assert {f"lib/cp3{m}/pydantic_core" for m in range(10, 15)} <= names  # every Python the launcher accepts
    assert "lib/common/libxtwrapper.so" in names and "lib/common/iptc/__init__.py" in names  # --local (legacy)
    assert "lib/common/kubectl_svcpath/examples/hello-service/manifest.yaml" in names
    assert not [n for n in names if n.startswith("lib/common/kubernetes/aio/") or n.endswith(".pyc")]


def test_archive_is_reproducible_from_a_fresh_venv(release: Release, tmp_path: Path) -> None:
    """Same commit, same pinned inputs: a second build by a fresh venv's python (nothing installed in
    it, another work folder) gives the same bytes. make krew-repro does all platforms without
    shared downloads."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "cache").symlink_to(release.cache)
    proc = subprocess.run([str(tmp_path / "venv" / "bin" / "python"), str(PACKAGING / "build_krew.py"), "build",
                           "--platform", "linux_amd64", "--work", str(tmp_path / "work"), "--dist", str(tmp_path / "dist"),
                           "--no-manifest"], capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    again = Path(proc.stdout.split()[0])
    assert load("krew_install").sha256_file(again) == release.sha256


def test_archive_holds_only_what_krew_can_unpack(release: Release) -> None:
    with tarfile.open(release.archive) as tar:
        members = tar.getmembers()
    names = {m.name for m in members}
    assert {"kubectl-svcpath", "LICENSE", "THIRD-PARTY-LICENSES.txt", "lib", "lib/common"} <= names
    assert all(m.isfile() or m.isdir() for m in members), [m.name for m in members if not (m.isfile() or m.isdir())]
    assert not [m.name for m in members if ".." in m.name or m.name.startswith("/")]
    assert [m.name for m in members] == sorted(m.name for m in members)
    launcher = next(m for m in members if m.name == "kubectl-svcpath")
    assert launcher.mode == 0o755
    assert all(m.uid == 0 and m.gid == 0 and m.mtime == 315532800 for m in members)  # reproducible metadata
    with tarfile.open(release.archive) as tar:
        license_text = tar.extractfile("LICENSE").read().decode()  # type: ignore[union-attr]
        notices = tar.extractfile("THIRD-PARTY-LICENSES.txt").read().decode()  # type: ignore[union-attr]
        head = tar.extractfile("kubectl-svcpath").read(30)  # type: ignore[union-attr]
    assert license_text == (ROOT / "LICENSE").read_text()
    assert head.startswith(b"#!/usr/bin/env python3\n")
    for bundled in ("kubernetes", "typer", "PyYAML", "tabulate", "pydantic_core", "python-iptables"):
        assert f"\n{bundled} " in notices, bundled


def _fake_archive(tmp_path: Path, name: str, files: dict[str, bytes]) -> Path:
    build = load("build_krew")
    tree = build.Tree()
    for rel, data in files.items():
        tree.add(rel, data)
    out = tmp_path / name
    build.write_archive(tree, out)
    return out


def _wheel(tag: str) -> bytes:
    return f"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: {tag}\n".encode()


def test_check_archive_refuses_a_wheel_for_a_newer_glibc(tmp_path: Path) -> None:
    archive = _fake_archive(tmp_path, "x_v1_linux_amd64.tar.gz", {
        "lib/cp311/ok-1.dist-info/WHEEL": _wheel("cp311-cp311-manylinux2014_x86_64"),
        "lib/cp311/compound-1.dist-info/WHEEL": _wheel("cp311-cp311-manylinux_2_5_x86_64") + b"Tag: cp311-cp311-manylinux_2_28_x86_64\n",
        "lib/cp311/new-1.dist-info/WHEEL": _wheel("cp311-cp311-manylinux_2_28_x86_64"),
        "lib/cp311/arm-1.dist-info/WHEEL": _wheel("cp311-cp311-manylinux2014_aarch64"),
        "lib/cp312/wrongpy-1.dist-info/WHEEL": _wheel("cp311-cp311-manylinux2014_x86_64"),
        "lib/common/mac-1.dist-info/WHEEL": _wheel("py3-none-macosx_11_0_arm64"),
    })
    errors = load("check_archive").check(archive).errors
    assert len(errors) == 5, errors
    assert any("new-1.dist-info" in e for e in errors) and any("arm-1.dist-info" in e for e in errors)
    assert any("tag cp311-cp311-manylinux2014_x86_64 in lib/cp312" in e for e in errors)
    assert any("mac-1.dist-info" in e and "is for linux/amd64" in e for e in errors)
    assert any("a platform wheel" in e for e in errors)


def test_check_archive_reads_elf_symbol_versions(tmp_path: Path) -> None:
    """A library that calls pthread_create needs GLIBC_2.34 on this glibc (it moved into libc): refused."""
    cc = shutil.which("cc")
    if cc is None or shutil.which("readelf") is None:
        pytest.fail("cc and readelf are needed: make krew-deps") if IN_CI else pytest.skip("no cc/readelf")
    src = tmp_path / "t.c"
    src.write_text("#include <pthread.h>\nstatic void *f(void *a) { return a; }\n"
                   "int start(pthread_t *t) { return pthread_create(t, 0, f, 0); }\n")
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(tmp_path / "t.so"), str(src)], check=True)
    lib = (tmp_path / "t.so").read_bytes()
    versions = subprocess.run(["readelf", "-V", "--wide", str(tmp_path / "t.so")], capture_output=True, text=True).stdout
    newest = max(tuple(map(int, v)) for v in re.findall(r"Name: GLIBC_(\d+)\.(\d+)", versions))
    report = load("check_archive").check(_fake_archive(tmp_path, "x_v1_linux_amd64.tar.gz", {
        "lib/common/x-1.dist-info/WHEEL": _wheel("py3-none-any"), "lib/common/t.so": lib}))
    if newest > (2, 17):
        assert any(f"needs GLIBC_{newest[0]}.{newest[1]}, above the 2.17 floor" in e for e in report.errors), report.errors
    assert report.newest_glibc == newest
    # the same ELF file in a macOS archive, or as the wrong machine, is refused too
    assert any("an ELF file in a darwin archive" in e for e in load("check_archive").check(
        _fake_archive(tmp_path, "x_v1_darwin_arm64.tar.gz", {"lib/common/x-1.dist-info/WHEEL": _wheel("py3-none-any"),
                                                           "lib/common/t.so": lib})).errors)
    assert any("ELF machine" in e for e in load("check_archive").check(
        _fake_archive(tmp_path, "x_v1_linux_arm64.tar.gz", {"lib/common/x-1.dist-info/WHEEL": _wheel("py3-none-any"),
                                                          "lib/common/t.so": lib})).errors)


def test_check_archive_reads_macho_headers(tmp_path: Path) -> None:
    import struct

    thin_arm64 = b"\xcf\xfa\xed\xfe" + struct.pack("<I", 0x0100000C) + bytes(56)
    fat_both = b"\xca\xfe\xba\xbe" + struct.pack(">I", 2) + struct.pack(">IIIII", 0x01000007, 3, 4096, 10, 12) \
        + struct.pack(">IIIII", 0x0100000C, 0, 8192, 10, 14) + bytes(20)
    files = {"lib/cp311/a-1.dist-info/WHEEL": _wheel("cp311-cp311-macosx_11_0_arm64"), "lib/cp311/a.so": thin_arm64,
             "lib/cp311/b-1.dist-info/WHEEL": _wheel("cp311-cp311-macosx_10_9_universal2"), "lib/cp311/b.so": fat_both}
    arm = load("check_archive").check(_fake_archive(tmp_path, "x_v1_darwin_arm64.tar.gz", files))
    assert arm.errors == [] and arm.shared_objects == 2 and arm.macos_min == "11.0"
    intel = load("check_archive").check(_fake_archive(tmp_path, "x_v1_darwin_amd64.tar.gz", files))
    assert len(intel.errors) == 2, intel.errors  # a.so is arm64 only, and its wheel is tagged for arm64
    assert any("a.so: Mach-O" in e for e in intel.errors) and any("a-1.dist-info" in e for e in intel.errors)


def test_archive_bytes_depend_only_on_the_files(tmp_path: Path) -> None:
    build = load("build_krew")
    one, two = build.Tree(), build.Tree()
    one.add("kubectl-svcpath", b"#!/bin/sh\n", executable=True)
    one.add("lib/common/data.txt", b"x")
    two.add("lib/common/data.txt", b"x")  # another insertion order
    two.add("kubectl-svcpath", b"#!/bin/sh\n", executable=True)
    build.write_archive(one, tmp_path / "a.tar.gz")
    build.write_archive(two, tmp_path / "b.tar.gz")
    assert (tmp_path / "a.tar.gz").read_bytes() == (tmp_path / "b.tar.gz").read_bytes()
    with tarfile.open(tmp_path / "a.tar.gz") as tar:
        assert tar.getnames() == ["kubectl-svcpath", "lib", "lib/common", "lib/common/data.txt"]
        assert tar.getmember("kubectl-svcpath").mode == 0o755
        assert tar.getmember("lib/common/data.txt").mode == 0o644


def test_archive_paths_krew_refuses_are_refused() -> None:
    build = load("build_krew")
    with pytest.raises(SystemExit, match="krew refuses"):
        build.Tree().add("lib/../../etc/passwd", b"x")


# --- pip install . (what pipx does, in a fresh venv) ---------------------------------------------


@pytest.fixture(scope="session")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the project's wheel installed; dependencies come from this venv."""
    tmp = tmp_path_factory.mktemp("wheel")
    proc = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "wheels"), str(ROOT)],
               env=dict(os.environ), timeout=300)
    assert proc.returncode == 0, proc.stderr
    wheel = next((tmp / "wheels").glob("kubectl_svcpath-*.whl"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # dependencies: this venv's site-packages, appended to the new venv's path (no download)
    site = next(p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir())
    new_site = next((venv / "lib").glob("python3*/site-packages"))
    (new_site / "deps-from-test-venv.pth").write_text(site + "\n")
    proc = run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
                "--no-deps", "--no-index", str(wheel)], env=dict(os.environ), timeout=300)
    assert proc.returncode == 0, proc.stderr
    return venv


def test_wheel_installs_both_console_scripts(wheel_venv: Path, tmp_path: Path) -> None:
    bin_dir = wheel_venv / "bin"
    assert os.access(bin_dir / "kubectl-svcpath", os.X_OK)
    assert os.access(bin_dir / "kubectl_complete-svcpath", os.X_OK)
    # the installed copy runs, not the checkout
    proc = run([str(bin_dir / "python"), "-c", "import kubectl_svcpath; print(kubectl_svcpath.__file__)"],
               env=clean_env(home=tmp_path), cwd=tmp_path)
    assert proc.stdout.strip().startswith(str(wheel_venv)), proc.stdout + proc.stderr


def test_wheel_plugin_through_kubectl(wheel_venv: Path, tmp_path: Path) -> None:
    env = clean_env(wheel_venv / "bin", home=tmp_path)
    proc = run(["kubectl", "plugin", "list"], env, cwd=tmp_path)
    assert f"{wheel_venv}/bin/kubectl-svcpath" in proc.stdout, proc.stdout + proc.stderr
    assert "kubectl_complete" not in proc.stdout  # the helper is not a plugin
    proc = run(["kubectl", "svcpath", "--example", "-o", "json"], env, cwd=tmp_path)
    assert proc.returncode in (0, 3), proc.stderr  # 3 = the example's error-level findings
    report = yaml.safe_load(proc.stdout)
    assert "hello-service" in proc.stdout and isinstance(report, dict)


def test_wheel_completion_through_kubectl(wheel_venv: Path, tmp_path: Path) -> None:
    env = clean_env(wheel_venv / "bin", home=tmp_path)
    proc = run(["kubectl", "__complete", "svcpath", "--color", ""], env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["auto\tcolour when stdout is a terminal and NO_COLOR is unset",
                                        "always\talways colour", "never\tnever colour", ":4"]
    assert f"About to call: {wheel_venv}/bin/kubectl_complete-svcpath" in proc.stderr


# --- pip install . without a C compiler; --local without the `local` extra -----------------------


@pytest.fixture(scope="session")
def nocc_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip install .` (not editable, build isolation, dependencies from the index or pip's cache)
    into a fresh venv, with a PATH that holds no cc, gcc or any compiler: python-iptables (source
    only) is an extra, so nothing needs one."""
    tmp = tmp_path_factory.mktemp("nocc")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PIP_"))}
    env["PATH"] = str(venv / "bin")  # nothing else: no /usr/bin/cc, no gcc
    env["HOME"] = os.environ.get("HOME", str(tmp))  # pip's cache
    for cc in ("cc", "gcc", "clang", "c99"):
        assert shutil.which(cc, path=env["PATH"]) is None
    proc = run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(ROOT)],
               env=env, cwd=tmp, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return venv


def test_pip_install_needs_no_compiler(nocc_venv: Path, tmp_path: Path) -> None:
    python = str(nocc_venv / "bin" / "python")
    proc = run([python, "-c", "import importlib.util as u; print(u.find_spec('iptc'))"], env=clean_env(home=tmp_path))
    assert proc.stdout.strip() == "None"  # python-iptables is only in the `local` extra
    env = clean_env(nocc_venv / "bin", home=tmp_path)
    proc = run(["kubectl", "svcpath", "--example", "-o", "json"], env, cwd=tmp_path)
    assert proc.returncode in (0, 3), proc.stderr
    assert "hello-service" in proc.stdout


@pytest.mark.lab
def test_local_without_the_extra_says_how_to_install_it(nocc_venv: Path) -> None:
    """--local on a legacy-iptables node, python-iptables not installed: one line with the command."""
    from tests.lab.netns import Lab, skip_or_fail, sweep_stale, unavailable_reason

    reason = unavailable_reason()
    if reason:
        skip_or_fail(reason)
    sweep_stale()
    example = ROOT / "kubectl_svcpath" / "examples" / "hello-service"
    with Lab() as lab:
        node = lab.add_node("node")
        lab.load_iptables(node, (example / "kube-proxy-restore-input.txt").read_text(), backend="legacy")
        proc = lab.run(node, [str(nocc_venv / "bin" / "kubectl-svcpath"), "hello-service", "--local",
                              "--manifest", str(example / "manifest.yaml")], check=False)
    assert proc.returncode == 7, (proc.returncode, proc.stderr)  # ExitCode.COLLECT_FAILED, README's table
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == ["error: --local on a legacy-iptables node needs python-iptables: "
                                        "pip install 'kubectl-svcpath[local]' (or drop --local to read the kube-proxy pod)"]


# --- wheel and sdist contents ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """`python -m build` (what `make dist` runs): the sdist, and the wheel built from it."""
    out = tmp_path_factory.mktemp("dist")
    proc = run([sys.executable, "-m", "build", "-q", "--outdir", str(out), str(ROOT)], env=dict(os.environ), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return next(out.glob("kubectl_svcpath-*.tar.gz")), next(out.glob("kubectl_svcpath-*.whl"))


def test_wheel_contents_and_metadata(dists: tuple[Path, Path]) -> None:
    import email.parser
    import zipfile

    with zipfile.ZipFile(dists[1]) as zf:
        names = zf.namelist()
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        meta = email.parser.Parser().parsestr(zf.read(f"{info}/METADATA").decode())
        entry_points = zf.read(f"{info}/entry_points.txt").decode()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"kubectl_svcpath", info}, tops  # no tests/, packaging/, bench/
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "kubectl_svcpath").rglob("*.py")}
    assert sources <= set(names), sorted(sources - set(names))
    assert "kubectl_svcpath/examples/hello-service/manifest.yaml" in names
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]
    assert f"{info}/licenses/LICENSE" in names
    assert "kubectl-svcpath = kubectl_svcpath.cli:main" in entry_points
    assert "kubectl_complete-svcpath = kubectl_svcpath.completion:main" in entry_points
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta["Requires-Python"] == ">=3.10"
    requires = meta.get_all("Requires-Dist")
    iptables = [r for r in requires if r.startswith("python-iptables")]
    assert iptables and all('extra == "local"' in r for r in iptables)  # never a default dependency
    assert "typer>=0.15.4" in requires
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert urls["Homepage"].startswith("https://github.com/") and "Issues" in urls
    assert "Operating System :: MacOS" in meta.get_all("Classifier")
    assert "kubectl-plugin" in meta["Keywords"]
    assert meta.get_content_type() == "text/plain" and meta["Description-Content-Type"] == "text/markdown"
    assert "kubectl svcpath" in meta.get_payload()  # the README is the long description


def test_sdist_contents(dists: tuple[Path, Path]) -> None:
    with tarfile.open(dists[0]) as tar:
        names = [n.split("/", 1)[1] for n in tar.getnames() if "/" in n]
    for needed in ("pyproject.toml", "README.md", "LICENSE", "PKG-INFO", "kubectl_svcpath/__init__.py",
                   "kubectl_svcpath/examples/hello-service/manifest.yaml"):
        assert needed in names, needed
    assert not [n for n in names if n.startswith((".venv", "build/", "dist/", ".git/")) or n.endswith(".pyc")]
