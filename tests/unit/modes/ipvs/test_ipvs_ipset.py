"""kube-proxy's ipsets say what kind of address an IPVS virtual server is.

ipvsadm names no Service and no kind: ``TCP 10.96.0.10:53`` may be a cluster IP, an external or a
load-balancer IP. kube-proxy lists each cluster IP,proto:port in ``KUBE-CLUSTER-IP`` (external IPs in
``KUBE-EXTERNAL-IP``, load-balancer IPs in ``KUBE-LOAD-BALANCER``): a pasted ``ipset list`` is the
evidence. The course walk in tests/corpus (otus-minikube-*) pastes both; the ipset file was refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubectl_svcpath.modes.ipvs.ipset import parse_ipsets
from tests.conftest import ROOT, svcpath
from tests.lab.ipvsgen import IPVS_FILTER

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


# --- every set of kube-proxy's, whole, with its members (what --trace matches on) ---------------------

FIX = ROOT / "tests" / "fixtures" / "ipvs"
SOURCE_CIDR = """\
Name: KUBE-LOAD-BALANCER-SOURCE-CIDR
Type: hash:ip,port,net
Number of entries: 1
Members:
203.0.113.10,tcp:443,10.0.0.0/8

Name: KUBE-CLUSTER-IP
Type: hash:ip,port
Number of entries: 5
Members:
10.96.0.10,17:53
10.96.0.1,tcp:443
"""


@pytest.mark.parametrize("name,flags,packet,expected", [
    ("KUBE-CLUSTER-IP", "dst,dst", ("tcp", "10.101.173.15", 39090, None), True),
    ("KUBE-CLUSTER-IP", "dst,dst", ("udp", "10.101.173.15", 39090, None), False),  # (the protocol is the member's)
    ("KUBE-CLUSTER-IP", "dst,dst", ("tcp", "10.101.173.15", 80, None), False),
    ("KUBE-NODE-PORT-TCP", "dst", ("tcp", "172.18.0.2", 31576, None), True),
    ("KUBE-NODE-PORT-TCP", "dst", ("tcp", "172.18.0.2", 30000, None), False),
    ("KUBE-LOOP-BACK", "dst,dst,src", ("tcp", "192.168.189.15", 9090, "192.168.189.15"), True),
    ("KUBE-LOOP-BACK", "dst,dst,src", ("tcp", "192.168.189.15", 9090, "192.168.1.5"), False),
    ("KUBE-LOOP-BACK", "dst,dst,src", ("tcp", "192.168.189.15", 9090, None), "the packet's source address is not given"),
    ("KUBE-EXTERNAL-IP", "dst,dst", ("tcp", "203.0.113.10", 80, None), False),  # empty, and the listing says so
    ("KUBE-IPVS-IPS", "dst", ("tcp", "10.101.173.15", 1, None), True),
])
def test_a_match_on_a_listed_set_is_read_from_its_members(name, flags, packet, expected):
    sets, _ = parse_ipsets((FIX / "hello-ipset-list.txt").read_text(), "sets.txt")
    assert len(sets.sets) == 17 and all(s.whole for s in sets.sets.values())
    got = sets.sets[name].holds(flags, *packet)
    assert got == expected if not isinstance(expected, str) else expected in str(got)


def test_networks_protocol_numbers_and_a_cut_set():
    sets, _ = parse_ipsets(SOURCE_CIDR, "sets.txt")
    cidr = sets.sets["KUBE-LOAD-BALANCER-SOURCE-CIDR"]
    assert cidr.holds("dst,dst,src", "tcp", "203.0.113.10", 443, "10.1.2.3") is True
    assert cidr.holds("dst,dst,src", "tcp", "203.0.113.10", 443, "192.168.1.1") is False
    cut = sets.sets["KUBE-CLUSTER-IP"]  # (5 entries, 2 shown: the paste ends inside it)
    assert not cut.whole and cut.holds("dst,dst", "udp", "10.96.0.10", 53, None) is True
    assert "shows only part of its members" in str(cut.holds("dst,dst", "tcp", "10.96.0.99", 80, None))


# --- ipset-member-missing: a way in IPVS serves that kube-proxy's own set lacks ------------------------

MANIFEST = ROOT / "kubectl_svcpath" / "examples" / "hello-service" / "manifest.yaml"


def _hello(tmp_path: Path, sets: str, *args: str, filter_table: bool = False) -> tuple[int, str, str]:
    save = (FIX / "hello-iptables-save.txt").read_text() + (IPVS_FILTER if filter_table else "")
    (tmp_path / "save.txt").write_text(save)
    (tmp_path / "sets.txt").write_text(sets)
    return svcpath("default/hello-service", "--rules-file", str(tmp_path / "save.txt"), "--rules-file",
                   str(FIX / "hello-ipvsadm-Ln.txt"), "--rules-file", str(tmp_path / "sets.txt"),
                   "--manifest", str(MANIFEST), *args)


def test_a_node_port_its_set_lacks_is_a_warning(tmp_path: Path) -> None:
    code, out, err = _hello(tmp_path, (FIX / "hello-ipset-list-node-port-missing.txt").read_text(), "--explain")
    assert code == 0, err
    flat = " ".join(out.split())
    assert ("WARNING ipset-member-missing: port port-v2 49191/TCP: kube-proxy's KUBE-NODE-PORT-TCP does not hold node "
            "port 31576, which IPVS serves (TCP 172.18.0.2:31576)") in flat
    assert "The listing shows all of KUBE-NODE-PORT-TCP's members, and 31576 is not among them." in flat
    assert "sets.txt:86 Name: KUBE-NODE-PORT-TCP (1 member, all listed)" in flat
    assert flat.count("ipset-member-missing") == 2  # (the summary line and the finding: one node port, one finding)


def test_a_cluster_ip_its_set_lacks_is_rejected_where_the_filter_says_so(tmp_path: Path) -> None:
    sets = (FIX / "hello-ipset-list-cluster-ip-missing.txt").read_text()
    code, out, err = _hello(tmp_path, sets, "-o", "json", filter_table=True)
    assert code == 3, err
    (f,) = [f for f in json.loads(out)["findings"] if f["code"] == "ipset-member-missing"]
    assert f["severity"] == "error" and f["port"] == "port-v2"
    assert "kube-proxy's KUBE-CLUSTER-IP does not hold clusterIP 10.101.173.15:49191" in f["message"]
    assert any("new connections to 10.101.173.15:49191 are rejected" in d for d in f["detail"])
    assert any("-j REJECT" in e and "KUBE-IPVS-IPS" in e for e in f["evidence"])
    # no filter table in the input: whether they are rejected is not said
    code, out, err = _hello(tmp_path, sets, "-o", "json")
    assert code == 0, err
    (f,) = [f for f in json.loads(out)["findings"] if f["code"] == "ipset-member-missing"]
    assert f["severity"] == "warning" and any("whether such connections are rejected is not in it" in d for d in f["detail"])


def test_a_set_the_listing_does_not_show_whole_proves_nothing(tmp_path: Path) -> None:
    whole = (FIX / "hello-ipset-list.txt").read_text()
    code, out, err = _hello(tmp_path, whole, "-o", "json")
    assert code == 0 and "ipset-member-missing" not in out
    cut = "\n".join((FIX / "hello-ipset-list-cluster-ip-missing.txt").read_text().splitlines()[:19]) + "\n"
    assert cut.endswith("Members:\n")  # (KUBE-CLUSTER-IP's header says 1 entry; the paste ends before it)
    code, out, err = _hello(tmp_path, cut, "-o", "json")
    assert code == 0 and "ipset-member-missing" not in out


ONE_ADDRESS = """\
IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  172.18.0.2:31576 rr
  -> 192.168.189.15:9090          Masq    1      0          0
