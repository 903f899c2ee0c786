"""A table header is "*" and a netfilter table's name (filter, nat, mangle, raw, security), nothing else.

Authors keep rules in Markdown notes: a "**bold**" or "*italic*" line of prose was taken for a table
header, and every rule after it went into a table of that name (with --lenient, --all then said "No
Service in the input"). Such a line is no iptables-save line to the reader; before it, parse/excerpt reads a
"**bold**" or "*italic*" prose line as the author's note (a comment), "*nat*" as the header in emphasis when a
COMMIT closes its table, "*[snip]*" as a cut.
"""

from __future__ import annotations

import json
from pathlib import Path

from kubectl_svcpath.modes.iptables.parse_save import parse_iptables_save
from tests.conftest import svcpath

SVC, SEP = "KUBE-SVC-ABCDEFGHIJKLMNOP", "KUBE-SEP-ABCDEFGHIJKLMNO1"
RULES = (f'-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 '
         f"-j {SVC}\n"
         f'-A {SVC} -m comment --comment "default/web:http" -j {SEP}\n'
         f'-A {SEP} -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.1.5:8080\n')
DUMP = (f"*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n:{SVC} - [0:0]\n:{SEP} - [0:0]\n"
        '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n' + RULES + "COMMIT\n")


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "notes.txt"
    path.write_text(text)
    return str(path)


def _all_rows(path: str, *extra: str) -> list[list[str]]:
    code, out, err = svcpath("--all", "--rules-file", path, *extra)
    assert code in (0, 3), err
    return [line.split() for line in out.splitlines()[1:] if line.startswith("default ")]


def test_an_italic_line_before_bare_rules_is_no_table(tmp_path: Path) -> None:
    """'*The nat table*' above bare -A lines: the author's note in Markdown italics, read as a comment (was "No
    Service in the input" with --lenient: its rules were read into a table named "The nat table*"; then refused at
    that line without it)."""
    path = _write(tmp_path, "*The nat table*\n" + RULES)
    code, out, err = svcpath("--all", "--rules-file", path)
    assert code == 0, err
    assert [r[:5] for r in _all_rows(path)] == [["default", "web", "?", "10.96.0.10", "80"]], out
    assert [r[:5] for r in _all_rows(path, "--lenient")] == [["default", "web", "?", "10.96.0.10", "80"]]


def test_a_table_name_in_italics(tmp_path: Path) -> None:
    """'*nat*': a table's header in emphasis when a COMMIT closes the table after it (the dump is read whole, with
    the marks' note); before bare rules and no COMMIT, a label (a comment: the rules' tables are guessed)."""
    path = _write(tmp_path, DUMP.replace("*nat\n", "*nat*\n"))
    code, out, err = svcpath("--all", "--rules-file", path)
    assert code == 0, err
    assert [r[:6] for r in _all_rows(path)] == [["default", "web", "?", "10.96.0.10", "80", "1"]], out
    assert "Markdown emphasis, '//', '<--' or '>>' notes after) on line 1 were read as no part of the rules" in out, out
    assert "the input is a part of the rules" not in out  # (the table is whole)
    path = _write(tmp_path, "*nat*\n" + RULES)
    code, out, err = svcpath("--all", "--rules-file", path)
    assert code == 0, err
    assert [r[:5] for r in _all_rows(path)] == [["default", "web", "?", "10.96.0.10", "80"]], out


def test_a_bold_line_above_a_whole_dump_is_the_authors_note(tmp_path: Path) -> None:
    """'**Note**' as the first line of a dump was a table that the real "*nat" then 'started before it was
    committed' (exit 8): it is the author's prose, read as a comment."""
    for note in ("**Note**", "**Note: from node1**"):
        path = _write(tmp_path, note + "\n" + DUMP)
        rows = _all_rows(path)
        assert [r[:6] for r in rows] == [["default", "web", "?", "10.96.0.10", "80", "1"]], rows
        doc = json.loads(svcpath("default/web", "--rules-file", path, "-o", "json")[1])
        assert [f"{hop['ip']}:{hop['port']}" for port in doc["ports"] for p in port["paths"] for hop in p["endpoints"]] == [
            "10.244.1.5:8080"]


def test_an_italic_line_inside_a_whole_dump_is_a_note_or_a_cut(tmp_path: Path) -> None:
    """A '*…*' line among a table's rules was passed over without a word by the whole-text scan (pastes7 made it a
    refused line): it is the author's note, a comment that cuts nothing; '*[snip]*' is a cut (nothing is then
    said to be absent)."""
    text = DUMP.replace(f"-A {SVC} ", f"*the service chain*\n-A {SVC} ", 1)
    path = _write(tmp_path, text)
    code, out, err = svcpath("--all", "--rules-file", path)
    assert code == 0, err
    assert [r[:6] for r in _all_rows(path)] == [["default", "web", "?", "10.96.0.10", "80", "1"]], out
    assert "the input is a part of the rules" not in out, out
    path = _write(tmp_path, DUMP.replace(f"-A {SVC} ", f"*[snip]*\n-A {SVC} ", 1))
    code, out, err = svcpath("--all", "--rules-file", path)
    assert code == 0, err
    assert "Note: the input is a part of the rules: Services it does not show may exist" in out, out
    rs = parse_iptables_save(text, "notes.txt", lenient=True)  # (the reader alone still refuses it: clean() reads the marks)
    assert rs.dumps[0].skipped == ["line 8: not an iptables-save line: *the service chain*"]


def test_every_table_name_still_opens_a_table() -> None:
    """The five tables iptables-save prints, each read whole by the plain scan (and by the line scan with a
    comment's newline in a rule, which sends the dump down it)."""
    for name in ("filter", "nat", "mangle", "raw", "security"):
        text = f"*{name}\n:KUBE-X - [0:0]\n-A KUBE-X -j ACCEPT\nCOMMIT\n"
        for dump in (text, text.replace("-j ACCEPT", '-m comment --comment "a\nb" -j ACCEPT')):
            rs = parse_iptables_save(dump, "d")
            assert list(rs.tables) == [name] and rs.tables[name].complete, (name, dump)
            assert [r.target for r in rs.tables[name].chains["KUBE-X"].rules] == ["ACCEPT"]
