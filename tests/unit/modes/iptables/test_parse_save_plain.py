"""The plain scan of iptables-save text (issue 11): two name-only regex passes and chains located in the text
when asked must read exactly what the general whole-text scan reads, and leave every other layout to it.

The plain scan (parse_save._Parser._plain_scan) takes a table whose lines, from its first rule to COMMIT, are
rule lines with each chain's rules in one run; a chain's run is then found by bisecting the text in run order,
or, after 256 such look-ups (an audit), all at once. Anything else goes to _fast_scan and the line-by-line
scan, which word the errors: a hand-edited dump must still show every rule of a chain split in two places.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from kubectl_svcpath.modes.iptables import parse_save
from kubectl_svcpath.parse.excerpt import clean
from tests.conftest import DUMPS, require_shared, svcpath
from tests.lab.kpgen import PortSpec, ProxyConfig, ServiceSpec, cluster_services, save_text


def _read(text: str, plain: bool) -> tuple[bool, dict[str, Any]]:
    """What a parse shows of every chain: names in order, policy, counters, and each rule's line and text."""
    parser = parse_save._Parser(text, "dump.txt", False)
    took = parser._plain_scan() if plain else parser._fast_scan()
    shown: dict[str, Any] = {}
    for name, table in parser.rules.tables.items():
        shown[name] = [(chain_name, c.policy, c.packets, c.bytes, c.declared, [(r.line_no, r.raw, r.target) for r in c.rules])
                       for chain_name, c in ((n, table.chains[n]) for n in list(table.chains))]
    info = parser.info
    shown["info"] = (info.reader, info.reader_version, info.backend, info.notices, parser.counted)
    return took, shown


def _generated(n: int = 40) -> str:
    return save_text(cluster_services(n, 3))


def test_plain_scan_reads_what_the_general_scan_reads_on_shared_dumps() -> None:
    require_shared()
    saves = sorted(p for p in DUMPS.glob("*.txt") if "-save" in p.name or "iptables-save" in p.read_text(errors="replace")[:200])
    assert saves
    for path in saves:
        text = path.read_text()
        took, plain = _read(text, plain=True)
        assert took, path.name
        assert plain == _read(text, plain=False)[1], path.name


def _runs_reversed(text: str) -> str:
    """The chains' runs of rules in reverse order (not iptables-save's sorted order: a restore input's)."""
    lines = text.split("\n")
    first = next(i for i, ln in enumerate(lines) if " -A " in ln)
    commit = next(i for i in range(first, len(lines)) if lines[i] == "COMMIT")
    runs: list[list[str]] = []
    for ln in lines[first:commit]:
        if runs and ln.split()[2] == runs[-1][0].split()[2]:
            runs[-1].append(ln)
        else:
            runs.append([ln])
    return "\n".join(lines[:first] + [ln for run in reversed(runs) for ln in run] + lines[commit:])


def test_notices_and_counters_are_read_as_the_general_scan_reads_them() -> None:
    text = save_text(cluster_services(5, 2), backend="nft").replace(
        "\n*nat\n", "\n# Warning: iptables-legacy tables present, use iptables-legacy-save to see them\n*nat\n")
    took, plain = _read(text, plain=True)
    assert took and plain["info"][3] == ["# Warning: iptables-legacy tables present, use iptables-legacy-save to see them"]
    assert plain["info"][:3] == ("iptables-nft-save", "1.8.9", "nf_tables") and plain["info"][4]
    assert plain == _read(text, plain=False)[1]


def _nat_both_ways(order: str, jumps: bool) -> tuple[Any, Any]:
    """A generated nat table (in iptables-save's order of runs, or reversed; ``jumps``: rules in the
    built-in chains, as a node's dump has) read by the general scan and by the plain scan: their chains."""
    text = save_text(cluster_services(120, 3), ProxyConfig(jumps=True) if jumps else None, tables=("nat",))
    if order == "reversed":
        text = _runs_reversed(text)
    general = parse_save._Parser(text, "d", False)
    assert general._fast_scan()
    plain = parse_save._Parser(text, "d", False)
    assert plain._plain_scan()
    return general.rules.tables["nat"].chains, plain.rules.tables["nat"].chains


