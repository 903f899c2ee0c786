"""kube-proxy's ipsets say what kind of address an IPVS virtual server is.

ipvsadm names no Service and no kind: ``TCP 10.96.0.10:53`` may be a cluster IP, an external or a
load-balancer IP. kube-proxy lists each cluster IP,proto:port in ``KUBE-CLUSTER-IP`` (external IPs in
``KUBE-EXTERNAL-IP``, load-balancer IPs in ``KUBE-LOAD-BALANCER``): a pasted ``ipset list`` is the
evidence. The course walk in tests/corpus (otus-minikube-*) pastes both; the ipset file was refused.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT, svcpath

CORPUS = ROOT / "tests" / "corpus"
IPVSADM = str(CORPUS / "otus-minikube-ipvsadm-list-n.txt")
IPSET = str(CORPUS / "otus-minikube-ipset-list.txt")
# ipset without /etc/protocols prints protocol numbers; an external IP's set; IPv6 sets are KUBE-6-…
OTHER_SETS = """\
Name: KUBE-EXTERNAL-IP
Type: hash:ip,port
Members:
203.0.113.10,6:80

Name: KUBE-6-LOAD-BALANCER
Type: hash:ip,port
Members:
2001:db8::10,tcp:443
"""
OTHER_IPVS = """\
IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  203.0.113.10:80 rr
  -> 10.244.1.5:8080              Masq    1      0          0
TCP  [2001:db8::10]:443 rr
  -> [fd00:10:244::5]:8443        Masq    1      0          0
"""


def _entries(*args: str) -> list[tuple[str, str]]:
    code, out, err = svcpath(*args, "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    return [(p["entry"], p["address"]) for pp in doc["ports"] for p in pp["paths"]]


def test_kube_cluster_ip_members_make_their_virtual_servers_cluster_ips() -> None:
    assert _entries("10.97.181.101", "--rules-file", IPVSADM, "--rules-file", IPSET) == [("clusterIP", "10.97.181.101")]
    code, out, err = svcpath("10.97.181.101", "--rules-file", IPVSADM, "--rules-file", IPSET, "-o", "json")
    doc = json.loads(out)
    assert doc["service"]["clusterIPs"] == ["10.97.181.101"]
    assert any(ref.endswith("otus-minikube-ipset-list.txt:15") for ref in doc["ports"][0]["paths"][0]["evidence"])
    assert doc["notes"][0].startswith("IPVS names no Service: TCP 10.97.181.101:80 is a cluster IP (kube-proxy's ipset lists it)")
    # without the ipset listing the kind is not in the input
    assert _entries("10.97.181.101", "--rules-file", IPVSADM) == [("virtualServer", "10.97.181.101")]


def test_one_paste_with_both_listings_and_a_protocol_to_tell_tcp_from_udp(tmp_path: Path) -> None:
    both = tmp_path / "both.txt"
    both.write_text(Path(IPVSADM).read_text() + Path(IPSET).read_text())
    code, out, err = svcpath("10.96.0.10:53", "--rules-file", str(both))
    assert code == 2 and 'name one as --all lists it, e.g. "TCP 10.96.0.10:53"' in err
    assert _entries("UDP 10.96.0.10:53", "--rules-file", str(both)) == [("clusterIP", "10.96.0.10")]


def test_external_and_ipv6_load_balancer_sets(tmp_path: Path) -> None:
    (tmp_path / "ipvs.txt").write_text(OTHER_IPVS)
    (tmp_path / "sets.txt").write_text(OTHER_SETS)
    files = ("--rules-file", str(tmp_path / "ipvs.txt"), "--rules-file", str(tmp_path / "sets.txt"))
    assert _entries("203.0.113.10:80", *files) == [("externalIP", "203.0.113.10")]
    assert _entries("2001:db8::10", *files) == [("loadBalancer", "2001:db8::10")]


def test_an_ipset_listing_alone_says_what_is_missing() -> None:
    code, out, err = svcpath("10.96.0.1", "--rules-file", IPSET)
    assert code == 4 and "holds kube-proxy's ipsets (ipset list) but no IPVS virtual server: pass `ipvsadm -Ln`" in err
    code, out, err = svcpath("--all", "--rules-file", IPSET)
    assert code == 0 and "Note: the input holds kube-proxy's ipsets" in out
