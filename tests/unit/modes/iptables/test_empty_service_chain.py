"""A way in that leads to a chain the input shows empty (or a whole nat table lacks) is not "rules OK".

kube-proxy's own test dump with ns1/svc1's KUBE-SVC chain declared and its rules gone read "p80 80/TCP → 0
endpoints — rules OK": its cluster IP's rule jumps to a chain that picks no endpoint, so kube-proxy's rules DNAT
nothing there. An empty KUBE-EXT chain read "DROP (no local endpoints)" with "traffic policy Local": kube-proxy
writes none of a Service's chains empty, so emptiness says nothing of a policy.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import DUMPS, svcpath

DUMP = DUMPS / "upstream-iptables-proxier-test-TestOverallIPTablesRules.txt"


def _without(tmp_path: Path, prefix: str) -> str:
    f = tmp_path / "dump.txt"
    f.write_text("".join(line for line in DUMP.read_text().splitlines(keepends=True) if not line.startswith(prefix)))
    return str(f)


def test_a_service_chain_shown_empty_programs_nothing(tmp_path: Path) -> None:
    dump = _without(tmp_path, "-A KUBE-SVC-XPGD46QRK7WJZT7O ")
    code, out, err = svcpath("ns1/svc1", "--rules-file", dump)
    assert code == 3, err
    flat = " ".join(out.split())
    assert "rules OK" not in out
    assert ("ERROR service-not-programmed: port p80 80/TCP: clusterIP 172.30.0.41:80 leads to KUBE-SVC-XPGD46QRK7WJZT7O, "
            "which the input shows with no rule: no endpoint is picked, nothing is DNAT'ed") in flat, out
    code, out, err = svcpath("ns1/svc1", "--rules-file", str(DUMP))
    assert code == 0 and "service-not-programmed" not in out  # (the whole dump: its jump to an endpoint)


def test_an_external_chain_shown_empty_is_no_local_policy(tmp_path: Path) -> None:
    """ns2/svc2 (Local, no local endpoints) with its KUBE-EXT chain emptied: the filter table's "has no local
    endpoints" DROPs still meet its external traffic (not DNAT'ed, the packet reaches them as it is); its
    node port's 127.0.0.0/8 rule, which no DROP names, leads to the empty chain."""
    dump = _without(tmp_path, "-A KUBE-EXT-GNZBNJ2PO5MGZ6GT ")
    code, out, err = svcpath("ns2/svc2", "--rules-file", dump)
    flat = " ".join(out.split())
    assert ("service-not-programmed: port p80 80/TCP: node port 3001 leads to KUBE-EXT-GNZBNJ2PO5MGZ6GT, which the "
            "input shows with no rule") in flat, out
    rows = {" ".join(r.split()[:2]) for r in out.splitlines() if "DROP (no local endpoints)" in r}
    assert rows == {"externalIP 192.168.99.22:80", "loadBalancer 1.2.3.4:80", "nodePort *:3001"}, out
    code, out, err = svcpath("ns2/svc2", "--rules-file", str(DUMP))
    assert "no-local-endpoints" in out and "service-not-programmed" not in out


def test_an_external_chain_listed_empty_says_no_policy(tmp_path: Path) -> None:
    """The same in an -L listing of the chain alone, shown whole (another chain listed after it)."""
    lines = (Path(__file__).resolve().parents[4] / "tests" / "corpus" / "robric-k3s129-L-n-v-arrow-marks.txt").read_text().splitlines()
    header = lines.index("Chain KUBE-EXT-W47NQ5DDJKUWFTVY (2 references)")
    f = tmp_path / "listed.txt"
    f.write_text("\n".join(lines[: header + 2]) + "\n\nChain KUBE-MARK-MASQ (1 references)\n"
                 " pkts bytes target     prot opt in     out     source               destination\n")
    code, out, err = svcpath("--rules-file", str(f), "KUBE-SVC-W47NQ5DDJKUWFTVY")
    flat = " ".join(out.split())
    assert "no-local-endpoints" not in out and "traffic policy Local" not in out and "DROP" not in out.split("Findings:")[1]
    assert ("its way in (not in the input) leads to KUBE-EXT-W47NQ5DDJKUWFTVY, which the input shows with no rule: "
            "no endpoint is picked, nothing is DNAT'ed") in flat, out
