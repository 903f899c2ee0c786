"""`iptables -S -v` prints each rule's counters inside it, before its target ("-A X … -c 12 720 -j Y"):
such a paste has counters, and the report must not say it has none."""

from __future__ import annotations

import json

from kubectl_svcpath.modes.iptables.parse_save import parse_iptables_save
from tests.conftest import ROOT, svcpath

PASTE = ROOT / "tests/corpus/robric-k3s129-S-v-counters-two-states.txt"  # (real: `sudo iptables -t nat -S CHAIN -v`)


def test_a_paste_of_iptables_S_v_has_counters() -> None:
    code, out, err = svcpath("default/nginx-mlb-l2-service", "--rules-file", str(PASTE), "--lenient", "-o", "json")
    assert code in (0, 3), err
    doc = json.loads(out)
    assert [s["counters"] for s in doc["sources"]] == [True]
    assert not any("no packet counters" in n for n in doc["notes"]), doc["notes"]


def test_counters_inside_a_rule_are_read_and_a_comment_naming_them_is_not() -> None:
    inside = parse_iptables_save("-A KUBE-SVC-X -m comment --comment \"a\" -c 7 420 -j KUBE-SEP-Y\n", "s.txt")
    assert inside.dumps[0].has_counters
    rule = inside.table("nat").chains["KUBE-SVC-X"].rules[0]
    assert (rule.packets, rule.bytes, rule.target) == (7, 420, "KUBE-SEP-Y")
    quoted = parse_iptables_save("-A KUBE-SVC-X -m comment --comment \"-c 7 420 is not here\" -j KUBE-SEP-Y\n", "s.txt")
    assert not quoted.dumps[0].has_counters


def test_the_verdict_counts_the_endpoints_when_only_the_entry_counters_are_missing() -> None:
    """The paste lists the service chain with its jumps' counters but no entry rule: the verdict says which
    counters the input lacks and what the endpoints' say, not "counters not in the input"."""
    code, out, err = svcpath("default/nginx-mlb-l2-service", "--rules-file", str(PASTE), "--lenient")
    assert code in (0, 3), err
    assert out.splitlines()[0].startswith("(unnamed) 80/TCP → 6 endpoints (state not in the input), "
                                          "entry counters not in the input, 0 pkts to the endpoints — "), out
