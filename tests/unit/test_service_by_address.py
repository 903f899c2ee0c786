"""Offline, the Service asked for by the address a user has at hand ("clients cannot reach 10.96.0.10:53"): its
cluster, external or load-balancer IP, with or without the port. Only a bare cluster IP was found: `10.96.0.10:53`
and the load balancer's `1.2.3.4` were 'service ... not found in the rules' of dumps that hold them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import DUMPS, svcpath

FLANNEL = str(DUMPS / "repo-blog-flannel-k8s-master-iptables-save.txt")
SAVE = str(DUMPS / "upstream-iptables-proxier-test-TestOverallIPTablesRules.txt")
NFT = str(DUMPS / "upstream-nftables-proxier-test-TestOverallNFTablesRules.txt")


def _verdicts(out: str) -> list[str]:
    """The verdict lines above the report's header (one per service port)."""
    return [ln for ln in out.split("\n\n", 1)[0].splitlines() if not ln.startswith(" ")]


def test_address_and_port_names_the_service_and_keeps_that_port() -> None:
    code, out, err = svcpath("--rules-file", FLANNEL, "10.96.0.10:9153")
    assert (code, err) == (0, ""), err
    assert "Service:  kube-system/kube-dns  type ClusterIP  cluster IP 10.96.0.10" in out
    assert [v.split(" →")[0] for v in _verdicts(out)] == ["metrics 9153/TCP"]
    code, out, _ = svcpath("--rules-file", FLANNEL, "10.96.0.10:53")  # dns (UDP) and dns-tcp share the port
    assert code == 0 and [v.split(" →")[0] for v in _verdicts(out)] == ["dns 53/UDP", "dns-tcp 53/TCP"]
    code, out, _ = svcpath("--rules-file", FLANNEL, "UDP 10.96.0.10:53")  # as an IPVS entry is named
    assert code == 0 and [v.split(" →")[0] for v in _verdicts(out)] == ["dns 53/UDP"]
    code, out, _ = svcpath("--rules-file", FLANNEL, "10.96.0.10")  # the address alone: every port, as before
    assert code == 0 and len(_verdicts(out)) == 3


@pytest.mark.parametrize("dump", [SAVE, NFT])
@pytest.mark.parametrize("address", ["1.2.3.4", "1.2.3.4:80", "192.168.99.22:80", "172.30.0.42:80"])
def test_load_balancer_and_external_ips_name_their_service(dump: str, address: str) -> None:
    code, out, err = svcpath("--rules-file", dump, address)
    assert err == "" and code == 0, err
    assert "Service:  ns2/svc2  type " in out and "cluster IP 172.30.0.42" in out  # (nftables: type ?, an external or LB IP)


def test_an_address_on_another_port_is_not_found() -> None:
    code, out, err = svcpath("--rules-file", FLANNEL, "10.96.0.10:54")
    assert (code, out) == (4, "") and err.startswith('error: service "10.96.0.10:54" not found in the rules\n'), err


def test_an_address_several_services_share_asks_which(tmp_path: Path) -> None:
    """ns5/svc5's load balancer moved to ns2/svc2's address: two Services on 1.2.3.4:80. It said 'exists in several
    namespaces', which the user did not ask about."""
    shared = tmp_path / "shared-lb.txt"
    shared.write_text(Path(SAVE).read_text().replace("5.6.7.8", "1.2.3.4"))
    code, out, err = svcpath("--rules-file", str(shared), "1.2.3.4")
    assert (code, out, err) == (2, "", 'error: "1.2.3.4" is an address of several Services in the input (ns2/svc2, '
                                       'ns5/svc5): name one (NAMESPACE/NAME), or add the port (ADDRESS:PORT)\n')
    code, _, err = svcpath("--rules-file", str(shared), "1.2.3.4:80")
    assert code == 2 and err.endswith("(ns2/svc2, ns5/svc5): name one (NAMESPACE/NAME)\n"), err