@pytest.mark.parametrize("lookups", [3, 400])
@pytest.mark.parametrize("order", ["iptables-save's", "reversed"])
def test_chains_located_one_by_one_or_all_at_once_match_the_general_scan(lookups: int, order: str) -> None:
    """A few look-ups bisect the text; past 256 (an audit) every run is found in one pass: both as _fast_scan,
    in iptables-save's order (built-in chains, then the others by name) and in any other."""
    g_nat, p_nat = _nat_both_ways(order, jumps=False)
    names = list(g_nat)
    assert list(p_nat) == names and len(names) > 400
    for name in names[-lookups:] + names[:3]:
        assert p_nat.text_of(name) == g_nat.text_of(name), name
        assert p_nat[name]._spans == g_nat[name]._spans, name


@pytest.mark.parametrize("jumps", [False, True])
@pytest.mark.parametrize("made_first", [0, 2])
@pytest.mark.parametrize("order", ["iptables-save's", "reversed"])
def test_every_chain_located_at_once_before_any_look_up_matches_the_general_scan(order: str, made_first: int, jumps: bool) -> None:
    """An audit locates every run first (LazyChains.locate_all: each run's start from one regex pass, set at
    C speed): every chain's text is the general scan's, also when some chains were made before (``jumps``: a
    node's dump, whose built-in chains have rules and are made when their policy line is read)."""
    g_nat, p_nat = _nat_both_ways(order, jumps)
    names = list(g_nat)
    for name in names[-made_first - 1:-1]:  # (made: no longer pending)
        assert p_nat[name]._spans == g_nat[name]._spans
    located = p_nat._locator.all_packed()  # (the one-pass form: found for a plain dump)
    assert located is not None and located[0] == sorted((n for n in names if g_nat[n]._spans), key=lambda n: g_nat[n]._spans[0])
    p_nat.locate_all()
    assert list(p_nat) == list(g_nat)
    for name in names:
        assert p_nat.text_of(name) == g_nat.text_of(name), name
    assert [p_nat[n]._spans for n in names] == [g_nat[n]._spans for n in names]


def _uncounted(text: str, where: str) -> str:
    """One or more rule lines of a counted table without their counters (both shapes in one table, as a
    hand edit gives): the plain scan's shaped regex cuts runs there and the names are read again whole."""
    lines = text.split("\n")
    rules = [i for i, ln in enumerate(lines) if ln.startswith("[0:0] -A ")]
    if where == "a line inside a run":  # (an endpoint chain's second line: its run of two)
        picked = [next(i for i in rules if "-A KUBE-SEP-" in lines[i] and lines[i - 1].split()[2] == lines[i].split()[2])]
    elif where == "a run of one line":
        picked = [next(i for i in rules if "-A KUBE-MARK-MASQ " in lines[i])]
    elif where == "the last line":
        picked = [rules[-1]]
    else:  # every line of a run of several
        chain = next(lines[i].split()[2] for i in rules if "-A KUBE-SVC-" in lines[i])
        picked = [i for i in rules if lines[i].split()[2] == chain]
    for i in picked:
        lines[i] = lines[i][len("[0:0] "):]
    return "\n".join(lines)


@pytest.mark.parametrize("where", ["a line inside a run", "a run of one line", "the last line", "a whole run"])
def test_every_chain_located_at_once_in_a_table_of_both_line_shapes(where: str) -> None:
    """all_packed reads a counted table with the counted lines' regex first; a line without counters cuts a
    run there, so the count of runs differs (or the last one falls short) and the table is read again with
    the regex of both shapes: every chain's text is still the general scan's."""
    text = _uncounted(save_text(cluster_services(120, 3), tables=("nat",)), where)
    general = parse_save._Parser(text, "d", False)
    assert general._fast_scan()
    plain = parse_save._Parser(text, "d", False)
    assert plain._plain_scan()
    g_nat, p_nat = general.rules.tables["nat"].chains, plain.rules.tables["nat"].chains
    assert p_nat._locator.all_packed() is not None
    p_nat.locate_all()
    names = list(g_nat)
    assert list(p_nat) == names
    assert [p_nat.text_of(n) for n in names] == [g_nat.text_of(n) for n in names]
    assert [p_nat[n]._spans for n in names] == [g_nat[n]._spans for n in names]


