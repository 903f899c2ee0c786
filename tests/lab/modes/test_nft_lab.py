"""kube-proxy's nftables mode in a network namespace: real table, real traffic, the tool's answer.

The hello-service scenario (shared/examples/hello-service/README.md: cluster IP 10.101.173.15,
ports 39090->9090 and 49191->9191, node ports 30725/31576, one pod 192.168.189.15) is written in
kube-proxy's nftables layout by tests/lab/nftgen.py, loaded with ``nft -f`` into a lab node,
and exercised with real connections. Then the tool reads what nft and conntrack print back.
"""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest

from kubectl_svcpath.modes.nftables.correlate import add_conntrack_counts, correlate_nftables
from kubectl_svcpath.manifest import load_objects, snapshot_from_objects
from kubectl_svcpath.parse.conntrack import parse_conntrack
from kubectl_svcpath.modes.nftables.parse_json import parse_nft_json
from kubectl_svcpath.modes.nftables.parse_text import parse_nft_text
from tests.conftest import EXAMPLE, svcpath
from tests.lab.netns import Lab
from tests.lab.nftgen import NftPort, NftService, generate
from tests.unit.modes.nftables.test_nft_parse import _semantic

pytestmark = pytest.mark.lab

HELLO = NftService("default", "hello-service", "10.101.173.15",
                   [NftPort("port-v1", 39090, 9090, node_port=30725), NftPort("port-v2", 49191, 9191, node_port=31576)],
                   endpoints=["192.168.189.15"])
EMPTY = NftService("default", "empty", "10.101.0.99", [NftPort("http", 80, 8080)], endpoints=[])
THREE = NftService("default", "web", "10.101.0.3", [NftPort("http", 80, 8080)],
                   endpoints=["10.244.1.11", "10.244.1.12", "10.244.1.13"])
MANIFEST = EXAMPLE / "manifest.yaml"


def _hello_lab(lab: Lab, old_base_chains: bool = False):
    node = lab.add_node("cp01")
    lab.add_pod(node, "products", "192.168.189.15", ports=[9090, 9191])
    text = generate([HELLO, EMPTY], node_ips=[node.ip], pod_cidr="192.168.0.0/16", service_cidr="10.96.0.0/12",
                    old_base_chains=old_base_chains)
    lab.load_nft(node, text)
    return node


def _paths(doc: dict, port: str) -> dict[str, dict]:
    p = next(p for p in doc["ports"] if p["name"] == port)
    return {x["entry"]: x for x in p["paths"]}


@pytest.mark.parametrize("old_base_chains", [False, True], ids=["v1.34-base-chains", "v1.31-base-chains"])
def test_hello_service_nftables_mode(lab: Lab, tmp_path: Path, old_base_chains: bool) -> None:
    node = _hello_lab(lab, old_base_chains)
    # real traffic: two connections to port-v1, one to port-v2, one to a node port, one to a port without endpoints
    assert lab.connect(node, "10.101.173.15", 39090, n=2) == ["products 192.168.189.15:9090"] * 2
    assert lab.connect(node, "10.101.173.15", 49191) == ["products 192.168.189.15:9191"]
    assert lab.connect(node, node.ip, 31576) == ["products 192.168.189.15:9191"]
    assert lab.connect(node, "10.101.0.99", 80) == ["refused"]  # reject-chain

    listing = {"json": lab.run(node, ["nft", "-j", "list", "table", "ip", "kube-proxy"]).stdout,
               "text": lab.run(node, ["nft", "list", "table", "ip", "kube-proxy"]).stdout}
    assert _semantic(parse_nft_json(listing["json"], "j")) == _semantic(parse_nft_text(listing["text"], "t"))
    for form, text in listing.items():
        dump = tmp_path / f"nft.{form}"
        dump.write_text(text)
        code, out, err = svcpath("default/hello-service", "--rules-file", str(dump), "--manifest", str(MANIFEST), "-o", "json")
        assert code == 0, err
        doc = json.loads(out)
        assert doc["proxyMode"] == "nftables"
        v1, v2 = _paths(doc, "port-v1"), _paths(doc, "port-v2")
        assert v1["clusterIP"]["chains"] == ["services", "service-ips", "service-EDISM5FW-default/hello-service/tcp/port-v1"]
        assert v2["nodePort"]["chains"] == ["services", "service-nodeports", "external-DDFAMKJX-default/hello-service/tcp/port-v2",
                                            "service-DDFAMKJX-default/hello-service/tcp/port-v2"]
        for paths, target in ((v1, 9090), (v2, 9191)):
            for entry in ("clusterIP", "nodePort"):
                (ep,) = paths[entry]["endpoints"]
                assert (ep["ip"], ep["port"], ep["probability"], ep["ready"], ep["node"]) == ("192.168.189.15", target, 1.0, True, "cp01")
        assert {f["code"] for f in doc["findings"]} == {"no-counters-nftables"}

    code, out, _ = svcpath("default/empty", "--rules-file", str(tmp_path / "nft.json"), "-o", "json")
    doc = json.loads(out)
    assert code == 3 and _paths(doc, "http")["clusterIP"]["verdict"] == "reject"


