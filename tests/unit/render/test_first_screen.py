"""Issue 10: the first screen answers the question, in a real terminal (tmux) at 80 and 200 columns.

The verdict (one line per service port) is in the first 3 lines, the seed example fits in 25
lines at 80 columns, findings are a headline and one line of why (the rest with --explain, where
a shared explanation is printed once), -o tree never breaks inside a value, and findings are
ordered by severity, then port.
"""

from __future__ import annotations

import re

import pytest

from kubectl_svcpath.path import Finding
from kubectl_svcpath.render.verdict import explained_findings, short_findings, sorted_findings
from kubectl_svcpath.render.text import Style
from tests.conftest import ROOT, svcpath
from tests.terminal import in_tmux

VERDICT = re.compile(r"^port-v[12] \d+/TCP → 1 of 1 endpoint \(ready\), \d pkts? — OK")


@pytest.mark.parametrize("columns", [80, 200])
def test_seed_example_verdict_first_and_one_screen(columns: int):
    lines = in_tmux(["--example"], columns)

    assert VERDICT.match(lines[0]) and lines[0].startswith("port-v1 39090/TCP → 1 of 1 endpoint (ready), 2 pkts — OK")
    assert any(VERDICT.match(ln) and ln.startswith("port-v2 49191/TCP") for ln in lines[1:3]), lines[:3]
    assert len(lines) <= 25, "\n".join(lines)
    text = "\n".join(lines)
    if columns == 80:  # the short remark keeps each verdict on one row
        assert lines[0] == "port-v1 39090/TCP → 1 of 1 endpoint (ready), 2 pkts — OK; listing hides port"
        # each finding's headline is whole, its rows continued under the code (was cut: "…; t…")
        at = lines.index("  WARNING  hidden-mark-match: KUBE-POSTROUTING shows an unconditional RETURN; in")
        assert lines[at + 1] == "           the kernel it matches a packet mark this iptables cannot display"
        at = lines.index("  WARNING  hidden-port-match: iptables cannot display the port matches of 4")
        assert lines[at + 1] == "           entry rules; in the kernel: tcp dport 39090, 30725, 49191 and 31576"
        assert lines[at + 2].startswith("      the iptables that listed them") and lines[at + 2].endswith("…")
    else:
        assert lines[0].endswith("OK; the node's iptables hides the port match (harmless)")
    assert "WARNING  hidden-port-match:" in text and "WARNING  hidden-mark-match:" in text
    assert "This dump was probably produced" not in text  # the long explanation waits for --explain
    assert lines[-1] == "(--explain: evidence, explanations and fixes)"
    if columns == 200:
        assert lines[1].startswith("port-v2 49191/TCP → 1 of 1 endpoint (ready), 1 pkt — OK; the node's iptables hides")



def test_the_terminal_reads_back_a_wrapped_line_whole():
    """in_tmux gives each line as the command printed it, not as the terminal wrapped it: the width checks
    of these tests (no line wider than the pane) could not fail when each pane row came back on its own.
    -o wide leaves its rows to the terminal to wrap (as kubectl does), so at 60 columns some are wider."""
    lines = in_tmux(["--example", "-o", "wide"], 60)
    assert max(map(len, lines)) > 60
    assert any(ln.startswith("PORT") and "SERVICE-CHAIN" in ln and "EP-PKTS" in ln for ln in lines)  # the header, one line

def test_explain_prints_the_shared_explanation_once():
    code, out, _ = svcpath("--example", "--explain")
    assert code == 0
    assert out.count("This dump was probably produced by an iptables older") == 1
    assert out.count('iptables 1.8.8 and later store "-m tcp --dport N"') == 1
    assert "(the explanation under hidden-mark-match above applies here too)" in out
    assert "evidence: example/hello-service/iptables-save-on-node-host.txt:34" in out
    assert "-> see the real rules" in out


def test_wide_implies_explain():
    _, wide, _ = svcpath("--example", "-o", "wide")
    assert "evidence: example/hello-service/iptables-save-on-node-host.txt:34" in wide
    assert "(--explain:" not in wide


def test_tree_at_80_columns_never_breaks_inside_a_value():
    wide = in_tmux(["--example", "-o", "tree"], 200)
    narrow = in_tmux(["--example", "-o", "tree"], 80)
    def tree(lines: list[str]) -> list[str]:  # from the root line to the notes
        start = next(i for i, ln in enumerate(lines) if ln.startswith("default/hello-service ("))
        end = next(i for i, ln in enumerate(lines) if ln.startswith(("Note:", "Findings:")))
        return lines[start:end]

    assert all(len(ln) <= 80 for ln in narrow)
    narrow_text = "\n".join(tree(narrow))
    values = {tok for ln in tree(wide) for tok in re.findall(r"[\w./:\[\]*-]{6,}", ln)}
    assert {"KUBE-SEP-AA54JU3D4RO26WUA", "192.168.189.15:9090", "10.101.173.15:39090"} <= values
    for value in values:
        assert value in narrow_text, f"{value} was broken across lines at 80 columns:\n{narrow_text}"
    # continuation lines keep the tree's verticals: the 80-column tree has more rows, all still inside it
    assert len(tree(narrow)) > len(tree(wide))


def test_findings_by_severity_then_port():
    f = [Finding("a", "info", "i"), Finding("b", "warning", "w on v2", port="v2"), Finding("c", "error", "e"),
         Finding("d", "warning", "w on v1", port="v1"), Finding("e", "warning", "w node-wide")]

    class R:  # the ports' order is what sorts findings by port
        ports = [type("PP", (), {"port": type("P", (), {"name": n})()})() for n in ("v1", "v2")]

    assert [x.code for x in sorted_findings(f, R())] == ["c", "d", "b", "e", "a"]  # type: ignore[arg-type]