def _move_rule(text: str) -> str:
    """A chain's first rule moved to the end of the table: its rules are in two places (a hand edit)."""
    lines = text.split("\n")
    i = next(i for i, ln in enumerate(lines) if "-A KUBE-SEP-" in ln)
    moved = lines.pop(i)
    commit = max(j for j, ln in enumerate(lines) if ln == "COMMIT")
    lines.insert(commit, moved)
    return "\n".join(lines)


@pytest.mark.parametrize("edit", ["two places", "comment among rules", "blank line among rules", "declaration among rules"])
def test_other_layouts_are_left_to_the_general_scan(edit: str) -> None:
    text = _generated()
    lines = text.split("\n")
    middle = next(i for i, ln in enumerate(lines) if " -A KUBE-SVC-" in ln)
    if edit == "two places":
        text = _move_rule(text)
    else:
        lines.insert(middle, {"comment among rules": "# edited by hand", "blank line among rules": "",
                              "declaration among rules": ":KUBE-EXTRA - [0:0]"}[edit])
        text = "\n".join(lines)
    took, _ = _read(text, plain=True)
    assert not took
    assert _read(text, plain=False)[0]


def test_a_chain_split_in_two_places_still_shows_all_its_endpoints(tmp_path: Path) -> None:
    """What users see: the Service whose endpoint chain was split by a hand edit has the same endpoints and
    DNAT targets as in the dump kube-proxy's host printed."""
    svc = ServiceSpec("shop", "web", "10.96.0.10", [PortSpec("http", 80, 8080)], endpoints=["10.244.1.5", "10.244.2.6"])
    text = save_text([*cluster_services(30, 2), svc])
    whole, edited = tmp_path / "whole.txt", tmp_path / "edited.txt"
    whole.write_text(text)
    lines = text.split("\n")
    sep = next(ln.split()[2] for ln in lines if "-A KUBE-SEP-" in ln and "10.244.2.6" in ln)
    i = next(i for i, ln in enumerate(lines) if f"-A {sep} " in ln)
    moved = lines.pop(i)  # the endpoint chain's first rule, now after every other rule of the table
    lines.insert(max(j for j, ln in enumerate(lines) if ln == "COMMIT"), moved)
    edited.write_text("\n".join(lines))

    def endpoints(path: Path) -> list[tuple[str, Any]]:
        code, out, err = svcpath("shop/web", "--rules-file", str(path), "-o", "json")
        assert code in (0, 3), err
        paths = json.loads(out)["ports"][0]["paths"]
        return sorted((e["ip"], e.get("chain")) for p in paths for e in p["endpoints"])

    assert endpoints(edited) == endpoints(whole)
    assert [ip for ip, _ in endpoints(whole)] == ["10.244.1.5", "10.244.2.6"]


def test_a_bad_line_among_the_rules_is_the_same_error(tmp_path: Path) -> None:
    text = _generated().split("\n")
    i = next(i for i, ln in enumerate(text) if " -A KUBE-SVC-" in ln)
    text.insert(i, "garbage here")
    path = tmp_path / "bad.txt"
    path.write_text("\n".join(text))
    code, out, err = svcpath("bench/svc-00000", "--rules-file", str(path))
    assert code == 8 and out == ""
    assert err.splitlines()[0] == f"error: {path} line {i + 1}: not an iptables-save line: garbage here"


def test_lines_of_iptables_saves_shapes_need_no_search_for_cuts_or_prompts() -> None:
    """parse/excerpt.py skips its two whole-text searches for a text of iptables-save's line shapes only; a cut
    or a prompt anywhere else, even deep in a dump, is still found."""
    text = _generated()
    assert clean(text).text == text and not clean(text).elisions
    lines = text.split("\n")
    deep = len(lines) // 2
    cut = clean("\n".join([*lines[:deep], "...", *lines[deep:]]))
    assert cut.elisions == [deep + 1]
    prompt = clean("\n".join([*lines[:deep], "$ iptables-save -t filter", *lines[deep:]]))
    assert prompt.commands == [deep + 1]
    indented_cut = clean("\n".join([*lines[:deep], "  [snip]", *lines[deep:]]))
    assert indented_cut.elisions == [deep + 1]


