"""The installed command ends without the interpreter's teardown (cli._exit_now): what it wrote still
reaches a pipe whole, and its exit code is the documented one."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from kubectl_svcpath.cli import EPILOG, HELP
from tests.conftest import run_cli, svcpath
from tests.terminal import in_tmux


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
    assert code == 4 and err.startswith('error: rule dump "/nonexistent/svcpath-dump.txt" not found')  # as 'service "web"'


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


def _help(columns: int) -> list[str]:
    out = run_cli("--help", env={"COLUMNS": str(columns)})
    assert out.returncode == 0 and not out.stderr
    return out.stdout.splitlines()


@pytest.mark.parametrize("columns", [60, 62, 65, 66, 70, 79, 80])
def test_help_fits_the_terminal_down_to_60_columns_and_breaks_no_word(columns: int) -> None:
    """At 60 columns the hand-laid blocks ran to 80 (where rules come from, the examples) and flags' texts were
    cut inside a word ("node-role.kubern" / "etes.io/worker"). Every line fits; every word of the wide help is
    whole; a command is continued with "\\", a comment with "#"."""
    narrow = _help(columns)
    assert not [line for line in narrow if len(line) > columns], "\n".join(narrow)
    wide_words, narrow_words = set(" ".join(_help(200)).split()), set(" ".join(narrow).split())
    assert wide_words <= narrow_words, wide_words - narrow_words
    assert narrow_words - wide_words <= {"\\"}, narrow_words - wide_words


def test_help_at_60_columns_reads_like_kubectls() -> None:
    text = "\n".join(_help(60))
    assert "\n  --nodes SELECTOR|NAMES\n        Read these nodes, as --all-nodes does: a label\n" in text  # text under its flag
    assert "\n    --rules-file F  files someone collected: iptables-save\n                    [-c], '-A' lines," in text
    assert ("\n    # a client outside the cluster hitting a NodePort on\n    # the node 10.0.0.2\n"
            "    kubectl svcpath web --trace 203.0.113.9 \\\n        --to 10.0.0.2:31576 --node-ip 10.0.0.2\n") in text


def test_help_at_80_columns_keeps_its_hand_laid_blocks() -> None:
    """Fitting the blocks to narrow terminals leaves 80 columns as written: where rules come from, line by line."""
    lines = _help(80)
    block = HELP.split("\b\n", 1)[1].rstrip("\n").splitlines()
    at = lines.index("  " + block[0])
    assert lines[at:at + len(block)] == ["  " + line for line in block]
    assert "    kubectl svcpath web --trace 203.0.113.9 --to 10.0.0.2:31576 \\" in lines
    assert "  --nodes SELECTOR|NAMES        Read these nodes, as --all-nodes does: a label" in lines  # two columns
    # typer's "[default: table]" on one row (was "[default:" / "table]")
    assert lines[lines.index("  -o, --output FORMAT           table | wide | tree | json | yaml") + 1] == " " * 32 + "[default: table]"


def test_help_names_the_argument_as_kubectl_would() -> None:
    """typer wrote the argument as "SERVICE <str>": a type no kubectl help shows."""
    lines = _help(80)
    assert lines[0] == "Usage: kubectl svcpath [OPTIONS] [SERVICE]"
    at = lines.index("  SERVICE  NAME, svc/NAME or NAMESPACE/NAME; offline also its address")
    assert lines[at + 1:at + 4] == ["           (ADDRESS[:PORT]: a cluster, external or load-balancer IP), and of a",
                                    "           dump that names no Service (ipvsadm) an entry as --all lists it",
                                    "           ('TCP 10.96.0.10:53')"]  # what the hint offers
    assert "<str>" not in "\n".join(lines)


@pytest.mark.parametrize("columns", [60, 80])
def test_help_in_a_real_terminal_is_what_its_width_asks_for(columns: int) -> None:
    """In tmux (no COLUMNS: the width comes from the terminal) --help is the help of that width, no line
    folded by the terminal."""
    assert in_tmux(["--help"], columns) == [line.rstrip() for line in _help(columns)]


def test_every_exit_code_is_in_the_readme_and_in_help() -> None:
    """README's "Exit codes" table and --help's "Exit codes:" line name every ExitCode, by its number and name."""
    from pathlib import Path

    from kubectl_svcpath.errors import ExitCode

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme[readme.index("## Exit codes"):]
    table = table[:table.index("\n## ")]
    rows = dict(re.findall(r"^\| (\d+) \| ([A-Z_]+) \|", table, re.M))
    assert rows == {str(int(c)): c.name for c in ExitCode}
    said = re.findall(r"(?:^|, )(\d+) ", " ".join(EPILOG.split("Exit codes:", 1)[1].split()))
    assert [int(n) for n in said] == [int(c) for c in ExitCode]


def test_the_readme_documents_the_exit_code_of_ipvs_rules_without_the_ipvs_table() -> None:
    """IPVS mode's iptables rules passed alone (tkng's `iptables -t nat -L KUBE-SERVICES` in tests/corpus) exit 9,
    which README's table gave only for a proxy mode this version cannot analyse, and IPVS mode it analyses."""
    from pathlib import Path

    from tests.conftest import ROOT, svcpath

    code, out, err = svcpath("--rules-file", str(ROOT / "tests" / "corpus" / "tkng-ipvs-mode-nat-L-kube-services.txt"), "--all")
    assert (code, out) == (9, "") and err.startswith("error: these iptables rules are kube-proxy's IPVS mode"), err
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    row = next(ln for ln in readme.splitlines() if ln.startswith("| 9 | UNSUPPORTED |"))
    assert "IPVS mode's iptables rules alone, without the IPVS table: pass `ipvsadm -Ln` too" in row, row


def test_a_reader_that_goes_away_is_no_internal_error() -> None:
    """`kubectl svcpath --all -o json | head -1`: the pipe's reader goes away before the answer is out. typer's click
    turned the write's EPIPE into exit 1, which README's table calls a bug ("rerun with --debug"), with no line on
    stderr; the plugin meant exit 0 for it. Now 0, nothing on stderr."""
    import os
    import subprocess
    import sys

    from tests.conftest import DUMPS

    read, write = os.pipe()
    os.close(read)  # the first write fails with EPIPE (Python ignores SIGPIPE)
    try:
        done = subprocess.run([sys.executable, "-m", "kubectl_svcpath", "--all", "-o", "json", "--rules-file",
                               str(DUMPS / "repo-k3s-nft-list-table-ip-kube-proxy.txt")],
                              stdout=write, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (0, "")