def test_conntrack_counts_match_the_traffic(lab: Lab) -> None:
    node = lab.add_node("cp01")
    pods = {ip: lab.add_pod(node, f"web-{ip.rsplit('.', 1)[1]}", ip, ports=[8080]) for ip in THREE.endpoints}
    lab.add_pod(node, "products", "192.168.189.15", ports=[9090, 9191])
    lab.run(node, ["sysctl", "-q", "-w", "net.netfilter.nf_conntrack_acct=1"])  # this namespace only
    lab.load_nft(node, generate([HELLO, THREE], node_ips=[node.ip], pod_cidr="10.244.0.0/16", service_cidr="10.96.0.0/12"))
    answers = lab.connect(node, "10.101.0.3", 80, n=30)
    by_pod = collections.Counter(a.split()[1].split(":")[0] for a in answers)
    assert sum(by_pod.values()) == 30 and set(by_pod) <= set(pods)
    assert lab.connect(node, "10.101.173.15", 39090, n=2) == ["products 192.168.189.15:9090"] * 2

    nft = parse_nft_json(lab.run(node, ["nft", "-j", "list", "table", "ip", "kube-proxy"]).stdout, "nft.json")
    ct = parse_conntrack(lab.run(node, ["conntrack", "-L"]).stdout, "conntrack.txt")
    assert ct.has_accounting

    objects = [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
         "spec": {"type": "ClusterIP", "clusterIP": "10.101.0.3", "clusterIPs": ["10.101.0.3"],
                  "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080}]}},
        {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
         "metadata": {"name": "web-1", "namespace": "default", "labels": {"kubernetes.io/service-name": "web"}},
         "endpoints": [{"addresses": [ip], "conditions": {"ready": True}, "nodeName": "cp01"} for ip in THREE.endpoints],
         "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]},
    ]
    web = snapshot_from_objects(objects, "default", "web")
    (pp,) = correlate_nftables(web, nft)
    (path,) = pp.paths
    assert [round(h.probability, 6) for h in path.endpoints] == [round(1 / 3, 6)] * 3
    add_conntrack_counts([pp], ct)
    assert path.connections == 30
    assert {h.ip: h.connections for h in path.endpoints} == {ip: by_pod.get(ip, 0) for ip in THREE.endpoints}
    assert path.packets and path.packets >= 30 * 2 and path.bytes  # accounting on: both directions of every flow

    hello = snapshot_from_objects(load_objects(MANIFEST.read_text(), "manifest"), "default", "hello-service")
    v1 = correlate_nftables(hello, nft)[0]
    add_conntrack_counts([v1], ct)
    cip = next(p for p in v1.paths if p.entry == "clusterIP")
    assert (cip.connections, cip.endpoints[0].connections) == (2, 2)


def test_audit_equals_one_service_at_a_time_on_the_kernels_listing(lab: Lab, tmp_path: Path) -> None:
    """--all over what nft prints back (JSON and text) of a generated table of varied Services gives each
    Service the answer of its single-Service run (issue 11; the unit test does it on the generated text)."""
    from tests.unit.render.test_audit_equivalence import assert_audit_equals_single, varied_services

    node = lab.add_node("cp01")
    services = varied_services(24)
    lab.load_nft(node, generate(services, node_ips=[node.ip]))
    for form, argv in (("json", ["nft", "-j", "list", "table", "ip", "kube-proxy"]), ("text", ["nft", "list", "table", "ip", "kube-proxy"])):
        dump = tmp_path / f"kube-proxy.{form}"
        dump.write_text(lab.run(node, argv).stdout)
        assert assert_audit_equals_single(str(dump)) == len(services), form


def test_v136_layout_without_endpoint_chains(lab: Lab, tmp_path: Path) -> None:
    """kube-proxy v1.36's layout (the Service chain DNATs through a numgen map, hairpin traffic masqueraded
    through a set; nftgen direct_dnat): the kernel takes it, real connections reach each pod, and the tool
    reads every endpoint, its share and the way in from what nft prints back (text and JSON)."""
    node = lab.add_node("cp01")
    for ip in THREE.endpoints:
        lab.add_pod(node, f"web-{ip.rsplit('.', 1)[1]}", ip, ports=[8080])
    lab.add_pod(node, "products", "192.168.189.15", ports=[9090, 9191])
    lab.load_nft(node, generate([HELLO, THREE, EMPTY], node_ips=[node.ip], pod_cidr="10.244.0.0/16",
                                service_cidr="10.96.0.0/12", direct_dnat=True))
    answers = lab.connect(node, "10.101.0.3", 80, n=12)
    assert len(answers) == 12 and {a.split()[1] for a in answers} <= {f"{ip}:8080" for ip in THREE.endpoints}
    assert lab.connect(node, node.ip, 30725) == ["products 192.168.189.15:9090"]
    assert lab.connect(node, "10.101.0.99", 80) == ["refused"]

    listing = {"json": lab.run(node, ["nft", "-j", "list", "table", "ip", "kube-proxy"]).stdout,
               "text": lab.run(node, ["nft", "list", "table", "ip", "kube-proxy"]).stdout}
    assert "dnat ip to numgen random mod 3 map { 0 : 10.244.1.11 . 8080" in listing["text"]
    assert _semantic(parse_nft_json(listing["json"], "j")) == _semantic(parse_nft_text(listing["text"], "t"))
    for form, text in listing.items():
        dump = tmp_path / f"nft.{form}"
        dump.write_text(text)
        code, out, err = svcpath("default/web", "--rules-file", str(dump), "-o", "json")
        assert code == 0, err
        (path,) = json.loads(out)["ports"][0]["paths"]
        assert [(e["ip"], e["port"], e["probability"]) for e in path["endpoints"]] == \
            [(ip, 8080, 0.333333) for ip in THREE.endpoints]
        code, out, err = svcpath("default/hello-service", "--rules-file", str(dump), "--manifest", str(MANIFEST), "-o", "json")
        assert code == 0, err
        doc = json.loads(out)
        (ep,) = _paths(doc, "port-v1")["nodePort"]["endpoints"]
        assert (ep["ip"], ep["port"], ep["probability"], ep["ready"]) == ("192.168.189.15", 9090, 1.0, True)
        assert {f["code"] for f in doc["findings"]} == {"no-counters-nftables"}
        code, out, err = svcpath("--rules-file", str(dump), "--all")
        assert code == 3 and " web " in out and "no-endpoints" in out and "service-not-programmed" not in out, out
