"""Shared test helpers: paths to shared data, golden-file comparison, running the CLI."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _find_shared() -> Path:
    """shared/ sits beside the checkout (as CI lays it out); SVCPATH_SHARED overrides."""
    candidates = [os.environ.get("SVCPATH_SHARED"), ROOT.parent / "shared", "/work/shared"]
    for c in candidates:
        if c and (Path(c) / "dumps").is_dir():
            return Path(c)
    return ROOT.parent / "shared"


SHARED = _find_shared()
DUMPS = SHARED / "dumps"
EXAMPLE = ROOT / "kubectl_svcpath" / "examples" / "hello-service"
GOLDEN = ROOT / "tests" / "golden"


# markers by folder (tests/<folder>/...) and by fixture; see the markers in pyproject.toml
FOLDER_MARKERS = {"lab": ("lab",), "packaging": ("packaging",)}
FIXTURE_MARKERS = {"api": "api", "scenario": "api"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests = ROOT / "tests"
    for item in items:
        path = Path(item.path)
        folder = path.relative_to(tests).parts[0] if path.is_relative_to(tests) else ""
        for name in FOLDER_MARKERS.get(folder, ()):
            item.add_marker(name)
        for fixture in getattr(item, "fixturenames", ()):
            if fixture in FIXTURE_MARKERS:
                item.add_marker(FIXTURE_MARKERS[fixture])
        if item.get_closest_marker("lab"):
            item.add_marker("root")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", help="rewrite tests/golden/* from the current output")


@pytest.fixture
def golden(request: pytest.FixtureRequest):
    """compare(text, "case/file.txt"): equal to the stored golden file, or a readable diff."""
    update = request.config.getoption("--update-goldens")

    def compare(text: str, name: str) -> None:
        path = GOLDEN / name
        if update or not path.exists():
            if os.environ.get("CI") == "true" and not path.exists():
                pytest.fail(f"golden file {name} is missing; run pytest --update-goldens locally and commit it")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            return
        expected = path.read_text()
        if text != expected:
            diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), f"golden/{name}", "actual"))
            pytest.fail(f"output differs from golden/{name} (rerun with --update-goldens if the change is intended):\n{diff}")

    return compare


def run_cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The plugin as users run it: the installed console script, in a child process."""
    exe = Path(sys.executable).parent / "kubectl-svcpath"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "kubectl_svcpath"]
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    full_env.pop("NO_COLOR", None) if env is None or "NO_COLOR" not in env else None
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env=full_env, input=stdin, timeout=timeout)


def svcpath_on(tmp_path: Path, text: str, *args: str) -> tuple[int, str, str]:
    """svcpath() with ``text`` as the pasted rules (--rules-file)."""
    paste = tmp_path / "paste.txt"
    paste.write_text(text, encoding="utf-8")
    return svcpath("--rules-file", str(paste), *args)


def corpus_cut(tmp_path: Path, name: str, first: int, last: int) -> str:
    """Lines ``first``..``last`` of the real paste tests/corpus/``name``, as a file (where an author might have cut)."""
    lines = (ROOT / "tests" / "corpus" / name).read_text().splitlines()
    f = tmp_path / "cut.txt"
    f.write_text("\n".join(lines[first - 1:last]) + "\n")
    return str(f)


def svcpath(*args: str) -> tuple[int, str, str]:
    """Run the CLI in this process (same code path as the console script); (exit code, stdout, stderr)."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from kubectl_svcpath.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as e:
            code = int(e.code or 0)
    return code, out.getvalue(), err.getvalue()


def require_shared() -> None:
    if not DUMPS.is_dir():
        pytest.fail(f"shared dumps not found at {DUMPS}: set SVCPATH_SHARED to the shared/ folder")
