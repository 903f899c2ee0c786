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


# --- one package per proxy mode, one registry ---------------------------------------------------

MODE_PACKAGES = sorted(p.name for p in (PKG / "modes").iterdir() if (p / "__init__.py").is_file())
EDGE_MODULES = {"kubectl_svcpath." + m.removesuffix(".py") for m in EDGES} | {"kubectl_svcpath." + d for d in EDGE_DIRS}


def _internal_imports(path: Path) -> set[str]:
    """Dotted names of the package's own modules this file imports (``from a import b`` gives a.b too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("kubectl_svcpath"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.startswith("kubectl_svcpath"):
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


@pytest.mark.parametrize("mode", MODE_PACKAGES)
def test_modes_never_import_each_other(mode: str) -> None:
    """A mode may use another mode's table model and rule evaluator (IPVS mode writes iptables rules
    too), never its parsers, correlation, inference or checks."""
    for path in sorted((PKG / "modes" / mode).rglob("*.py")):
        for name in _internal_imports(path):
            parts = name.split(".")
            if parts[:2] == ["kubectl_svcpath", "modes"] and len(parts) > 2 and parts[2] in MODE_PACKAGES and parts[2] != mode:
                assert parts[3:4] in (["model"], ["trace"]), f"{path.relative_to(ROOT)} imports {name}: modes never import each other"


def test_every_mode_package_is_registered() -> None:
    from kubectl_svcpath.modes import registry

    assert sorted(m.name.value for m in registry.MODES) == MODE_PACKAGES
    assert sorted(registry.MODE_NAMES) == MODE_PACKAGES
    for m in registry.MODES:
        assert all(f in registry.FORMS for f in m.forms), f"{m.name}: every input form of a mode is detected"


def test_only_the_registry_compares_mode_names() -> None:
    """The pipeline looks modes up; no module outside modes/ branches on a mode's name."""
    names = set(MODE_PACKAGES)
    for path in _modules():
        if "modes" in path.relative_to(PKG).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                for side in [node.left, *node.comparators]:
                    consts = side.elts if isinstance(side, (ast.Tuple, ast.Set, ast.List)) else [side]
                    hit = {c.value for c in consts if isinstance(c, ast.Constant)} & names
                    assert not hit, f"{path.relative_to(ROOT)}:{node.lineno} compares with mode name {hit}: use modes/registry.py"


@pytest.mark.parametrize("path", sorted((PKG / "findings").rglob("*.py")), ids=lambda p: str(p.relative_to(PKG)))
def test_findings_never_import_edges(path: Path) -> None:
    for name in _internal_imports(path):
        bad = [e for e in EDGE_MODULES if name == e or name.startswith(e + ".")]
        assert not bad, f"{path.relative_to(ROOT)} imports {name}: findings read the Analysis, never the edges"


def test_one_list_of_modes_and_output_formats() -> None:
    """Completion spells out its choices (it must start fast); they match the one enum of each."""
    from kubectl_svcpath import completion
    from kubectl_svcpath.modes.base import Mode
    from kubectl_svcpath.options import OUTPUTS, OutputFormat

    assert [v for v, _ in completion.OUTPUT_CHOICES] == [f.value for f in OutputFormat] == list(OUTPUTS)
    assert [v for v, _ in completion.PROXY_MODE_CHOICES] == [m.value for m in Mode]


MAX_FUNCTION_LINES = 60


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PKG)))
def test_no_function_over_60_lines(path: Path) -> None:
    """A function a reader can hold at once: longer ones are split into named steps (no allow-list)."""
    long = [f"{node.name} (line {node.lineno}): {node.end_lineno - node.lineno + 1} lines"
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"{path.relative_to(ROOT)}: over {MAX_FUNCTION_LINES} lines: {long}; split into named steps"