@pytest.mark.parametrize("odd_line", [None, "-A KUBE-SERVICES -p tcp -j KUBE-MARK-MASQ -j KUBE-SVC-AAAAAAAAAAAAAAAA",
                                      "-A KUBE-SERVICES -p tcp -g KUBE-SVC-AAAAAAAAAAAAAAAA",
                                      '-A KUBE-SERVICES -m comment --comment "a -j KUBE-SVC-AAAAAAAAAAAAAAAA" -j RETURN',
                                      "-A KUBE-SERVICES -p tcp"])
def test_rules_by_target_of_a_dispatch_chain_are_its_tokenised_rules_by_target(odd_line: str | None) -> None:
    """A chain whose lines have one ' -j ' each is indexed by target in C passes; any other line (two jumps, a
    goto, a jump in a comment, none) is read the general way (each line's first -j/-g, as before): the rules
    found are the same either way."""
    lines = _generated(30).split("\n")
    if odd_line is not None:
        at = next(i for i, ln in enumerate(lines) if "-A KUBE-SERVICES " in ln) + 5
        lines.insert(at, f"[0:0] {odd_line}")
    rules = parse_save.parse_iptables_save("\n".join(lines), "d", check_all=False)
    services = rules.tables["nat"].chains["KUBE-SERVICES"]
    tokenised = parse_save.parse_iptables_save("\n".join(lines), "d", check_all=True).tables["nat"].chains["KUBE-SERVICES"].rules
    for target in sorted({r.target for r in tokenised if r.target} | {"KUBE-SVC-AAAAAAAAAAAAAAAA", "RETURN", "NOPE"}):
        found = [(r.line_no, r.raw) for r in services.rules_targeting({target})]
        first = [(r.line_no, r.raw) for r in tokenised if (m := parse_save._LINE_TARGET.match(r.raw)) and m.group(1) == target]
        assert found == first, target
        if odd_line is None or odd_line.count(" -j ") + odd_line.count(" -g ") <= 1:  # (then the first is the target)
            assert found == [(r.line_no, r.raw) for r in tokenised if r.target == target], target


