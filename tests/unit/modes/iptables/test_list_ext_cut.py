"""An iptables -L listing that stops in a KUBE-EXT chain right after its masquerade rule was cut there.

The bundled example's listing (kube-proxy's pod, examples/hello-service/iptables-L-in-kube-proxy-pod.txt) cut after
KUBE-EXT-R4PDB35TUPNR4CEW's first rule read as a whole chain that jumps nowhere: "warning: no-local-endpoints ...
(entry not in the input) traffic is dropped here", ENDPOINTS "0 local", of a Cluster-policy NodePort. kube-proxy
writes an external chain's masquerade rule only before the jump to the service chain (Cluster) or the rule routing
LOCAL traffic to it (Local), as it does a service chain's before the endpoints' jumps (found by cutting the
corpus' pastes at random lines and reading every absence the reports claimed).
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import svcpath

LISTING = Path(__file__).resolve().parents[4] / "kubectl_svcpath" / "examples" / "hello-service" / "iptables-L-in-kube-proxy-pod.txt"


def test_an_external_chain_that_stops_at_its_masquerade_rule_was_cut(tmp_path: Path) -> None:
    lines = LISTING.read_text().splitlines()
    header = lines.index("Chain KUBE-EXT-R4PDB35TUPNR4CEW (1 references)")
    assert lines[header + 3].split()[3:4] == ["KUBE-SVC-R4PDB35TUPNR4CEW"]  # (the chain as kube-proxy wrote it)
    f = tmp_path / "cut.txt"
    f.write_text("\n".join(lines[: header + 3]) + "\n")
    code, out, err = svcpath("--rules-file", str(f), "--all")
    assert code == 0, err
    assert "no-local-endpoints" not in out
    row = next(r for r in out.splitlines() if r.startswith("default "))
    assert " ".join(row.split()).endswith("? - ?: not in the input"), out  # (ENDPOINTS "?", was "0 local")
    code, out, err = svcpath("--rules-file", str(f), "hello-service", "--port", "port-v1")
    assert ("chain KUBE-EXT-R4PDB35TUPNR4CEW is listed down to its masquerade rule and no further (line "
            f"{header + 3}): kube-proxy writes the jump to the service chain after that rule") in " ".join(out.split()), out


def test_kube_services_listed_without_its_last_rule_was_cut(tmp_path: Path) -> None:
    """A real -L paste (tests/corpus/zakaria-k8s-cp-nat-L-hidden-matches.txt) cut inside nat KUBE-SERVICES, after
    kube-dns' UDP entry: its TCP ports were "error: service-not-programmed: no rule on this node sends traffic to
    it". kube-proxy ends KUBE-SERVICES with the jump to KUBE-NODEPORTS (its comment: "this must be the last rule in
    this chain"); a listing of it without that jump last was cut (found by tests/fuzz/cuts.py, seed 8)."""
    lines = (LISTING.parents[3] / "tests" / "corpus" / "zakaria-k8s-cp-nat-L-hidden-matches.txt").read_text().splitlines()
    services = lines.index("Chain KUBE-SERVICES (2 references)")
    f = tmp_path / "cut.txt"
    f.write_text("\n".join(lines[: services + 4]) + "\n")
    assert "kube-dns:dns cluster IP" in lines[services + 3]
    code, out, err = svcpath("--rules-file", str(f), "--all")
    assert "service-not-programmed" not in out, out
    code, out, err = svcpath("--rules-file", str(f), "kube-system/kube-dns")
    assert (f"chain KUBE-SERVICES is listed down to line {services + 4} and no further: kube-proxy ends it with the "
            "jump to KUBE-NODEPORTS, so the listing was cut there") in " ".join(out.split()), out


def test_a_service_chain_listed_empty_at_the_pastes_end_was_cut(tmp_path: Path) -> None:
    """A real -L paste (tests/corpus/robric-k3s129-L-n-v-arrow-marks.txt, a k3s v1.29 session) cut right under
    KUBE-EXT-W47NQ5DDJKUWFTVY's column heads read as an external chain that jumps nowhere: "warning:
    no-local-endpoints ... traffic is dropped here", ENDPOINTS "0 local", port "?/TCP" (found by tests/fuzz/cuts.py,
    seed 36). kube-proxy writes none of a Service's chains empty; the protocol was a default."""
    lines = (LISTING.parents[3] / "tests" / "corpus" / "robric-k3s129-L-n-v-arrow-marks.txt").read_text().splitlines()
    header = lines.index("Chain KUBE-EXT-W47NQ5DDJKUWFTVY (2 references)")
    assert lines[header + 2].startswith("-->")  # (its two rules in the whole paste)
    f = tmp_path / "cut.txt"
    f.write_text("\n".join(lines[: header + 2]) + "\n")
    code, out, err = svcpath("--rules-file", str(f), "--all")
    assert code == 0, err
    assert "no-local-endpoints" not in out and "local" not in out.split("\n")[1]
    code, out, err = svcpath("--rules-file", str(f), "KUBE-SVC-W47NQ5DDJKUWFTVY")
    flat = " ".join(out.split())
    assert "DROP (no local" not in out and "(unnamed) ?/? → endpoints not in the input" in flat, out
    assert ("chain KUBE-EXT-W47NQ5DDJKUWFTVY is listed with no rule and the paste ends under its column heads: "
            "kube-proxy writes none of a Service's chains empty, so the paste was cut there") in flat
    # listed empty with another chain after it: shown whole (nothing is read as cut)
    f.write_text("\n".join(lines[: header + 2]) + "\n\nChain KUBE-MARK-MASQ (1 references)\n"
                 " pkts bytes target     prot opt in     out     source               destination\n")
    code, out, err = svcpath("--rules-file", str(f), "KUBE-SVC-W47NQ5DDJKUWFTVY")
    assert "the paste was cut there" not in " ".join(out.split()), out
