"""The shape of the code, checked: a pure core, I/O at the edges, and read-only by construction."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from kubectl_svcpath.errors import ExitCode
from tests.conftest import ROOT

PKG = ROOT / "kubectl_svcpath"
# modules that may do I/O: the kube/ and collect/ edges, the orchestrator and the CLI
EDGES = {"cli.py", "app.py", "live.py", "completion.py", "rbac.py"}
EDGE_DIRS = {"kube", "collect"}
FORBIDDEN_IN_CORE = {"kubernetes", "iptc", "subprocess", "socket", "typer", "urllib3", "websocket"}


def _modules() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py") if "examples" not in p.parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", [p for p in _modules() if p.name not in EDGES and not (set(p.relative_to(PKG).parts[:-1]) & EDGE_DIRS)],
                         ids=lambda p: str(p.relative_to(PKG)))
def test_pure_core_does_no_io(path: Path) -> None:
    bad = _imports(path) & FORBIDDEN_IN_CORE
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}: move the I/O to kube/ or collect/"


def test_only_cli_imports_typer() -> None:
    users = [p.relative_to(PKG).as_posix() for p in _modules() if "typer" in _imports(p)]
    assert users == ["cli.py"]


WRITE_PREFIXES = ("create_", "patch_", "replace_", "delete_")


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PKG)))
def test_read_only_by_construction(path: Path) -> None:
    """No kubernetes write call anywhere, and no subprocess with a shell."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith(WRITE_PREFIXES):
            pytest.fail(f"{path.relative_to(ROOT)}:{node.lineno} calls {node.attr}: the plugin never writes to the cluster")
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                    pytest.fail(f"{path.relative_to(ROOT)}:{node.lineno} runs a command through a shell")
        if isinstance(node, ast.Attribute) and node.attr in ("system", "popen") and isinstance(node.value, ast.Name) and node.value.id == "os":
            pytest.fail(f"{path.relative_to(ROOT)}:{node.lineno} uses os.{node.attr}")


def test_readme_documents_every_exit_code() -> None:
    readme = (ROOT / "README.md").read_text()
    for code in ExitCode:
        assert f"| {int(code)} |" in readme, f"exit code {int(code)} ({code.name}) is not in README.md's table"
