"""The installed command ends without the interpreter's teardown (cli._exit_now): what it wrote still
reaches a pipe whole, and its exit code is the documented one."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import run_cli, svcpath


def _run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "kubectl_svcpath", *args], capture_output=True, timeout=60, check=False)


def test_a_long_answer_reaches_the_pipe_whole_and_the_code_is_kept() -> None:
    code, out, _ = svcpath("--example", "-o", "yaml")
    done = _run("--example", "-o", "yaml")
    assert (done.returncode, done.stdout.decode()) == (code, out) and len(out) > 1000


def test_an_error_line_and_its_exit_code() -> None:
    done = _run("--rules-file", "/nonexistent/svcpath-dump.txt", "--all")
    code, _, err = svcpath("--rules-file", "/nonexistent/svcpath-dump.txt", "--all")
    assert (done.returncode, done.stderr.decode(), done.stdout) == (code, err, b"")
    assert code == 4 and err.startswith("error: rule dump '/nonexistent/svcpath-dump.txt' not found")


def test_help_fits_an_80_column_terminal() -> None:
    """--help teaches at 3 a.m. in whatever terminal is open: at 80 columns no line wraps, the verbatim
    blocks (where rules come from, the examples) included."""
    out = run_cli("--help", env={"COLUMNS": "80"})
    assert out.returncode == 0 and "Examples:" in out.stdout and "Exit codes:" in out.stdout
    long = [line for line in out.stdout.splitlines() if len(line) > 80]
    assert not long, "\n".join(long)


@pytest.mark.parametrize("columns", [80, 86, 90, 100])
def test_help_never_breaks_a_word_at_its_hyphen(columns: int) -> None:
    """click's wrapper broke after hyphens: "in kube-" / "proxy pods" at 80 columns, "(node-" /
    "role.kubernetes.io/worker" at 86, "--all-" / "nodes" could follow. Rows end at spaces only."""
    out = run_cli("--help", env={"COLUMNS": str(columns)})
    broken = [line for line in out.stdout.splitlines() if re.search(r"[A-Za-z]-$", line)]
    assert not broken, "\n".join(broken)
    assert "kube-proxy pod" in out.stdout and "\u2011" not in out.stdout
