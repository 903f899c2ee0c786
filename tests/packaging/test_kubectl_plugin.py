"""The krew release as krew users get it, run through the real kubectl.

The archive built by tests/packaging/test_packaging.py's ``release`` fixture (once per session) is
installed the way ``kubectl krew install --manifest svcpath.yaml --archive A`` lays it out
($KREW_ROOT/store/svcpath/v<version>/..., $KREW_ROOT/bin/kubectl-svcpath -> the launcher; see
packaging/krew_install.py), $KREW_ROOT/bin goes on PATH next to a folder holding only kubectl and
a folder holding only python3 (the base interpreter, whose own site-packages hold other versions
of typer, click, PyYAML: the archive's must win), and kubectl discovers and runs the plugin. Its
answers must be the same as the source tree's.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import kubectl_svcpath
from tests.conftest import run_cli
from tests.packaging.test_packaging import Release, clean_env, load, release, run  # noqa: F401 (fixture)

krew_install = load("krew_install")
# the interpreter under this venv (a venv's python would bring the venv's packages along)
BASE_PYTHON = Path(getattr(sys, "_base_executable", sys.executable)).resolve()


@dataclass(frozen=True)
class KrewHome:
    root: Path
    bin: Path
    env: dict[str, str]
    installed: object


@pytest.fixture(scope="module")
def krew(release: Release, tmp_path_factory: pytest.TempPathFactory) -> KrewHome:  # noqa: F811
    tmp = tmp_path_factory.mktemp("krew")
    root = tmp / "krew-root"
    installed = krew_install.install(release.manifest, release.archive, root)
    home = tmp / "home"
    home.mkdir()
    python_dir = tmp / "python-only"
    python_dir.mkdir()
    (python_dir / "python3").symlink_to(BASE_PYTHON)
    return KrewHome(root, root / "bin", clean_env(root / "bin", python_dir, home=home), installed)


def kubectl(krew: KrewHome, *args: str) -> tuple[int, str, str]:
    proc = run(["kubectl", *args], krew.env, cwd=krew.root)
    return proc.returncode, proc.stdout, proc.stderr


def test_krew_layout(krew: KrewHome) -> None:
    version = f"v{kubectl_svcpath.__version__}"
    link = krew.bin / "kubectl-svcpath"
    assert link.is_symlink()
    assert Path(os.readlink(link)) == krew.root / "store" / "svcpath" / version / "kubectl-svcpath"
    store = krew.root / "store" / "svcpath" / version
    assert sorted(p.name for p in store.iterdir()) == ["LICENSE", "THIRD-PARTY-LICENSES.txt", "kubectl-svcpath", "lib"]


def test_plugin_list_shows_it(krew: KrewHome) -> None:
    code, out, err = kubectl(krew, "plugin", "list")
    assert code == 0, err
    assert str(krew.bin / "kubectl-svcpath") in out
    assert "warning" not in (out + err).lower()


def test_help_through_kubectl(krew: KrewHome) -> None:
    code, out, err = kubectl(krew, "svcpath", "--help")
    assert code == 0, err
    assert out.startswith("Usage: kubectl svcpath ")  # not the binary's path
    assert "--namespace" in out and "--example" in out
    assert out == run_cli("--help", env={"NO_COLOR": "1", "COLUMNS": "200"}).stdout


def test_version_through_kubectl(krew: KrewHome) -> None:
    code, out, _ = kubectl(krew, "svcpath", "--version")
    assert code == 0
    assert out.strip() == f"kubectl-svcpath {kubectl_svcpath.__version__}"


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_bundled_example_through_kubectl(krew: KrewHome, fmt: str) -> None:
    """The frozen binary tells the hello-service story exactly as the source does."""
    code, out, err = kubectl(krew, "svcpath", "--example", "-o", fmt)
    source = run_cli("--example", "-o", fmt, env={"NO_COLOR": "1", "COLUMNS": "200"})
    assert (code, out) == (source.returncode, source.stdout), err
    assert "hello-service" in out
    assert "KUBE-SVC-R4PDB35TUPNR4CEW" in out  # port-v1's chain, found by kube-proxy's naming
    if fmt == "json":
        json.loads(out)


def test_usage_error_exit_code_through_kubectl(krew: KrewHome) -> None:
    code, out, err = kubectl(krew, "svcpath", "--example", "-o", "xml")
    assert code == 2, (out, err)
    assert err.startswith("error: ")
    assert "Traceback" not in err


def test_global_flags_are_forwarded(krew: KrewHome, tmp_path: Path) -> None:
    # kubectl passes --kubeconfig/--context/-n untouched: the plugin itself must read them
    kubeconfig = tmp_path / "kc"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    code, out, err = kubectl(krew, "svcpath", "--kubeconfig", str(kubeconfig), "--context", "nope", "-n", "x", "web")
    assert code not in (0, 1), (code, out, err)  # a clean error with its own exit code, not a crash
    assert err.startswith("error: ") and "Traceback" not in err


def test_completion_via_the_symlink_from_the_caveats(krew: KrewHome) -> None:
    """caveats: ln -s kubectl-svcpath $KREW_ROOT/bin/kubectl_complete-svcpath; one binary, two names."""
    helper = krew.bin / "kubectl_complete-svcpath"
    if not helper.is_symlink():
        helper.symlink_to("kubectl-svcpath")
    code, out, err = kubectl(krew, "__complete", "svcpath", "-o", "")
    assert code == 0, err
    assert out.splitlines() == ["table\tone row per hop (default)", "wide\ttable with more columns",
                                "tree\tthe packet's path as a tree", "json\tthe report as JSON",
                                "yaml\tthe report as YAML", ":4"]
    assert f"About to call: {helper}" in err
    code, out, _ = kubectl(krew, "__complete", "svcpath", "--col")
    assert out.splitlines() == ["--color\tcolour the output", ":4"]


def test_runs_on_the_users_python3_with_the_bundled_packages(krew: KrewHome) -> None:
    """The launcher puts the archive's lib/ first: the base interpreter's own packages do not leak in."""
    code, out, err = kubectl(krew, "svcpath", "--version")
    assert code == 0, err
    store = krew.root / "store" / "svcpath" / f"v{kubectl_svcpath.__version__}"
    tag = "cp%d%d" % sys.version_info[:2]
    # the launcher's own _paths(), then the imports the plugin makes
    proc = run(["python3", "-c", "import sys; sys.argv = [sys.argv[1]]; ns = {'__name__': 'x', '__file__': sys.argv[0]}; "
                "exec(open(sys.argv[0]).read(), ns); sys.path[0:0] = ns['_paths'](); "
                "import typer, yaml, pydantic_core, kubectl_svcpath; print(typer.__file__, yaml.__file__, pydantic_core.__file__, kubectl_svcpath.__file__)",
                str(store / "kubectl-svcpath")], krew.env, cwd=krew.root)
    assert proc.returncode == 0, proc.stderr
    files = proc.stdout.split()
    assert [f.startswith(str(store / "lib")) for f in files] == [True] * 4, files
    assert f"/lib/{tag}/pydantic_core/" in files[2]


def test_too_old_python3_uses_a_newer_python3_x_or_says_what_to_install(krew: KrewHome, tmp_path: Path) -> None:
    """python3 3.9 (RHEL 9, Amazon Linux 2023, Debian 11, Apple's): with a python3.1x on PATH the
    launcher runs on that one; without, one clear error and exit 7."""
    minor = "3.9"
    found = next(iter(sorted(Path.home().glob(f".pyenv/versions/{minor}*/bin/python{minor}"))), None)
    if found is None:
        pytest.skip(f"no python{minor} on this machine (pyenv)")
    old_dir = tmp_path / "old-python"
    old_dir.mkdir()
    (old_dir / "python3").symlink_to(found)
    kubectl_dir = krew.env["PATH"].split(":")[-1]
    env = {**krew.env, "PATH": f"{krew.bin}:{old_dir}:{kubectl_dir}"}
    proc = run(["kubectl", "svcpath", "--example"], env, cwd=tmp_path)
    assert proc.returncode == 7, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 2 and "Traceback" not in proc.stderr
    assert lines[0].startswith("error: kubectl-svcpath needs python3 3.10 or newer;") and lines[0].endswith(f"is {minor}")
    assert lines[1].startswith("hint: install python3.10 or newer") and "3.10, 3.11, 3.12, 3.13, 3.14" in lines[1]
    # dnf install python3.12 and alike: a python3.X next to the old python3
    (old_dir / f"python3.{sys.version_info[1]}").symlink_to(BASE_PYTHON)
    proc = run(["kubectl", "svcpath", "--example", "-o", "json"], env, cwd=tmp_path)
    source = run_cli("--example", "-o", "json", env={"NO_COLOR": "1", "COLUMNS": "200"})
    assert (proc.returncode, proc.stdout) == (source.returncode, source.stdout), proc.stderr


@pytest.mark.skipif(sys.platform != "linux", reason="krew_install's host platform check is for Linux here")
def test_krew_refuses_a_tampered_archive(release: Release, tmp_path: Path) -> None:  # noqa: F811
    tampered = tmp_path / release.archive.name
    data = bytearray(release.archive.read_bytes())
    data[-10] ^= 0xFF
    tampered.write_bytes(bytes(data))
    with pytest.raises(krew_install.InstallError, match="checksum does not match"):
        krew_install.install(release.manifest, tampered, tmp_path / "root")


@pytest.mark.lab
def test_frozen_binary_reads_legacy_rules_on_the_node(krew: KrewHome) -> None:
    """--local on a legacy-iptables node goes through python-iptables and its bundled C helper
    (libxtwrapper) with the node's libxtables: real rules, real traffic, the frozen binary."""
    from tests.lab.netns import Lab, skip_or_fail, sweep_stale, unavailable_reason

    reason = unavailable_reason()
    if reason:
        skip_or_fail(reason)
    sweep_stale()
    example = Path(kubectl_svcpath.__file__).parent / "examples" / "hello-service"
    with Lab() as lab:
        node = lab.add_node("node")
        lab.add_pod(node, "hello-0", "192.168.189.15", ports=[9090, 9191])
        lab.load_iptables(node, (example / "kube-proxy-restore-input.txt").read_text(), backend="legacy")
        assert lab.connect(node, "10.101.173.15", 39090, n=2) == ["hello-0 192.168.189.15:9090"] * 2
        args = ["hello-service", "--local", "--manifest", str(example / "manifest.yaml"), "--explain"]
        frozen = lab.run(node, [str(krew.bin / "kubectl-svcpath"), *args], check=False)
        source = lab.run(node, [sys.executable, "-m", "kubectl_svcpath", *args], check=False)
    stamp = re.compile(r", collected \S+")  # when each run read the rules: the two runs differ by their start-up
    assert (frozen.returncode, stamp.sub("", frozen.stdout)) == (source.returncode, stamp.sub("", source.stdout)), frozen.stderr
    assert "python-iptables (legacy)" in frozen.stdout
    row = next(line for line in frozen.stdout.splitlines() if line.startswith("port-v1 39090/TCP") and "→" not in line)
    assert row.split()[4] == "2", row  # PKTS of the cluster-IP entry: the two connections