TCP  10.96.0.50:30725 rr
  -> 10.244.1.7:8080              Masq    1      0          0
"""


def test_a_node_port_on_one_address_is_told_by_the_sets_listed_whole(tmp_path: Path) -> None:
    # KUBE-NODE-PORT-TCP lists 31576 and 30725; KUBE-CLUSTER-IP, KUBE-EXTERNAL-IP(-LOCAL) and KUBE-LOAD-BALANCER are
    # listed whole (ipset 7's counts) and none holds 172.18.0.2,tcp:31576: a node port on a node address
    (tmp_path / "ipvs.txt").write_text(ONE_ADDRESS)
    listing, sets = str(tmp_path / "ipvs.txt"), str(FIX / "hello-ipset-list.txt")
    code, out, err = svcpath("TCP 172.18.0.2:31576", "--rules-file", listing, "--rules-file", sets)
    assert code == 0, err
    assert out.splitlines()[0].startswith("(unnamed) ?/TCP → 1 endpoint")
    assert ("IPVS names no Service: TCP 172.18.0.2:31576 is a node port on a node address (kube-proxy's ipset "
            "KUBE-NODE-PORT-TCP lists 31576)") in out
    code, out, err = svcpath("TCP 172.18.0.2:31576", "--rules-file", listing, "--rules-file", sets, "-o", "json")
    (port,) = json.loads(out)["ports"]
    assert (port["port"], port["nodePort"], [p["entry"] for p in port["paths"]]) == (None, 31576, ["nodePort"])


def test_a_service_address_whose_port_is_a_node_port_is_not_named_one(tmp_path: Path) -> None:
    # 10.96.0.50:30725 may be a cluster IP whose port is another Service's node port (KUBE-NODE-PORT-TCP lists 30725):
    # with KUBE-CLUSTER-IP not in the paste it was 'a node port on a node address' (entry nodePort, port null)
    node_ports = "\n".join((FIX / "hello-ipset-list.txt").read_text().splitlines()[85:95]) + "\n"
    assert node_ports.startswith("Name: KUBE-NODE-PORT-TCP\n") and node_ports.endswith("30725\n31576\n")
    (tmp_path / "ipvs.txt").write_text(ONE_ADDRESS)
    (tmp_path / "sets.txt").write_text(node_ports)
    args = ("--rules-file", str(tmp_path / "ipvs.txt"), "--rules-file", str(tmp_path / "sets.txt"))
    for address, port in (("10.96.0.50", 30725), ("172.18.0.2", 31576)):
        code, out, err = svcpath(f"TCP {address}:{port}", *args)
        assert code == 0, err
        assert out.splitlines()[0].startswith(f"(unnamed) {port}/TCP → 1 endpoint")
        assert (f"IPVS names no Service: TCP {address}:{port} may be a node port on a node address (kube-proxy's ipset "
                f"KUBE-NODE-PORT-TCP lists {port}, a node port of some Service) or a cluster, external or load-balancer "
                f"IP whose port is {port}: which is not in the input (KUBE-CLUSTER-IP, KUBE-EXTERNAL-IP, "
                "KUBE-EXTERNAL-IP-LOCAL, KUBE-LOAD-BALANCER: not in the input); which Service: kubectl get svc -A -o "
                f"wide | grep -w -e {address} -e {port}") in " ".join(out.split())
        assert "is a node port on a node address" not in out
        code, out, err = svcpath(f"TCP {address}:{port}", *args, "-o", "json")
        (got,) = json.loads(out)["ports"]
        assert (got["port"], got["nodePort"], [p["entry"] for p in got["paths"]]) == (port, None, ["virtualServer"])
    # ssup2/blog-software's four sets: KUBE-CLUSTER-IP's count says 1 above 3 members, KUBE-EXTERNAL-IP is not there
    listing = str(CORPUS / "ssup2-ipvsadm-excerpt-node-ports-lb.txt")
    sets = str(CORPUS / "ssup2-ipset-list-node-port-tcp-lb-count-off.txt")
    code, out, err = svcpath("TCP 172.35.0.100:30781", "--rules-file", listing, "--rules-file", sets)
    assert code == 0, err
    assert ("which is not in the input (KUBE-EXTERNAL-IP, KUBE-EXTERNAL-IP-LOCAL: not in the input; KUBE-CLUSTER-IP: "
            "not listed whole)") in " ".join(out.split())
    # without the sets nothing hints at a node port
    code, out, err = svcpath("TCP 172.35.0.100:30781", "--rules-file", listing)
    assert "may be a cluster IP, an external or load-balancer IP or a node address" in out