def test_line_numbers_of_rules_read_deep_in_a_big_dump() -> None:
    """Rules read far from any line already numbered are counted from a 64 KiB block's start: the evidence
    line is still the rule's own line, in whatever order the chains are read."""
    text = save_text(cluster_services(1500, 3), tables=("nat",))
    assert len(text) > parse_save._FAR * 3 // 2
    rules = parse_save.parse_iptables_save(text, "d", check_all=False)
    nat = rules.tables["nat"].chains
    names = [n for n in nat if n.startswith("KUBE-SEP-")]
    lines = text.split("\n")
    for name in [names[-1], names[len(names) // 2], names[3], "KUBE-SERVICES", names[-2]]:
        for rule in nat[name].rules:
            assert lines[rule.line_no - 1] == rule.raw, name


def test_a_dump_as_iptables_save_printed_it_is_scanned_once_and_a_cut_one_is_still_an_excerpt() -> None:
    """pipeline.cleaned: a dump every line of which has iptables-save's shapes gets the plain scan's passes
    (handed to the reader, which scans it no more) instead of the look for cuts and prompts; a cut mark or a
    prompt anywhere, or a prompt-like rule among the first lines, sends it the usual way."""
    from kubectl_svcpath import pipeline
    from kubectl_svcpath.dump import Collection, RuleDump

    text = _generated()
    whole = pipeline.cleaned(RuleDump(text=text, source="d"))
    assert isinstance(whole.feed, parse_save.PlainScan) and whole.feed.text is text and whole.clean and whole.save_lines
    parsed = pipeline.parse_collection(Collection(dumps=[whole]))
    assert parsed.rules is not None and len(parsed.rules.tables["nat"].chains) == len(_read(text, plain=False)[1]["nat"])

    lines = text.split("\n")
    deep = len(lines) // 2
    cut = pipeline.cleaned(RuleDump(text="\n".join([*lines[:deep], "...", *lines[deep:]]), source="d"))
    assert cut.feed is None and cut.elisions == (deep + 1,)
    prompt = pipeline.cleaned(RuleDump(text="\n".join([*lines[:deep], "$ iptables-save -t filter", *lines[deep:]]), source="d"))
    assert prompt.feed is None and prompt.text.split("\n")[deep] == "# $ iptables-save -t filter"
    head = pipeline.cleaned(RuleDump(text="\n".join([*lines[:3], "-A $ -j X", *lines[3:]]), source="d"))
    assert head.feed is None and head.text.split("\n")[3] == "# -A $ -j X"


def test_a_scan_handed_to_the_reader_is_read_once() -> None:
    """The reader empties the scan it took (its 10^5 names are not kept alive by the dump) and marks it used:
    a second read of the same dump scans the text itself, with the same result."""
    from kubectl_svcpath import pipeline
    from kubectl_svcpath.dump import Collection, RuleDump

    dump = pipeline.cleaned(RuleDump(text=_generated(), source="d"))
    first = pipeline.parse_collection(Collection(dumps=[dump]))
    assert not dump.feed.usable and not dump.feed.sections
    again = pipeline.parse_collection(Collection(dumps=[dump]))
    assert first.rules is not None and again.rules is not None
    assert list(first.rules.tables["nat"].chains) == list(again.rules.tables["nat"].chains)


@pytest.mark.parametrize("big", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_line_numbers_asked_in_any_order_are_the_lines_own(seed: int, big: bool) -> None:
    """line_no_of counts from the nearest line already numbered, before or after the one asked for (or from
    a 64 KiB block's start, far into a big dump): in whatever order, each answer is 1 + the newlines before it."""
    import random

    text = save_text(cluster_services(1500, 3), tables=("nat",)) if big else _generated()
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"][:-1]
    rnd = random.Random(seed)
    parser = parse_save._Parser(text, "d", False)
    for offset in rnd.sample(starts, 300) + rnd.sample(starts, 50):  # (some asked twice)
        assert parser.line_no_of(offset) == 1 + text.count("\n", 0, offset), offset


def _mixed(text: str, counted: bool) -> str:
    """``text`` with one rule line in the middle of the rules in the other shape: counters added or taken off."""
    lines = text.split("\n")
    i = next(i for i, ln in enumerate(lines) if "-A KUBE-SVC-" in ln)
    lines[i] = lines[i].split("] ", 1)[1] if counted else "[7:420] " + lines[i]
    return "\n".join(lines)


@pytest.mark.parametrize("counted", [True, False])
def test_runs_read_by_the_shape_of_the_first_rule_are_the_general_runs(counted: bool) -> None:
    """_run_names reads a table with the pattern of its first rule's shape (counters or none) and, when a
    line of the other shape or any other line is among the rules, with _RUN_NAMES: always _RUN_NAMES's runs."""
    require_shared()
    text = save_text(cluster_services(60, 3), counters=counted)
    texts = [text, _mixed(text, counted), _move_rule(text), text.replace("\n-A ", "\n-A  ", 1),
             text.replace("] -A ", "]  -A ", 3), text.replace("\n", "\r\n")]
    texts += [p.read_text(errors="replace") for p in sorted(DUMPS.glob("*.txt"))]
    read_again = 0
    for t in texts:
        for _, start, end in parse_save._sections(t) or []:
            first = parse_save._FIRST_RULE.search(t, start - 1, end)
            if first is not None:
                runs = parse_save._run_names(t, first.start(), end)
                assert runs == parse_save._RUN_NAMES.findall(t, first.start(), end)
                shaped = parse_save._COUNTED_RUN_NAMES if t.startswith("\n[", first.start()) else parse_save._BARE_RUN_NAMES
                read_again += shaped.findall(t, first.start(), end) != runs
    assert read_again == 1  # (the mixed table: the first pattern found a "" there and the general one read it)
    assert parse_save.plain_scan_of(_mixed(text, counted)) is not None  # (both shapes: still a plain dump)


_SECTION_OR_NOTICE = re.compile(r"\n(?:\*(\S+)\r?(?=\n|$)|COMMIT\r?(?=\n|$)|(# (?:Table|Warning|[^\n]*incompatible|[^\n]*[Ff]ailed)[^\n]*))")


def _sections_by_regex(text: str, notices: list[str]) -> list[tuple[str, int, int]] | None:
    """The tables and notices as regexes over every line find them (the plain scan's first pass until
    _plain_sections): the reference. (The pairing is _sections', which _fast_scan still uses: one regex
    for the table and COMMIT lines.)"""
    notices += [m.group(2).strip() for m in _SECTION_OR_NOTICE.finditer(text) if m.group(2) is not None]
    return parse_save._sections(text)


def _section_edits(text: str) -> list[str]:
    """``text`` with COMMIT and table lines added, doubled, dropped or bent in every place they can be."""
    first_rule = text.index("\n-A ") if "\n-A " in text else text.index("] -A ")
    decl = text.index("\n:KUBE-")
    commit = text.index("\nCOMMIT\n")
    warn = "# Warning: iptables-legacy tables present, use iptables-legacy-save to see them"
    return [
        text, text.replace("\n", "\r\n"), text[text.index("*"):], text.rstrip("\n"), text.replace("\nCOMMIT\n", "\nCOMMIT", 1),
        "COMMIT\n" + text, text.replace("\n*", "\nCOMMIT\n*", 1), text + "COMMIT\n", text + "*mangle\n",
        text.replace("\nCOMMIT\n", "\nCOMMIT\nCOMMIT\n", 1), text.replace("\nCOMMIT\n", "\n", 1),
        text[:decl] + "\nCOMMIT" + text[decl:], text[:first_rule] + "\nCOMMIT" + text[first_rule:],
        text[:decl] + "\n*raw" + text[decl:], text[:first_rule] + "\n*raw" + text[first_rule:],
        text.replace("\nCOMMIT\n", "\nCOMMITTED\n", 1), text.replace("\nCOMMIT\n", "\nCOMMIT x\n", 1),
        text.replace("\nCOMMIT\n", "\nCOMMITTED\nCOMMIT\n", 1), text.replace("\nCOMMIT\n", "\nCOMMIT\nCOMMITTED\n", 1),
        text.replace("\n*", "\n*nat extra\n*", 1), text.replace("\n*", f"\n{warn}\n*", 1), text + warn + "\n",
        text[:commit] + "\n# Table `nat' is incompatible, use 'nft' tool." + text[commit:],
        text.replace("-j ", '-m comment --comment "*nat # Warning: x" -j ', 3), text.replace("\n*", "\n *", 1),
        text.replace("\n*", "\n*\n*", 1), text.replace("*nat", "*nat\r", 1), text.replace("*filter", "*nat", 1),
    ]


def test_tables_paired_as_a_regex_over_every_line_pairs_them() -> None:
    """_plain_sections finds the tables from the few lines str.find lands on; with the plain scan's passes
    over the tables' lines it gives the scan a regex over every line gave: on every shared dump and corpus
    paste, and with COMMIT and table lines added, doubled, dropped or bent anywhere."""
    require_shared()
    paths = sorted(DUMPS.glob("*.txt")) + sorted((Path(__file__).parents[3] / "corpus").glob("*.txt"))
    texts = [p.read_text(errors="replace") for p in paths]
    texts += _section_edits(_generated(8)) + _section_edits(save_text(cluster_services(8, 2), counters=False))
    plain = 0
    for text in texts:
        found = parse_save.plain_scan_of(text)
        original = parse_save._plain_sections
        try:
            parse_save._plain_sections = _sections_by_regex
            expected = parse_save.plain_scan_of(text)
        finally:
            parse_save._plain_sections = original
        assert found == expected, text[:300]
        plain += found is not None
    assert plain >= 8  # (not all refused)
