"""externalTrafficPolicy: Local chains cut by their author are not read as a node without local endpoints.

kube-proxy ends a KUBE-EXT chain (1.24+) at its "route LOCAL traffic" rule when the node has no local endpoint (the
filter table drops the rest) and adds the jump to KUBE-SVL after it when it has some: a listing cut at that row
reads the same as a whole one, so the drop is said only of a whole table or by the filter's "has no local
endpoints" rule. A KUBE-XLB chain (before 1.24) never ends there (its local endpoints' jumps or its DROP follow), nor
does a service chain end at a ClientIP affinity check (the endpoints' jumps follow). Real pastes, cut where an
author might have stopped copying: robric's vm2 `-L KUBE-EXT-…` (its SVL jump counted 2 packets), serena's pod-owned
node's `-L KUBE-XLB-…` (its 'Balancing rule 0' follows), the AKS blog's `-nL KUBE-SVC-…` with three affinity checks.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import DUMPS, corpus_cut as _cut, svcpath

CORPUS = Path(__file__).resolve().parents[3] / "corpus"


def _flat(out: str) -> str:
    return " ".join(out.split())


def test_an_ext_chain_listed_down_to_its_route_local_rule_is_not_a_drop(tmp_path: Path) -> None:
    f = _cut(tmp_path, "robric-k3s129-L-n-v-arrow-marks.txt", 18, 23)
    assert "route LOCAL traffic" in Path(f).read_text().splitlines()[-1]
    code, out, err = svcpath("--rules-file", f, "default/nginx-mlb-l2-service")
    assert code == 0, err
    flat = _flat(out)
    assert "DROP (no local endpoint" not in flat and "no-local-endpoints" not in flat, out
    assert "the rule after its 'route LOCAL traffic' one (a jump to KUBE-SVL-W47NQ5DDJKUWFTVY when the node has local " \
           "endpoints; none when it has none, and the filter table drops the rest) is not" in flat, out
    code, out, err = svcpath("--rules-file", f, "--all")
    row = next(r for r in out.splitlines() if r.startswith("default "))
    assert row.rstrip().endswith("?: not in the input") and "0 local" not in row, out


def test_bare_ext_lines_down_to_route_local_name_the_svl_chain_not_shown(tmp_path: Path) -> None:
    f = _cut(tmp_path, "robric-k3s129-S-v-counters-two-states.txt", 11, 15)
    code, out, err = svcpath("--rules-file", f, "default/nginx-mlb-l2-service")
    assert code == 0, err
    flat = _flat(out)
    assert "no-local-endpoints" not in flat and "a jump to KUBE-SVL-W47NQ5DDJKUWFTVY when the node has local" in flat, out


def test_a_whole_table_or_the_filter_drop_still_says_no_local_endpoints(tmp_path: Path) -> None:
    for dump in ("upstream-iptables-proxier-test-TestOverallIPTablesRules.txt",
                 "derived-netns-iptables-L-n-v-x-nat-from-upstream-TestOverallIPTablesRules.txt"):
        code, out, err = svcpath("--rules-file", str(DUMPS / dump), "--all")
        row = next(r for r in out.splitlines() if r.startswith("ns2 "))
        assert "warning: no-local-endpoints" in row, (dump, out)
    # the chain alone, listed from the whole listing above: whether its SVL jump was cut is not in the input
    lines = (DUMPS / "derived-netns-iptables-L-n-v-x-nat-from-upstream-TestOverallIPTablesRules.txt").read_text().splitlines()
    f = tmp_path / "ext.txt"
    f.write_text("\n".join(lines[17:22]) + "\n")
    code, out, err = svcpath("--rules-file", str(f), "ns2/svc2")
    assert code == 0 and "no-local-endpoints" not in out and "KUBE-SVL-GNZBNJ2PO5MGZ6GT" in out, out


def test_an_xlb_chain_listed_down_to_its_route_local_rule_was_cut(tmp_path: Path) -> None:
    f = _cut(tmp_path, "serena-k8s117-L-xlb-local-endpoint-node.txt", 1, 12)
    code, out, err = svcpath("--rules-file", f, "default/echo-local")
    assert code == 0, err
    flat = _flat(out)
    assert "MISSING" not in flat and "0 endpoints" not in flat and "rules OK" not in flat, out
    assert "KUBE-XLB-WVR3FY6OQL4XX3DZ is listed down to line 12 and no further" in flat, out
    assert "the local endpoints' jumps, or its 'has no local endpoints' DROP" in flat, out
    # the node without local endpoints: the paste's own DROP
    code, out, err = svcpath("--rules-file", str(CORPUS / "serena-k8s117-L-xlb-no-local-endpoints-master01.txt"), "default/echo-local")
    assert "no-local-endpoints" in out, out


def test_a_service_chain_listed_down_to_an_affinity_check_was_cut(tmp_path: Path) -> None:
    f = _cut(tmp_path, "aks-blog-L-svc-chain-recent-check.txt", 1, 5)
    code, out, err = svcpath("--rules-file", f, "--all")
    assert code == 0, err
    row = next(r for r in out.splitlines() if "KUBE-SVC-K4VUERBNKSOP4S25" in r)
    assert " 2+? " in row and " ok" not in row, out
    code, out, err = svcpath("--rules-file", str(CORPUS / "aks-blog-L-svc-chain-recent-check.txt"), "--all")
    row = next(r for r in out.splitlines() if "KUBE-SVC-K4VUERBNKSOP4S25" in r)
    assert " 3 " in row and row.endswith("?: not in the input"), out  # (the endpoint chains' DNATs are not in it)


def test_the_endpoints_a_local_chain_picks_are_the_nodes(tmp_path: Path) -> None:
    """serena's pod-owned node, `-L KUBE-XLB-…` whole: its one endpoint is this node's, one of the Service's three
    echo pods. It read "1 endpoint", as if the Service had one; a Cluster chain's endpoints still read plain."""
    paste = str(CORPUS / "serena-k8s117-L-xlb-local-endpoint-node.txt")
    code, out, err = svcpath("--rules-file", paste, "--all")
    assert code == 0, err
    rows = {line.split()[1]: line.split() for line in out.splitlines() if line.startswith("default ")}
    assert rows["echo-local"][5:7] == ["1", "local"], out
    code, out, err = svcpath("default/echo-local", "--rules-file", paste)
    assert " → 1 local endpoint (state not in the input)" in out.splitlines()[0], out
    code, out, err = svcpath("ns1/svc1", "--rules-file", str(DUMPS / "upstream-iptables-proxier-test-TestOverallIPTablesRules.txt"))
    assert out.startswith("p80 80/TCP → 1 endpoint (state not in the input)"), out


def test_the_drop_cites_the_external_chains_own_last_rule(tmp_path: Path) -> None:
    """A whole nat table proves the drop by KUBE-EXT ending at its 'route LOCAL traffic' rule (no jump to KUBE-SVL
    after it): no-local-endpoints cites that rule, once, beside the entry rules (and the filter's 'has no local
    endpoints' DROPs when the input has them). It cited the entry rules alone, which show no Local policy at all."""
    listing = DUMPS / "derived-netns-iptables-L-n-v-x-nat-from-upstream-TestOverallIPTablesRules.txt"
    save = DUMPS / "upstream-iptables-proxier-test-TestOverallIPTablesRules.txt"
    for dump, line in ((listing, 22), (save, 60)):
        code, out, err = svcpath("--rules-file", str(dump), "ns2/svc2", "--explain")
        assert code == 0, err
        cited = [ln for ln in out.splitlines() if ln.startswith(f"      evidence: {dump}:{line} ")]
        assert len(cited) == 1 and "route LOCAL traffic for ns2/svc2:p80 external destinations" in cited[0], out
    assert "has no local endpoints" in out  # (the save's filter DROPs are still cited)