def test_short_findings_wrap_the_headline_and_cut_the_why_to_one_row():
    f = Finding("hidden-port-match", "warning", "word " * 40 + "x" * 200, detail=["why " * 40, "more"], evidence=["ev"],
                action="do")
    short = short_findings([f], Style(True), None, width=80)
    plain = [re.sub(r"\x1b\[[0-9;]*m", "", ln) for ln in short]
    assert all(len(ln) <= 80 for ln in plain), plain
    assert plain[1].startswith("  WARNING  hidden-port-match: word word") and not plain[1].endswith("…")
    rows = [ln for ln in plain[2:] if ln.startswith(" " * 11)]  # continued under the code, nothing cut
    assert "".join("".join(rows).split()).replace("word", "") == "x" * 200
    assert plain[-1].startswith("      why why") and plain[-1].endswith("…")
    assert short_findings([f], Style(False), None, width=None)[1] == f"  WARNING  hidden-port-match: {f.message}"
    full = explained_findings([f], Style(False))
    assert "x" * 200 in full[1] and "      evidence: ev" in full and "      -> do" in full


def test_the_readmes_first_screen_is_what_an_80_column_terminal_shows():
    """README.md shows `kubectl svcpath --example` "in an 80-column terminal (the whole output)": it must stay
    what the plugin prints there."""
    readme = (ROOT / "README.md").read_text()
    marker = "`kubectl svcpath --example` in an 80-column terminal (the whole output):\n\n```\n"
    start = readme.index(marker) + len(marker)
    shown = readme[start:readme.index("\n```\n", start)].split("\n")
    assert shown == in_tmux(["--example"], 80)


def test_a_header_line_continues_under_its_value() -> None:
    """"Rules:" and "Note:" lines continued 4 columns in, under the label ("    2026-11-25T02:16:29"); they
    continue under the value, as the findings do under their text. Other prose keeps its indent + 4."""
    from kubectl_svcpath.render.common import wrap_lines

    note = "Note:     no filter table: REJECT for services without endpoints and Local-policy DROPs cannot be seen"
    assert wrap_lines([note], 80) == ["Note:     no filter table: REJECT for services without endpoints and",
                                      "          Local-policy DROPs cannot be seen"]
    assert wrap_lines(["Not read: nodes win-1 and win-2: Windows nodes run no kube-proxy iptables or nftables rules"], 60) == [
        "Not read: nodes win-1 and win-2: Windows nodes run no",
        "          kube-proxy iptables or nftables rules"]
    assert wrap_lines(["  (branches 3 and 4 reach the same outcome through other choices: -o wide lists them)"], 80) == [
        "  (branches 3 and 4 reach the same outcome through other choices: -o wide lists",
        "      them)"]


def test_colour_takes_no_column_when_a_line_is_folded() -> None:
    """Colour codes were counted as columns: a painted line folded 9 columns early ("Branch 2: delivered ...")."""
    from kubectl_svcpath.render.common import wrap_lines

    head = "delivered -> 192.168.189.15:9191, share not known (depends on the conditions below), source kept"
    for width in range(60, 100):
        plain = wrap_lines([f"Branch 1: {head}"], width)
        painted = wrap_lines([f"Branch 1: {Style(True).paint(head, 'green')}"], width)
        assert [re.sub(r"\x1b\[[0-9;]*m", "", ln) for ln in painted] == plain and len(plain) == 2, width
        assert painted[0].startswith("Branch 1: \x1b[32mdelivered") and painted[-1].endswith("\x1b[0m")


def test_explain_in_a_terminal_continues_a_headline_under_its_code() -> None:
    """--explain's headlines folded under +4 and early (the severity's colour counted); the short view's
    continue under the code."""
    lines = in_tmux(["--example", "--explain"], 80)
    at = lines.index("  WARNING  hidden-mark-match: KUBE-POSTROUTING shows an unconditional RETURN; in")
    assert lines[at + 1] == "           the kernel it matches a packet mark this iptables cannot display"
    assert all(len(ln) <= 80 for ln in lines)


def test_a_word_wider_than_the_room_stays_beside_its_label() -> None:
    """A dump's long path in a note left "Note:" alone on its row, the path under it."""
    from kubectl_svcpath.render.common import wrap_lines

    path = "/work/shared/dumps/repo-sessionaffinity-experiment-test-my-nginx-before.txt"
    assert wrap_lines([f"Note:     {path} holds rule lines without their tables or chain headers"], 80) == [
        f"Note:     {path}", "          holds rule lines without their tables or chain headers"]


def test_a_source_wider_than_the_room_stays_under_the_rules_line() -> None:
    """--explain and -o wide list each source under "Rules:"; a path wider than the room came out at column 0, as if it
    were a line of its own, its "[format; counters]" under it ("/work/shared/dumps/…-before.txt" in an 80-column
    terminal). It stays in the sources' column, left whole to the terminal as kubectl leaves a long value."""
    from tests.conftest import DUMPS

    path = str(DUMPS / "repo-sessionaffinity-experiment-test-my-nginx-before.txt")
    lines = in_tmux(["test/my-nginx", "--rules-file", path, "--explain"], 80)
    at = lines.index("Rules:    iptables mode, node unknown (offline)")
    assert lines[at + 1:at + 3] == [f"          {path}", "              [rules-only; no counters]"], lines
