"""What the tool says when kube-proxy's nftables table and the API disagree.

Each case changes one thing in a real input (the upstream table or its manifest) and checks the
finding a user would see, with its evidence, and the exit code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from kubectl_svcpath.modes.nftables.checks import notes_nftables
from kubectl_svcpath.modes.nftables.correlate import add_conntrack_counts, correlate_nftables, infer_services_nftables
from kubectl_svcpath.manifest import load_objects, snapshot_from_objects
from kubectl_svcpath.parse.conntrack import looks_like_conntrack, parse_conntrack
from kubectl_svcpath.modes.nftables.parse_text import parse_nft_text
from tests.conftest import DUMPS, ROOT, require_shared, svcpath

UPSTREAM = "upstream-nftables-proxier-test-TestOverallNFTablesRules.txt"
MANIFEST = ROOT / "tests/fixtures/nft/upstream-services.yaml"


def manifest_with(tmp_path: Path, change) -> str:
    doc = yaml.safe_load(MANIFEST.read_text())
    change(doc["items"])
    f = tmp_path / "manifest.yaml"
    f.write_text(yaml.safe_dump(doc))
    return str(f)


def dump_with(tmp_path: Path, old: str, new: str) -> str:
    require_shared()
    text = (DUMPS / UPSTREAM).read_text()
    assert old in text
    f = tmp_path / "nft.txt"
    f.write_text(text.replace(old, new))
    return str(f)


def item(items: list[dict], kind: str, ns: str) -> dict:
    return next(i for i in items if i["kind"] == kind and i["metadata"]["namespace"] == ns)


def run(service: str, dump: str, manifest: str) -> tuple[int, dict[str, Any]]:
    code, out, err = svcpath(service, "--rules-file", dump, "--manifest", manifest, "-o", "json")
    assert out, err
    return code, json.loads(out)


def findings(doc: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["code"] == code]


def test_no_endpoint_map_but_ready(tmp_path):
    def ready(items):
        item(items, "EndpointSlice", "ns6")["endpoints"] = [
            {"addresses": ["10.180.0.6"], "conditions": {"ready": True}, "nodeName": "node1"}]
    require_shared()
    code, doc = run("ns6/svc6", str(DUMPS / UPSTREAM), manifest_with(tmp_path, ready))
    assert code == 3
    (f,) = findings(doc, "no-endpoint-map-but-ready")
    assert f["severity"] == "error"
    assert "rejects clusterIP 172.30.0.46:80" in f["message"] and f["message"].endswith("list 1 usable endpoint")
    assert any(":148" in e and 'comment "ns6/svc6:p80" : goto reject-chain' in e for e in f["evidence"])
    assert not findings(doc, "no-endpoints")


def test_stale_endpoint_and_unprogrammed_endpoint(tmp_path):
    def change(items):
        eps = item(items, "EndpointSlice", "ns4")["endpoints"]
        eps[1]["addresses"] = ["10.180.0.9"]  # 10.180.0.5 is gone, 10.180.0.9 is new and ready
    require_shared()
    code, doc = run("ns4/svc4", str(DUMPS / UPSTREAM), manifest_with(tmp_path, change))
    assert code == 3
    (stale,) = findings(doc, "stale-endpoint")
    assert "10.180.0.5:80" in stale["message"] and "50%" in stale["message"]
    (missing,) = findings(doc, "endpoint-not-programmed")
    assert "10.180.0.9:80" in missing["message"]
    assert "endpoint-5" not in missing["message"] or "ns4/svc4/tcp/p80__10.180.0.9/80" in missing["message"]
    (port,) = doc["ports"]
    assert port["missingEndpoints"][0]["chain"].endswith("-ns4/svc4/tcp/p80__10.180.0.9/80")


def test_target_port_mismatch(tmp_path):
    def change(items):
        item(items, "EndpointSlice", "ns1")["ports"][0]["port"] = 8080
    require_shared()
    code, doc = run("ns1/svc1", str(DUMPS / UPSTREAM), manifest_with(tmp_path, change))
    assert code == 3
    msgs = [f["message"] for f in findings(doc, "target-port-mismatch")]
    assert any("DNAT to 10.180.0.1:80 but the EndpointSlice says port 8080" in m for m in msgs)


def test_one_way_in_not_programmed(tmp_path):
    def change(items):
        item(items, "Service", "ns3")["spec"]["externalIPs"] = ["192.168.99.44"]
    require_shared()
    code, doc = run("ns3/svc3", str(DUMPS / UPSTREAM), manifest_with(tmp_path, change))
    assert code == 3
    (f,) = findings(doc, "service-not-programmed")
    assert "externalIP 192.168.99.44:80/TCP is in neither service-ips or no-endpoint-services" in f["message"]


def test_whole_service_not_programmed(tmp_path):
    def change(items):
        svc = item(items, "Service", "ns1")
        svc["spec"]["clusterIP"] = svc["spec"]["clusterIPs"][0] = "172.30.0.99"
    require_shared()
    code, doc = run("ns1/svc1", str(DUMPS / UPSTREAM), manifest_with(tmp_path, change))
    assert code == 3
    assert doc["ports"][0]["paths"] == []
    assert len(findings(doc, "service-not-programmed")) == 1


def test_address_reused_by_another_service(tmp_path):
    dump = dump_with(tmp_path, "172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80",
                     "172.30.0.41 . tcp . 80 : goto service-4AT6LBPK-ns3/svc3/tcp/p80")
    code, doc = run("ns1/svc1", dump, str(MANIFEST))
    assert code == 3
    msgs = [f["message"] for f in findings(doc, "service-not-programmed")]
    assert any("leads to service-4AT6LBPK-ns3/svc3/tcp/p80, which belongs to service port ns3/svc3:p80" in m for m in msgs)
    assert findings(doc, "stale-endpoint")  # 10.180.0.3 is svc3's pod, not svc1's


def test_uneven_numgen_keys_give_uneven_shares(tmp_path):
    dump = dump_with(
        tmp_path,
        "numgen random mod 2 vmap { 0 : goto endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80 , 1 : goto endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80 }",
        "numgen random mod 3 vmap { 0 : goto endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80 , 1 : goto endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80 , 2 : goto endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80 }")
    code, doc = run("ns4/svc4", dump, str(MANIFEST))
    assert code == 0
    p = next(p for p in doc["ports"][0]["paths"] if p["entry"] == "clusterIP")
    assert [(e["ip"], e["probability"]) for e in p["endpoints"]] == [("10.180.0.4", round(2 / 3, 6)), ("10.180.0.5", round(1 / 3, 6))]


def test_numgen_gap_is_reported(tmp_path):
    dump = dump_with(
        tmp_path,
        "numgen random mod 2 vmap { 0 : goto endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80 , 1 : goto endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80 }",
        "numgen random mod 3 vmap { 0 : goto endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80 , 1 : goto endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80 }")
    code, doc = run("ns4/svc4", dump, str(MANIFEST))
    (f,) = findings(doc, "probability-mismatch")
    assert "0.6667" in f["message"]


CONNTRACK = """\
tcp      6 117 TIME_WAIT src=10.0.0.5 dst=172.30.0.44 sport=40000 dport=80 src=10.180.0.4 dst=10.0.0.5 sport=80 dport=40000 [ASSURED] mark=0 use=1
tcp      6 431999 ESTABLISHED src=10.0.0.5 dst=172.30.0.44 sport=40001 dport=80 packets=6 bytes=400 src=10.180.0.5 dst=10.0.0.5 sport=80 dport=40001 packets=4 bytes=900 [ASSURED] mark=0 use=1
ipv4     2 tcp      6 117 TIME_WAIT src=10.0.0.6 dst=172.30.0.44 sport=40002 dport=80 src=10.180.0.5 dst=10.0.0.6 sport=80 dport=40002 [ASSURED] mark=0 use=1
udp      17 29 src=10.0.0.5 dst=172.30.0.44 sport=5353 dport=80 [UNREPLIED] src=172.30.0.44 dst=10.0.0.5 sport=80 dport=5353 mark=0 use=1
tcp      6 20 SYN_SENT src=10.0.0.5 dst=192.168.99.33 sport=40003 dport=80 [UNREPLIED] src=10.180.0.4 dst=192.168.0.2 sport=80 dport=1234 mark=0 use=1
conntrack v1.4.7 (conntrack-tools): 5 flow entries have been shown.
"""


def test_conntrack_counts_per_entry_and_endpoint():
    require_shared()
    assert looks_like_conntrack(CONNTRACK)
    ct = parse_conntrack(CONNTRACK, "ct.txt")
    assert len(ct.entries) == 5 and ct.has_accounting
    nft = parse_nft_text((DUMPS / UPSTREAM).read_text(), UPSTREAM)
    snap = snapshot_from_objects(load_objects(MANIFEST.read_text(), "m"), "ns4", "svc4")
    (pp,) = correlate_nftables(snap, nft)
    add_conntrack_counts([pp], ct)
    cip = next(p for p in pp.paths if p.entry == "clusterIP")
    ext = next(p for p in pp.paths if p.entry == "externalIP")
    assert cip.connections == 3  # the UDP flow is another protocol
    assert {h.ip: h.connections for h in cip.endpoints} == {"10.180.0.4": 1, "10.180.0.5": 2}
    assert (cip.packets, cip.bytes) == (None, None)  # one flow without accounting: no partial sums
    assert ext.connections == 1 and [h.connections for h in ext.endpoints] == [1, 0]
    # (no note on the counters: the no-counters-nftables finding says it, once)
    assert not any("counter" in n for n in notes_nftables(nft, ct, snap))


def test_notes_name_what_is_missing():
    require_shared()
    nft = parse_nft_text((DUMPS / UPSTREAM).read_text(), UPSTREAM)
    snap = infer_services_nftables(nft)[0]
    dual = snapshot_from_objects([{"kind": "Service", "metadata": {"name": "d", "namespace": "x"},
                                   "spec": {"clusterIPs": ["172.30.0.7", "fd00::7"], "ports": [{"port": 80}]}}], "x", "d")
    assert notes_nftables(nft, None, snap) == []  # (no counters: said by the no-counters-nftables finding alone)
    assert any("no table ip6 kube-proxy in the input: fd00::7" in n for n in notes_nftables(nft, None, dual))


IP6_TABLE = """\
table ip6 kube-proxy {
	comment "rules for kube-proxy"
	map service-ips {
		type ipv6_addr . inet_proto . inet_service : verdict
		elements = { fd00:172:30::41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80 }
	}

	chain nat-output {
		type nat hook output priority -100; policy accept;
		jump services
	}

	chain services {
		ip6 daddr . meta l4proto . th dport vmap @service-ips
	}

	chain service-ULMVA6XW-ns1/svc1/tcp/p80 {
		ip6 daddr fd00:172:30::41 tcp dport 80 ip6 saddr != fd00:10::/64 jump mark-for-masquerade
		numgen random mod 1 vmap { 0 : goto endpoint-ZVRFLKHO-ns1/svc1/tcp/p80__fd00.10.180..1/80 }
	}

	chain endpoint-ZVRFLKHO-ns1/svc1/tcp/p80__fd00.10.180..1/80 {
		ip6 saddr fd00:10:180::1 jump mark-for-masquerade
		meta l4proto tcp dnat to [fd00:10:180::1]:80
	}

	chain mark-for-masquerade {
		meta mark set meta mark | 0x00004000
	}
}
"""


def test_dual_stack_follows_both_tables():
    """A dual-stack Service: the ip table and the ip6 table, listed into two files and merged."""
    require_shared()
    nft = parse_nft_text((DUMPS / UPSTREAM).read_text(), UPSTREAM)
    nft.merge(parse_nft_text(IP6_TABLE, "ip6.txt"))
    objects = load_objects(MANIFEST.read_text(), "m")
    svc = item(objects, "Service", "ns1")
    svc["spec"]["clusterIPs"] = ["172.30.0.41", "fd00:172:30::41"]
    item(objects, "EndpointSlice", "ns1")["endpoints"].append(
        {"addresses": ["fd00:10:180::1"], "conditions": {"ready": True}, "nodeName": "node1"})
    snap = snapshot_from_objects(objects, "ns1", "svc1")
    (pp,) = correlate_nftables(snap, nft)
    by_ip = {p.address: p for p in pp.paths}
    assert set(by_ip) == {"172.30.0.41", "fd00:172:30::41"}
    v6 = by_ip["fd00:172:30::41"]
    assert v6.chains == ["services", "service-ips", "service-ULMVA6XW-ns1/svc1/tcp/p80"]
    (hop,) = v6.endpoints
    assert (hop.ip, hop.port, hop.chain, hop.in_slices) == (
        "fd00:10:180::1", 80, "endpoint-ZVRFLKHO-ns1/svc1/tcp/p80__fd00.10.180..1/80", True)
    assert [e.ip for e in by_ip["172.30.0.41"].endpoints] == ["10.180.0.1"]
    assert pp.missing_endpoints == []
    assert notes_nftables(nft, None, snap)[1:] == []  # both families present: nothing missing


def test_a_report_says_once_that_kube_proxy_adds_no_counters():
    """A k3s node's listing (shared/dumps): 'Note: nftables mode: kube-proxy adds no counters, so each hop's traffic is not
    known; pass a `conntrack -L` listing …' under the header, and the finding 'no-counters-nftables: kube-proxy's nftables
    rules carry no counters: no per-hop traffic can be shown' with the same conntrack advice under the table: said twice.
    The finding says it, with what to pass."""
    from tests.conftest import svcpath

    require_shared()
    code, out, err = svcpath("--rules-file", str(DUMPS / "repo-k3s-nft-list-table-ip-kube-proxy.txt"), "riset/hellopod-np-svc",
                             "--explain")
    assert code == 0, err
    assert "adds no counters" not in out
    assert out.count("no-counters-nftables: kube-proxy's nftables rules carry no counters") == 1
    assert out.count("conntrack -L -p tcp > conntrack.txt") == 1
