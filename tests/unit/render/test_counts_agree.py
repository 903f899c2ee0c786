"""Counts agree with their nouns, as kubectl and English say them: "1 pkt", "2 pkts", "0 errors", "1 warning".

A user review found "0 error, 0 warning, 3 ok" under --all and "[1 pkts, 60B]" in the tree; the verdict
line said "1 of 1 endpoints". Every view the product prints is read here on the shared dumps and the
bundled example, and no count may disagree with the word after it.
"""

from __future__ import annotations

import json
import re

import pytest

from kubectl_svcpath.render.audit import totals_line
from tests.conftest import DUMPS, EXAMPLE, require_shared, svcpath

# the nouns the product counts; "N <noun>" must be singular exactly when N is 1
NOUNS = ("error", "warning", "endpoint", "port", "Service", "pkt", "packet", "line", "chain", "rule", "node",
         "byte", "branch", "server", "slice", "pod", "counter", "connection", "hop", "entry", "command", "set", "map")
_NOUN = "|".join(NOUNS)
ONE_PLURAL = re.compile(rf"(?<![\d.,:/%-])\b1 (?:of 1 )?(?:[a-z-]+ )?(?:{_NOUN}|entrie|branche)s\b")
MANY_SINGULAR = re.compile(rf"(?<![\d.,:/%-])\b(?:0|[2-9]|\d\d+) (?:of \d+ )?(?:{_NOUN})\b(?![s\w-])")


def disagreements(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ONE_PLURAL.search(ln) or MANY_SINGULAR.search(ln)]


def _inputs() -> list[str]:
    files = sorted(p for p in EXAMPLE.iterdir() if p.suffix in (".txt", ".json") and p.name != "README.md")
    if DUMPS.is_dir():
        files += sorted(p for p in DUMPS.iterdir() if p.suffix in (".txt", ".json"))
    return [str(p) for p in files]


def test_the_pattern_catches_what_the_review_found():
    assert disagreements("5 Services, 5 ports, 6 endpoints: 0 error, 1 warning, 4 ok") == [
        "5 Services, 5 ports, 6 endpoints: 0 error, 1 warning, 4 ok"]
    assert disagreements("   └─ 100%  KUBE-SEP-X -> 10.0.0.1:80  [1 pkts, 60B]  ready")
    assert disagreements("p80 80/TCP → 1 of 1 endpoints (ready), 0 pkts — OK")
    assert not disagreements("5 Services, 1 port, 1 endpoint: 0 errors, 1 warning, 4 ok, 1 not in the input")
    assert not disagreements("[1 pkt, 60B]  10.0.0.1:80  100%  1.1 pkts/s  kube-proxy 1.29 rules")


def test_audit_totals_agree():
    code, out, err = svcpath("--example", "--all")
    assert code == 0, err
    assert out.splitlines()[-1] == "1 Service, 2 ports, 1 endpoint: 0 errors, 1 warning, 0 ok"
    many = {"services": 4, "ports": 1, "endpoints": 0, "error": 1, "warning": 2, "ok": 1, "unknown": 0}
    assert totals_line(many) == "4 Services, 1 port, 0 endpoints: 1 error, 2 warnings, 1 ok"


def test_tree_counters_say_one_pkt():
    code, out, err = svcpath("--example", "-o", "tree")
    assert code == 0, err
    assert "192.168.189.15:9191  [1 pkt, 60B]" in out and "[2 pkts, 120B]" in out, out
    assert "[1 pkts" not in out


@pytest.mark.parametrize("source", _inputs(), ids=lambda s: s.rsplit("/", 1)[-1][:60])
def test_every_view_agrees(source: str):
    require_shared()
    shown = []
    for view in (["--all"], ["--all", "-o", "wide"]):
        shown.append(svcpath("--rules-file", source, "--lenient", *view)[1])
    code, out, _ = svcpath("--rules-file", source, "--lenient", "--all", "-o", "json")
    items = json.loads(out)["items"] if code in (0, 3) and out.startswith("{") else []
    for item in items[:4]:
        name = f"{item['service']['namespace']}/{item['service']['name']}"
        for view in (["-o", "tree"], ["--explain"], ["-o", "wide"]):
            shown.append(svcpath("--rules-file", source, "--lenient", name, *view)[1])
    assert [ln for text in shown for ln in disagreements(text)] == []
