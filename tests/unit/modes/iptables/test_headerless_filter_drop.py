"""A filter table's "has no local endpoints" DROP grepped out of `iptables -L` (tests/corpus/k8s-127937-…): the line
has no chain header, and kube-proxy writes such a DROP to KUBE-SERVICES for a cluster IP (internalTrafficPolicy Local)
and to KUBE-EXTERNAL-SERVICES for an external or load-balancer IP (externalTrafficPolicy Local). The grep was refused
at SUSE's root prompt ('node-1:~ # iptables -L | grep …'); read, its address was called a cluster IP and the Service
'internalTrafficPolicy Local' (the post's address is MetalLB's). Now the address is of a kind not in the input."""

from __future__ import annotations

import json

from tests.conftest import ROOT, svcpath

PASTE = str(ROOT / "tests" / "corpus" / "k8s-127937-L-grep-suse-prompt-no-local-endpoints.txt")


def test_the_drops_address_is_of_no_kind_the_input_shows() -> None:
    code, out, err = svcpath("services/controller-3", "--rules-file", PASTE, "-o", "json")
    assert code == 0, err
    report = json.loads(out)
    svc = report["service"]
    assert not svc["clusterIPs"] and svc["unknownKindIPs"] == ["192.168.64.128"]
    assert svc["internalTrafficPolicy"] is None and svc["externalTrafficPolicy"] is None
    (path,) = report["ports"][0]["paths"]
    assert (path["entry"], path["address"], path["verdict"], path["portShown"]) == ("address", "192.168.64.128", "drop", True)


def test_the_text_says_what_is_not_known() -> None:
    code, out, err = svcpath("services/controller-3", "--rules-file", PASTE)
    assert code == 0, err
    assert "addresses 192.168.64.128 (kind not in the input)" in out
    assert "Unknown:  internalTrafficPolicy: not in the input" in out
    assert "\nPolicy:" not in out and "shows no port match" not in out
    assert "iptables -L listing: the filter table (as the pasted command says)" in out
