"""--trace on a Service with many endpoints: its trace grows with the endpoints, not with their square.

kube-proxy's service chain has one random rule per endpoint; the packet that passes rules 1 to k-1 and
is taken by rule k used to carry k choices, so -o yaml of a 1,000-endpoint Service was ~100 MB (40,000
endpoints: 6.5 GB of memory, then MemoryError). The rules a branch went on past are one choice now,
with the product of their probabilities; each endpoint's share of new connections is unchanged, and a
share too small for a whole percent is written as it is, never "0%".

As text, such a trace printed a verdict line naming every endpoint, a note per endpoint address and a
section per branch (300 endpoints: 5,109 lines); it now says how many endpoints and names the first,
gives one note for the addresses, and shows one branch for the ways alike but for their endpoint, the
rest as a count (-o wide keeps every branch).
"""

from __future__ import annotations

import json

from tests.conftest import svcpath
from tests.lab.kpgen import PortSpec, ProxyConfig, ServiceSpec, save_text


def _service(n: int) -> ServiceSpec:
    eps = [f"10.244.{i // 250}.{i % 250 + 2}" for i in range(n)]
    return ServiceSpec("shop", "big", "10.96.0.50", [PortSpec("http", 80, 8080)], endpoints=eps)


def _trace(tmp_path, n: int, *args: str, node_ip: bool = True) -> tuple[int, str, str]:
    (tmp_path / "nat.txt").write_text(save_text([_service(n)], ProxyConfig(cluster_cidr="10.244.0.0/16", jumps=True)))
    return svcpath("big", "-n", "shop", "--rules-file", str(tmp_path / "nat.txt"), "--trace", "203.0.113.7",
                   *(("--node-ip", "172.18.0.2") if node_ip else ()), *args)


def test_a_branch_carries_one_choice_for_the_random_rules_it_went_on_past(tmp_path):
    code, out, err = _trace(tmp_path, 300, "-o", "json")
    assert code == 0, err
    branches = json.loads(out)["traces"][0]["branches"]
    delivered = [b for b in branches if b["verdict"] == "delivered"]
    assert len(delivered) == 300
    assert {len(b["choices"]) for b in delivered} <= {1, 2}
    by_endpoint = {b["endpoint"]["ip"]: b["choices"] for b in delivered}
    # (rule 1 is the masquerade rule; rules 2-301 jump to the endpoints in order, the last one without a
    # statistic match: the packet that went on past the 299 before it takes it)
    last = by_endpoint[_service(300).endpoints[-1]]
    assert [(c["taken"], c["where"].rpartition(" ")[2]) for c in last] == [("not matched", "#2-300")], last
    assert "going on past 299 rules" in last[0]["why"], last
    before = by_endpoint[_service(300).endpoints[-2]]
    assert [(c["taken"], c["where"].rpartition(" ")[2]) for c in before] == [("not matched", "#2-299"), ("matched", "#300")], before
    for b in delivered:  # each endpoint still gets 1/300 of new connections
        assert abs(b["share"] - 1 / 300) < 1e-6, b["choices"]
    code, half, err = _trace(tmp_path, 150, "-o", "json")
    assert code == 0, err
    assert len(out) < 2.2 * len(half)  # twice the endpoints, twice the trace (it was four times: n^2)


def test_a_share_below_a_whole_percent_is_not_printed_as_none(tmp_path):
    code, out, err = _trace(tmp_path, 3000)
    assert code == 0, err
    assert "0.033% of new connections" in out, out[:3000]
    assert " 0% of new connections" not in out

    code, out, err = svcpath("big", "-n", "shop", "--rules-file", str(tmp_path / "nat.txt"), "-o", "wide")
    assert code == 0, err
    assert "0.033%" in out and " 0% " not in out, out[:3000]


