"""The plain scan run piece by piece while a node's iptables-save arrives (save_feed.py) gives the
reports the whole-text scan gives: on every shared dump and corpus paste, cut at random newlines, and
on hand-made dumps that take the other paths (a bare "-A" line, a chain in two runs, tables that do
not pair, a long line, CRLF)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kubectl_svcpath import pipeline
from kubectl_svcpath.dump import Collection, RuleDump
from kubectl_svcpath.errors import SvcpathError
from kubectl_svcpath.modes.iptables.parse_save import _fed_tables
from kubectl_svcpath.modes.iptables.save_feed import SaveFeed
from tests.conftest import DUMPS, ROOT

SAVE_FILES = sorted(p for p in [*DUMPS.glob("*.txt"), *(ROOT / "tests" / "corpus").glob("*.txt")]
                    if "iptables" in p.name and "-L" not in p.name)


def _pieces(text: str, rnd: random.Random, most: int) -> list[str]:
    """``text`` cut after random newlines, each piece at most about ``most`` characters (a line is never cut)."""
    out, i = [], 0
    while i < len(text):
        nl = text.rfind("\n", i, i + rnd.randint(1, most))
        j = nl + 1 if nl >= i else (text.find("\n", i) + 1 or len(text))
        out.append(text[i:j])
        i = j
    return out


def _fed(text: str, pieces: list[str]) -> SaveFeed:
    feed = SaveFeed()
    for p in pieces:
        feed.feed(p)
    feed.done(text)
    return feed


def _reports(text: str, feed: SaveFeed | None) -> list[dict] | str:
    """What -o json shows for each Service the rules describe (or the one error line)."""
    dump = RuleDump(text=text, source="node n1 pod kube-system/kube-proxy-x: iptables-save -c", format="iptables-save",
                    kind="pod", feed=feed)
    coll = Collection(dumps=[dump], node="n1")
    try:
        parsed = pipeline.parse_collection(coll)
        return [pipeline.analyse(s, parsed, coll).to_dict() for s in pipeline.infer_services(parsed)]
    except SvcpathError as e:
        return f"{type(e).__name__}: {e.message}"


def _assert_same(text: str, seed: int) -> SaveFeed:
    rnd = random.Random(seed)
    whole = _reports(text, None)
    feed = None
    for most in (3, 40, 4096, 1 << 20):
        feed = _fed(text, _pieces(text, rnd, most))
        assert _reports(text, feed) == whole, f"pieces of up to {most} characters"
    assert feed is not None
    return feed


@pytest.mark.parametrize("path", SAVE_FILES, ids=lambda p: p.name)
def test_fed_pass_gives_the_same_reports_on_real_dumps(path: Path) -> None:
    text = path.read_text(errors="replace")
    _assert_same(text, 1)


def test_a_plain_dump_takes_the_feed() -> None:
    text = (DUMPS / "upstream-iptables-proxier-test-TestOverallIPTablesRules.txt").read_text()
    feed = _assert_same(text, 2)
    assert feed.usable and [s.name for s in feed.sections] == ["filter", "nat"]
    nat = feed.sections[1]
    assert nat.start < nat.head < nat.end and "KUBE-SERVICES" in nat.decls and "KUBE-SERVICES" in nat.runs
    assert _fed_tables(text, feed) is not None


BASE = "upstream-iptables-proxier-test-TestOverallIPTablesRules.txt"


def _variants() -> dict[str, tuple[str, bool]]:
    """Hand-made dumps: (text, whether the feed can be used for it: else the parser reads the text itself)."""
    base = (DUMPS / BASE).read_text()
    lines = base.split("\n")
    first_rule = next(i for i, line in enumerate(lines) if line.startswith("-A "))

    def with_line(i: int, line: str) -> str:
        return "\n".join([*lines[:i], line, *lines[i:]])

    return {
        "no header": ("\n".join(line for line in lines if not line.startswith("# ")), True),
        "bare -A line before the rules": (with_line(first_rule, "-A KUBE-SERVICES"), True),
        "a chain's rules in two runs": (base.replace("COMMIT", lines[first_rule] + "\nCOMMIT", 1), True),
        "a warning line": (with_line(1, "# Warning: iptables-legacy tables present, use iptables-legacy-save to see them"), True),
        "CRLF": (base.replace("\n", "\r\n"), True),
        "a declaration among the rules": (with_line(first_rule + 2, ":KUBE-NEW - [0:0]"), True),
        "counters": ("\n".join("[1:2] " + line if line.startswith("-A") else line for line in lines), True),
        "no final newline": (base.rstrip("\n"), True),
        "a rule outside a table": (base.replace("COMMIT\n", "COMMIT\n-A FOO -j ACCEPT\n", 1), True),
        "COMMIT missing": (base.replace("COMMIT\n", "", 1), False),
        "a long line": (with_line(first_rule, "-A KUBE-SERVICES " + "x" * 70000), False),
        "garbage among the declarations": (with_line(first_rule, "garbage here"), True),
        "garbage between the tables": (base.replace("COMMIT\n", "COMMIT\ngarbage here\n", 1), False),
    }


@pytest.mark.parametrize("name", list(_variants()))
def test_fed_pass_gives_the_same_reports_on_hand_made_dumps(name: str) -> None:
    text, used = _variants()[name]
    feed = _assert_same(text, 3)
    assert feed.usable is used


def test_a_feed_is_used_only_for_the_text_it_saw() -> None:
    text = (DUMPS / BASE).read_text()
    feed = _fed(text, _pieces(text, random.Random(4), 100))
    changed = text.replace("KUBE-SVC-", "KUBE-SVC-X", 1)
    assert _reports(changed, feed) == _reports(changed, None)
    short = _fed(text, _pieces(text, random.Random(5), 100)[:-1])
    assert not short.usable
