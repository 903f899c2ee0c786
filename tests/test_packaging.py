"""What ships: the krew manifest, the release archive, and the wheel that pip/pipx install.

- The manifest is checked with packaging/check_krew_manifest.py, a Python re-implementation of
  krew's validate-krew-manifest (krew itself cannot be downloaded here); each rule is also shown
  to fire on a manifest that breaks it, so the checker cannot silently pass everything.
- The release archive is built once per session with packaging/build_release.py (PyInstaller,
  ~40 s) into a temporary folder, against a copy of krew-manifest.yaml; the fixture is shared
  with tests/test_kubectl_plugin.py, which installs it krew-style and runs it through kubectl.
- The wheel is installed into a fresh venv, and both console scripts are run through kubectl.
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


def test_caveats_state_the_runtime_and_completion() -> None:
    caveats = check.load_manifest(MANIFEST)["spec"]["caveats"]
    assert "No Python is needed" in caveats
    assert "--print-rbac" in caveats
    assert 'ln -s kubectl-svcpath "${KREW_ROOT:-$HOME/.krew}/bin/kubectl_complete-svcpath"' in caveats


def _grants(text: str, verb: str, resource: str) -> bool:
    # "get services", and "create/get pods/exec" for both verbs; "pods" must not match "pods/exec"
    pattern = rf"(?<![\w/])(?:\w+/)*{re.escape(verb)}(?:/\w+)*\s+{re.escape(resource)}(?![\w/])"
    return re.search(pattern, text) is not None


def test_caveats_match_print_rbac() -> None:
    """Every verb on every resource that --print-rbac grants is in the caveats, in the right scope."""
    from tests.conftest import run_cli

    proc = run_cli("--print-rbac")
    assert proc.returncode == 0, proc.stderr
    caveats = check.load_manifest(MANIFEST)["spec"]["caveats"]
    cluster_part = caveats[caveats.index("cluster-wide:"):caveats.index("in kube-system:")]
    namespaced_part = caveats[caveats.index("in kube-system:"):caveats.index("pods/exec in kube-system is")]
    seen = 0
    for doc in yaml.safe_load_all(proc.stdout):
        if not doc or doc.get("kind") not in ("Role", "ClusterRole"):
            continue
        if doc["kind"] == "Role":
            assert doc["metadata"]["namespace"] == "kube-system"
        part = cluster_part if doc["kind"] == "ClusterRole" else namespaced_part
        for rule in doc.get("rules", []):
            for resource in rule["resources"]:
                for verb in rule["verbs"]:
                    assert _grants(part, verb, resource), f"caveats do not say '{verb} {resource}' under {doc['kind']}"
                    assert not _grants(cluster_part if part is namespaced_part else namespaced_part, verb, resource)
                    seen += 1
    assert seen >= 7  # services, endpointslices, nodes, pods, configmaps, pods/exec x2


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
    "short-description-long": (_set("spec.shortDescription", "x" * 71), "at most 70"),
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


# --- the release archive -------------------------------------------------------------------------


@dataclass(frozen=True)
class Release:
    archive: Path
    manifest: Path  # a copy of krew-manifest.yaml named like krew-index's, with the real sha256
    sha256: str


_BUILT: list[Release] = []  # test_kubectl_plugin.py imports this fixture: build once for both


@pytest.fixture(scope="session")
def release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    """Build the krew archive once per session (PyInstaller, ~40 s)."""
    if not _BUILT:
        _BUILT.append(_build_release(tmp_path_factory))
    return _BUILT[0]


def _build_release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    if importlib.util.find_spec("PyInstaller") is None:
        message = "PyInstaller is not installed: make release-deps (pip install -e '.[release]')"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    tmp = tmp_path_factory.mktemp("release")
    manifest = tmp / "svcpath.yaml"
    shutil.copy2(MANIFEST, manifest)
    proc = subprocess.run(
        [sys.executable, str(PACKAGING / "build_release.py"), "--work", str(tmp / "work"),
         "--dist", str(tmp / "dist"), "--manifest", str(manifest)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    archive = Path(proc.stdout.strip().splitlines()[-1])
    sha = (archive.parent / (archive.name + ".sha256")).read_text().split()[0]
    return Release(archive, manifest, sha)


def test_build_fills_the_manifest_and_nothing_else(release: Release) -> None:
    built = check.load_manifest(release.manifest)
    committed = check.load_manifest(MANIFEST)
    assert built["spec"]["platforms"][0]["sha256"] == release.sha256
    assert load("krew_install").sha256_file(release.archive) == release.sha256
    # same uri and version as committed: the committed manifest points at what the build makes
    built["spec"]["platforms"][0]["sha256"] = committed["spec"]["platforms"][0]["sha256"]
    assert built == committed
    assert release.archive.name == Path(committed["spec"]["platforms"][0]["uri"]).name


def test_built_manifest_and_archive_pass_the_checker_with_install(release: Release) -> None:
    proc = subprocess.run([sys.executable, str(PACKAGING / "check_krew_manifest.py"), str(release.manifest),
                           "--archive", str(release.archive)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "1 archive(s) installed" in proc.stdout


def test_archive_holds_only_what_krew_can_unpack(release: Release) -> None:
    with tarfile.open(release.archive) as tar:
        members = tar.getmembers()
    names = {m.name for m in members}
    assert {"kubectl-svcpath", "LICENSE", "THIRD-PARTY-LICENSES.txt", "_internal"} <= names
    assert all(m.isfile() or m.isdir() for m in members), [m.name for m in members if not (m.isfile() or m.isdir())]
    assert not [m.name for m in members if ".." in m.name or m.name.startswith("/")]
    exe = next(m for m in members if m.name == "kubectl-svcpath")
    assert exe.mode & 0o111, "the plugin binary must be executable"
    assert all(m.uid == 0 and m.gid == 0 and m.mtime == members[0].mtime for m in members)  # reproducible metadata
    with tarfile.open(release.archive) as tar:
        license_text = tar.extractfile("LICENSE").read().decode()  # type: ignore[union-attr]
        notices = tar.extractfile("THIRD-PARTY-LICENSES.txt").read().decode()  # type: ignore[union-attr]
    assert license_text == (ROOT / "LICENSE").read_text()
    assert "Apache License" in license_text and "Version 2.0" in license_text
    for bundled in ("kubernetes", "typer", "PyYAML", "tabulate", "Python 3"):
        assert bundled in notices


def test_caveats_state_the_glibc_the_archive_needs(release: Release, tmp_path: Path) -> None:
    """The newest GLIBC_x.y symbol version any bundled ELF file asks for is the one the caveats name."""
    with tarfile.open(release.archive) as tar:
        tar.extractall(tmp_path, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(tmp_path)
    needed = set()
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.read_bytes()[:4] == b"\x7fELF":
            needed |= {tuple(map(int, v)) for v in re.findall(rb"GLIBC_(\d+)\.(\d+)", path.read_bytes())}
    newest = "%d.%d" % max(needed)
    caveats = check.load_manifest(MANIFEST)["spec"]["caveats"]
    assert f"glibc {newest}+" in caveats, f"the archive needs glibc {newest}"
    assert f"glibc {newest} or newer" in (ROOT / "docs" / "install.md").read_text().replace("**", "")


def test_archive_bundles_the_example_and_the_ctypes_helper(release: Release) -> None:
    with tarfile.open(release.archive) as tar:
        names = tar.getnames()
    assert "_internal/kubectl_svcpath/examples/hello-service/manifest.yaml" in names
    if sys.platform == "linux" and importlib.util.find_spec("iptc") is not None:
        assert any(n.startswith("_internal/libxtwrapper") for n in names)  # python-iptables' C helper


def test_archive_bytes_depend_only_on_the_files(tmp_path: Path) -> None:
    build = load("build_release")
    staging = tmp_path / "staging"
    (staging / "_internal").mkdir(parents=True)
    (staging / "kubectl-svcpath").write_text("#!/bin/sh\n")
    (staging / "kubectl-svcpath").chmod(0o700)
    (staging / "_internal" / "data.txt").write_text("x")
    build.write_archive(staging, tmp_path / "a.tar.gz")
    os.utime(staging / "_internal" / "data.txt", (0, 0))
    build.write_archive(staging, tmp_path / "b.tar.gz")
    assert (tmp_path / "a.tar.gz").read_bytes() == (tmp_path / "b.tar.gz").read_bytes()
    with tarfile.open(tmp_path / "a.tar.gz") as tar:
        assert tar.getmember("kubectl-svcpath").mode == 0o755
        assert tar.getmember("_internal/data.txt").mode == 0o644


def test_archive_with_a_symlink_is_refused(tmp_path: Path) -> None:
    # krew's tar extractor fails on symlinks: the build must stop before shipping one
    build = load("build_release")
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "kubectl-svcpath").write_text("x")
    (staging / "kubectl_complete-svcpath").symlink_to("kubectl-svcpath")
    with pytest.raises(SystemExit, match="symlink"):
        build.write_archive(staging, tmp_path / "a.tar.gz")


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