def test_the_text_trace_of_many_endpoints_shows_one_way_and_counts_the_rest(tmp_path):
    code, out, err = _trace(tmp_path, 300, node_ip=False)
    assert code == 0, err
    lines = out.splitlines()
    assert "Verdict:  delivered to one of 300 endpoints (10.244.0.2:8080, 10.244.0.3:8080, 10.244.0.4:8080 and 297 more)" in lines
    notes = [x for x in lines if x.startswith("Note:")]
    assert notes == ["Note:     the node's addresses are not known (give --node-ip): 10.244.0.2, 10.244.0.3, 10.244.0.4 and 297 "
                     "more were taken as not local, so the packets were followed through FORWARD"], notes
    rows = [x.split()[:3] for x in lines if x.startswith("  ") and " delivered " in x]
    assert rows == [["1", "delivered", "10.244.0.2:8080"], ["2", "delivered", "10.244.0.3:8080"],
                    ["3", "delivered", "10.244.0.4:8080"], ["4-300", "delivered", "297"]], rows
    assert "297 more endpoints  0.3% each" in out
    assert [x for x in lines if x.startswith("Branch ")] == [next(x for x in lines if x.startswith("Branch 1: delivered -> 10.244.0.2:8080"))]
    assert "  (branches 2-300 take this same way to the 299 other endpoints, each through its own endpoint chain: -o wide lists them)" in lines
    assert len(lines) < 40, out

    code, out, err = _trace(tmp_path, 300, "-o", "wide")
    assert code == 0, err
    assert sum(x.startswith("Branch ") for x in out.splitlines()) == 300


def test_a_few_endpoints_are_each_named_and_shown(tmp_path):
    code, out, err = _trace(tmp_path, 3)
    assert code == 0, err
    assert "Verdict:  delivered to 10.244.0.2:8080, 10.244.0.3:8080, 10.244.0.4:8080" in out
    assert [x.split(",")[0] for x in out.splitlines() if x.startswith("Branch ")] == [
        "Branch 1: delivered -> 10.244.0.2:8080", "Branch 2: delivered -> 10.244.0.3:8080", "Branch 3: delivered -> 10.244.0.4:8080"]


def test_random_rules_apart_are_not_one_choice() -> None:
    """Only rules next to each other are one run: a rule between them is not a random rule passed."""
    from kubectl_svcpath.trace.model import Choice

    def passed(where: str) -> Choice:
        return Choice("random", where, "f:1", "not matched", 0.5, "random: probability 0.5 of going on")

    run = passed("nat KUBE-SVC-X #2").went_on(passed("nat KUBE-SVC-X #3"))
    assert run is not None and run.where == "nat KUBE-SVC-X #2-3" and run.factor == 0.25 and "past 2 rules" in run.why
    longer = run.went_on(passed("nat KUBE-SVC-X #4"))
    assert longer is not None and longer.where == "nat KUBE-SVC-X #2-4" and "past 3 rules" in longer.why
    assert run.went_on(passed("nat KUBE-SVC-X #5")) is None  # (rule 4 between)
    assert passed("nat KUBE-SVC-X #2").went_on(passed("nat KUBE-SVC-Y #3")) is None  # (another chain)


def test_outside_decides_every_hairpin_match_in_one_note(tmp_path) -> None:
    """--trace outside decides each endpoint chain's hairpin match ('-s ENDPOINT/32'): one note for the
    300 of them (there was a note for each)."""
    (tmp_path / "nat.txt").write_text(save_text([_service(300)], ProxyConfig(cluster_cidr="10.244.0.0/16", jumps=True)))
    code, out, err = svcpath("big", "-n", "shop", "--rules-file", str(tmp_path / "nat.txt"), "--trace", "outside",
                             "--node-ip", "172.18.0.2")
    assert code == 0, err
    notes = [x for x in out.splitlines() if x.startswith("Note:")]
    assert notes == [
        "Note:     outside: a client outside the cluster is not in 10.244.0.0/16 (the pod range kube-proxy's rules give "
        "the cluster): decided, not forked",
        "Note:     outside: a client outside the cluster is none of the 300 endpoints' own addresses (10.244.0.2/32, "
        "10.244.0.3/32, 10.244.0.4/32 and 297 more: each endpoint chain's hairpin match): decided, not forked"], notes
    assert "Verdict:  delivered to one of 300 endpoints" in out


def test_two_or_three_unplaced_addresses_are_each_named(tmp_path) -> None:
    """The not-local note names a few addresses in full ("a, b and c"), and only counts the rest past three."""
    code, out, err = _trace(tmp_path, 3, node_ip=False)
    assert code == 0, err
    notes = [x for x in out.splitlines() if x.startswith("Note:")]
    assert notes == ["Note:     the node's addresses are not known (give --node-ip): 10.244.0.2, 10.244.0.3 and 10.244.0.4 "
                     "were taken as not local, so the packets were followed through FORWARD"], notes
