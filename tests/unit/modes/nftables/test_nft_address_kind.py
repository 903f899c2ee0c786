"""An address known only from ``no-endpoint-services`` has no kind unless the table says it.

kube-proxy puts every kind of service address in that map (``goto reject-chain``: no endpoints;
``drop``: a Local traffic policy and no endpoint on this node), and its elements carry no kind.
1.30+ tables list the active cluster IPs in the ``cluster-ips`` set; 1.29's tables (and pastes cut
above it) have no such set. The plugin called every such address an external IP, with
externalTrafficPolicy Local on a drop: a confident wrong sentence about a Service with no endpoints.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import DUMPS, svcpath

# the shape of kube-proxy 1.29's table (no cluster-ips set, no cluster-ips-check chain), three Services:
# ns1/web has endpoints (service-ips names its cluster IP and external IP; the external IP drops: eTP Local),
# ns2/db has none (both its addresses reject), ns3/api drops its one address (a Local policy, which one unknown)
TABLE_129 = """\
table ip kube-proxy {
\tcomment "rules for kube-proxy"
\tmap no-endpoint-services {
\t\ttype ipv4_addr . inet_proto . inet_service : verdict
\t\tcomment "vmap to drop or reject packets to services with no endpoints"
\t\telements = { 203.0.113.7 . tcp . 80 comment "ns1/web:http" : drop,
\t\t\t     10.96.0.20 . tcp . 5432 comment "ns2/db:pg" : goto reject-chain,
\t\t\t     203.0.113.8 . tcp . 5432 comment "ns2/db:pg" : goto reject-chain,
\t\t\t     10.96.0.30 . tcp . 443 comment "ns3/api:https" : drop }
\t}

\tmap service-ips {
\t\ttype ipv4_addr . inet_proto . inet_service : verdict
\t\tcomment "ClusterIP, ExternalIP and LoadBalancer IP traffic"
\t\telements = { 10.96.0.10 . tcp . 80 : goto service-DK7ABAZC-ns1/web/tcp/http,
\t\t\t     203.0.113.7 . tcp . 80 : goto external-DK7ABAZC-ns1/web/tcp/http }
\t}

\tchain filter-input {
\t\ttype filter hook input priority -110; policy accept;
\t\tct state new jump service-endpoints-check
\t}

\tchain service-endpoints-check {
\t\tip daddr . meta l4proto . th dport vmap @no-endpoint-services
\t}

\tchain reject-chain {
\t\tcomment "helper for @no-endpoint-services / @no-endpoint-nodeports"
\t\treject
\t}

\tchain nat-prerouting {
\t\ttype nat hook prerouting priority -100; policy accept;
\t\tjump services
\t}

\tchain services {
\t\tip daddr . meta l4proto . th dport vmap @service-ips
\t}

\tchain mark-for-masquerade {
\t\tmeta mark set meta mark | 0x00004000
\t}

\tchain service-DK7ABAZC-ns1/web/tcp/http {
\t\tip daddr 10.96.0.10 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade
\t\tnumgen random mod 1 vmap { 0 : goto endpoint-XBVINTKS-ns1/web/tcp/http__10.244.1.5/8080 }
\t}

\tchain external-DK7ABAZC-ns1/web/tcp/http {
\t\tip saddr 10.244.0.0/16 goto service-DK7ABAZC-ns1/web/tcp/http comment "short-circuit pod traffic"
\t\tfib saddr type local jump mark-for-masquerade comment "masquerade local traffic"
\t\tfib saddr type local goto service-DK7ABAZC-ns1/web/tcp/http comment "short-circuit local traffic"
\t}

\tchain endpoint-XBVINTKS-ns1/web/tcp/http__10.244.1.5/8080 {
\t\tip saddr 10.244.1.5 jump mark-for-masquerade
\t\tmeta l4proto tcp dnat to 10.244.1.5:8080
\t}
}
"""


def _table(tmp_path: Path) -> str:
    f = tmp_path / "kube-proxy-129.nft"
    f.write_text(TABLE_129)
    return str(f)


def _service(dump: str, name: str) -> dict:
    code, out, err = svcpath(name, "--rules-file", dump, "-o", "json")
    assert code in (0, 3), err
    return json.loads(out)


def test_a_no_endpoint_address_without_the_cluster_ips_set_is_of_unknown_kind(tmp_path: Path) -> None:
    dump = _table(tmp_path)
    doc = _service(dump, "ns2/db")
    svc = doc["service"]
    # (no list of external or load-balancer IPs: either kind may be among the addresses of unknown kind)
    assert svc["externalIPs"] is None and svc["clusterIPs"] is None and svc["loadBalancerIPs"] is None
    assert svc["unknownKindIPs"] == ["10.96.0.20", "203.0.113.8"]
    assert svc["type"] is None  # an address of unknown kind may be a load balancer's
    assert [(p["entry"], p["address"], p["verdict"]) for p in doc["ports"][0]["paths"]] == [
        ("address", "10.96.0.20", "reject"), ("address", "203.0.113.8", "reject")]
    assert "kind of 10.96.0.20, 203.0.113.8 (cluster, external or load-balancer IP): not in the input" in doc["notInInput"]
    code, out, err = svcpath("ns2/db", "--rules-file", dump)
    assert code == 3, err
    assert "externalIP" not in out and "external IPs" not in out
    assert "addresses 10.96.0.20,203.0.113.8 (kind not in the input)" in out
    code, out, err = svcpath("ns2/db", "--rules-file", dump, "-o", "tree")
    assert "address 10.96.0.20:5432" in out and "externalIP" not in out


def test_a_drop_for_an_address_of_unknown_kind_leaves_both_policies_unknown(tmp_path: Path) -> None:
    svc = _service(_table(tmp_path), "ns3/api")["service"]
    assert svc["unknownKindIPs"] == ["10.96.0.30"] and svc["externalIPs"] is None
    # internalTrafficPolicy Local drops a cluster IP, externalTrafficPolicy Local an external one: which, not shown
    assert svc["externalTrafficPolicy"] is None and svc["internalTrafficPolicy"] is None


def test_service_ips_still_tells_the_kind_of_a_no_endpoint_address(tmp_path: Path) -> None:
    doc = _service(_table(tmp_path), "ns1/web")
    svc = doc["service"]
    # service-ips leads 203.0.113.7 to the external chain: an external IP or a load-balancer IP, which the
    # rules do not tell (kube-proxy writes both alike; only a firewall-ips element proves a load balancer's)
    assert svc["clusterIPs"] == ["10.96.0.10"] and svc["externalOrLoadBalancerIPs"] == ["203.0.113.7"]
    assert svc["externalIPs"] is None and svc["loadBalancerIPs"] is None and svc["type"] is None
    assert "unknownKindIPs" not in svc and svc["externalTrafficPolicy"] == "Local"
    kinds = {p["address"]: p["entry"] for p in doc["ports"][0]["paths"]}
    assert kinds == {"10.96.0.10": "clusterIP", "203.0.113.7": "external"}
    assert ("kind of 203.0.113.7 (external or load-balancer IP: only a firewall-ips element tells): not in the input"
            in doc["notInInput"])


def test_the_all_table_claims_no_cluster_ip_for_an_address_of_unknown_kind(tmp_path: Path) -> None:
    code, out, err = svcpath("--rules-file", _table(tmp_path), "--all")
    assert code == 3, err
    rows = {line.split()[1]: line.split() for line in out.splitlines() if line.startswith("ns")}
    assert rows["db"][2:4] == ["?", "?"]  # TYPE, CLUSTER-IP
    assert rows["web"][2:4] == ["?", "10.96.0.10"]  # an external IP, or a load balancer's: the type not shown


def test_a_port_with_no_endpoints_shows_no_traffic_policy(tmp_path: Path) -> None:
    """kube-proxy writes only a no-endpoint element for such a port: no chain says Cluster or Local."""
    svc = _service(_table(tmp_path), "ns2/db")["service"]
    assert svc["internalTrafficPolicy"] is None and svc["externalTrafficPolicy"] is None
    k3s = str(Path(__file__).parents[4] / "tests" / "corpus" / "k3s-notes-nft-list-table-kube-proxy-unnamed-port.txt")
    code, out, err = svcpath("riset/otelcol-opentelemetry-collector", "--rules-file", k3s, "-o", "json")
    doc = json.loads(out)
    assert doc["service"]["internalTrafficPolicy"] is None  # whole table, cluster IP known, yet no chain shows it
    assert "internalTrafficPolicy: not in the input" in doc["notInInput"]
    code, out, err = svcpath("riset/hellopod-np-svc", "--rules-file", k3s, "-o", "json")
    svc = json.loads(out)["service"]
    assert (svc["internalTrafficPolicy"], svc["externalTrafficPolicy"]) == ("Cluster", "Cluster")  # service-/external- chains


UPSTREAM = DUMPS / "upstream-nftables-proxier-test-TestOverallNFTablesRules.txt"


def test_an_external_chain_address_is_an_external_or_load_balancer_ip() -> None:
    """ns2/svc2 of kube-proxy's own test is a LoadBalancer (1.2.3.4) with an external IP (192.168.99.22):
    its table leads both to the external chain alike. The plugin called it a NodePort with two external IPs."""
    code, out, err = svcpath("ns2/svc2", "--rules-file", str(UPSTREAM))
    assert code == 0, err
    assert "type ?  cluster IP 172.30.0.42  external or LB IPs 192.168.99.22,1.2.3.4" in out
    assert "NodePort" not in out and "externalIP" not in out
    assert ("Unknown:  type (LoadBalancer, or another type with external IPs: nftables rules write both kinds of"
            " address alike): not in the input") in out
    code, out, err = svcpath("--rules-file", str(UPSTREAM), "--all")
    rows = {line.split()[1]: line.split() for line in out.splitlines() if line.startswith("ns")}
    assert rows["svc2"][2] == "?" and rows["svc5"][2] == "LoadBalancer"  # (svc5: firewall-ips names its LB IP)


def test_session_affinity_is_unknown_without_the_service_chain(tmp_path: Path) -> None:
    """A table without ns1/svc1's service chain does not show its affinity: no "None" stands in for it."""
    lines = UPSTREAM.read_text().splitlines(keepends=True)
    cut = tmp_path / "no-service-chain.nft"
    cut.write_text("".join(line for line in lines if "kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80" not in line))
    svc = _service(str(cut), "ns1/svc1")
    assert svc["service"]["sessionAffinity"] is None and "sessionAffinity: not in the input" in svc["notInInput"]
    whole = _service(str(UPSTREAM), "ns1/svc1")
    assert whole["service"]["sessionAffinity"] == "None"  # its chain shows no affinity set: proved
    assert _service(str(UPSTREAM), "ns5/svc5")["service"]["sessionAffinity"] == "ClientIP"
