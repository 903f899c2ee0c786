"""Two listings of a course walk on minikube (tests/corpus/dkspace-minikube-*), read wrong before 2026-11-30.

- The whole nat table listed right after kube-proxy was switched to IPVS mode: KUBE-SERVICES matches KUBE-CLUSTER-IP,
  and the iptables-mode KUBE-SVC chains are still there, "(0 references)". It was read as iptables mode: every
  Service "error: service-not-programmed". Those chains are leftovers; the Services are in IPVS, not in the paste.
  The paste starts with `minikube ssh` and its login banner (was refused at line 1).
- A KUBE-SVC chain listed under its header down to its masquerade rule and cut there by the author: taken as whole,
  "0 endpoints … rules OK", endpoint MISSING. kube-proxy writes that rule only in a chain it fills with endpoint jumps.
"""

from __future__ import annotations

import json

from tests.conftest import ROOT, svcpath

CORPUS = ROOT / "tests" / "corpus"
SWITCHED = str(CORPUS / "dkspace-minikube-nat-list-nv-ipvs-switch-stale-svc.txt")
CUT = str(CORPUS / "dkspace-minikube-svc-chain-list-nv.txt")


def test_ipvs_mode_with_iptables_mode_leftovers_is_ipvs_mode() -> None:
    code, out, err = svcpath("--rules-file", SWITCHED, "--all")
    assert code == 9, out + err
    assert "service-not-programmed" not in out + err
    assert ("these iptables rules are kube-proxy's IPVS mode (ipset KUBE-LOOP-BACK, KUBE-CLUSTER-IP, its 7 KUBE-SVC "
            "chains left over from iptables mode: no rule jumps to them)") in err
    assert "ipvsadm -Ln" in err


def test_a_cut_of_it_without_ipvs_modes_own_chains_is_ipvs_mode_too(tmp_path) -> None:
    """Its lines from KUBE-KUBELET-CANARY to a leftover KUBE-SVC chain, IPVS mode's KUBE-NODE-PORT chain not among
    them but KUBE-SERVICES' jump to it: read as iptables mode, "service-not-programmed: no rule on this node sends
    traffic to it" (found by tests/fuzz/cuts.py)."""
    lines = open(SWITCHED).read().splitlines()
    first = lines.index("Chain KUBE-KUBELET-CANARY (0 references)")
    last = next(i for i, line in enumerate(lines) if line.startswith("Chain KUBE-SVC-")) + 2
    assert not any(line.startswith(("Chain KUBE-NODE-PORT ", "Chain KUBE-LOAD-BALANCER ")) for line in lines[first:last])
    cut = tmp_path / "cut.txt"
    cut.write_text("\n".join(lines[first:last]) + "\n")
    code, out, err = svcpath("--rules-file", str(cut), "--all")
    assert code == 9, out + err
    assert "service-not-programmed" not in out + err
    assert "these iptables rules are kube-proxy's IPVS mode (ipset KUBE-CLUSTER-IP, its 1 KUBE-SVC chain left over" in err


def test_a_service_chain_cut_after_its_masquerade_rule_is_not_whole() -> None:
    code, out, err = svcpath("default/web-svc-cip", "--rules-file", CUT, "-o", "json")
    assert code == 0, err
    report = json.loads(out)
    (port,) = report["ports"]
    (path,) = port["paths"]
    assert path["verdict"] == "not-in-input" and path["endpoints"] == []
    assert "KUBE-SVC-6CZTMAROCN3AQODZ: in the input in part, the rest of its rules (the endpoints' jumps) are not" \
        in port["notInInput"]
    code, out, _ = svcpath("default/web-svc-cip", "--rules-file", CUT)
    assert "MISSING" not in out and "no endpoints" not in out
    assert ("chain KUBE-SVC-6CZTMAROCN3AQODZ is listed down to its masquerade rule and no further (line 3): "
            "kube-proxy writes the endpoints' jumps after that rule, so the listing was cut there") in out
