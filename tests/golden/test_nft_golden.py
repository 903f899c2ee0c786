"""nftables mode on every nft dump in shared/dumps: the path of every port of every Service.

Each dump is read in dump-only mode (Services rebuilt from the table) and with the manifests in
tests/fixtures/nft/ (as `kubectl get service,endpointslices -o yaml` prints them); the facts
asserted (chains, endpoints, shares, verdicts, findings) can be checked by eye against the dumps.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import DUMPS, ROOT, require_shared, svcpath

UPSTREAM = "upstream-nftables-proxier-test-TestOverallNFTablesRules.txt"
DERIVED_TEXT = "derived-netns-nft-list-table-ip-kube-proxy-from-upstream-TestOverallNFTablesRules.txt"
DERIVED_JSON = "derived-netns-nft-json-list-table-ip-kube-proxy-from-upstream-TestOverallNFTablesRules.json"
K3S = "repo-k3s-nft-list-table-ip-kube-proxy.txt"
UPSTREAM_MANIFEST = str(ROOT / "tests/fixtures/nft/upstream-services.yaml")
K3S_MANIFEST = str(ROOT / "tests/fixtures/nft/k3s-services.yaml")

SIX_DUMPS = [UPSTREAM, DERIVED_TEXT, DERIVED_JSON]


def run(service: str, dump: str, manifest: str | None, *extra: str) -> tuple[int, dict[str, Any]]:
    require_shared()
    args = [service, "--rules-file", str(DUMPS / dump)]
    if manifest:
        args += ["--manifest", manifest]
    code, out, err = svcpath(*args, *extra, "-o", "json")
    assert out, f"no output (exit {code}): {err}"
    return code, json.loads(out)


def path_of(doc: dict[str, Any], entry: str, address: str | None = None, port: str | None = None) -> dict[str, Any]:
    ports = [p for p in doc["ports"] if port is None or p["name"] == port or str(p["port"]) == port]
    matches = [x for p in ports for x in p["paths"] if x["entry"] == entry and (address is None or x["address"] == address)]
    assert len(matches) == 1, f"{entry} {address} {port}: {len(matches)} paths"
    return matches[0]


def endpoints(path: dict[str, Any]) -> list[tuple]:
    return [(e["ip"], e["port"], e["chain"], e["probability"]) for e in path["endpoints"]]


def codes(doc: dict[str, Any]) -> set[str]:
    return {f["code"] for f in doc["findings"]}


MODES = [pytest.param(None, id="dump-only"), pytest.param(UPSTREAM_MANIFEST, id="manifest")]


@pytest.mark.parametrize("manifest", MODES)
@pytest.mark.parametrize("dump", SIX_DUMPS)
def test_svc1_cluster_ip(dump, manifest):
    code, doc = run("ns1/svc1", dump, manifest)
    assert code == 0 and doc["proxyMode"] == "nftables"
    p = path_of(doc, "clusterIP", "172.30.0.41")
    assert p["chains"] == ["services", "service-ips", "service-ULMVA6XW-ns1/svc1/tcp/p80"]
    assert p["policyChain"] == "service-ULMVA6XW-ns1/svc1/tcp/p80"
    assert (p["verdict"], p["packets"], p["bytes"]) == ("forward", None, None)
    assert endpoints(p) == [("10.180.0.1", 80, "endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80", 1.0)]
    assert doc["ports"][0]["serviceChain"] == "service-ULMVA6XW-ns1/svc1/tcp/p80"
    ep = p["endpoints"][0]
    if manifest:
        assert (ep["inSlices"], ep["ready"], ep["node"]) == (True, True, "node1")
        assert doc["service"]["fromAPI"] is True
    else:
        assert (ep["inSlices"], ep["ready"]) == (None, None)
        assert "dump-only" in codes(doc)
    assert "no-counters-nftables" in codes(doc)
    assert doc["counters"] is False


@pytest.mark.parametrize("manifest", MODES)
@pytest.mark.parametrize("dump", SIX_DUMPS)
def test_svc2_local_policy_without_local_endpoint_drops_external_traffic(dump, manifest):
    code, doc = run("ns2/svc2", dump, manifest)
    assert code == 0
    cip = path_of(doc, "clusterIP", "172.30.0.42")
    assert endpoints(cip) == [("10.180.0.2", 80, "endpoint-SGOXE6O3-ns2/svc2/tcp/p80__10.180.0.2/80", 1.0)]
    # the table cannot tell an LB IP from an external IP (both led to the external chain): "external" for each
    lb_kind, ext_kind = ("loadBalancer", "externalIP") if manifest else ("external", "external")
    for kind, ip in ((lb_kind, "1.2.3.4"), (ext_kind, "192.168.99.22")):
        p = path_of(doc, kind, ip)
        assert p["verdict"] == "drop" and p["endpoints"] == []
        assert p["chains"] == ["services", "service-ips", "external-42NFTM6N-ns2/svc2/tcp/p80",
                               "service-endpoints-check", "no-endpoint-services"]
    np = path_of(doc, "nodePort")
    assert (np["port"], np["verdict"]) == (3001, "drop")
    assert np["chains"] == ["services", "service-nodeports", "external-42NFTM6N-ns2/svc2/tcp/p80",
                            "nodeport-endpoints-check", "no-endpoint-nodeports"]
    assert doc["service"]["externalTrafficPolicy"] == "Local"
    assert "no-local-endpoints" in codes(doc)
    if manifest:
        assert cip["endpoints"][0]["node"] == "host2"
    else:  # a LoadBalancer, or a NodePort with external IPs: the table does not tell (no firewall-ips element)
        assert doc["service"]["type"] is None and set(doc["service"]["externalOrLoadBalancerIPs"]) == {"192.168.99.22", "1.2.3.4"}


@pytest.mark.parametrize("manifest", MODES)
@pytest.mark.parametrize("dump", SIX_DUMPS)
def test_svc3_node_port(dump, manifest):
    _, doc = run("ns3/svc3", dump, manifest)
    np = path_of(doc, "nodePort")
    assert (np["address"], np["port"], np["verdict"]) == (None, 3003, "forward")
    assert np["chains"] == ["services", "service-nodeports", "external-4AT6LBPK-ns3/svc3/tcp/p80",
                            "service-4AT6LBPK-ns3/svc3/tcp/p80"]
    assert endpoints(np) == [("10.180.0.3", 80, "endpoint-UEIP74TE-ns3/svc3/tcp/p80__10.180.0.3/80", 1.0)]


@pytest.mark.parametrize("manifest", MODES)
@pytest.mark.parametrize("dump", SIX_DUMPS)
def test_svc4_two_endpoints_half_each(dump, manifest):
    _, doc = run("ns4/svc4", dump, manifest)
    expected = [("10.180.0.4", 80, "endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80", 0.5),
                ("10.180.0.5", 80, "endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80", 0.5)]
    assert endpoints(path_of(doc, "clusterIP", "172.30.0.44")) == expected
    ext = path_of(doc, "externalIP" if manifest else "external", "192.168.99.33")
    assert ext["chains"][-2:] == ["external-LAUZTJTB-ns4/svc4/tcp/p80", "service-LAUZTJTB-ns4/svc4/tcp/p80"]
    assert endpoints(ext) == expected


@pytest.mark.parametrize("manifest", MODES)
@pytest.mark.parametrize("dump", SIX_DUMPS)
def test_svc5_firewall_source_ranges_and_affinity(dump, manifest):
    _, doc = run("ns5/svc5", dump, manifest)
    lb = path_of(doc, "loadBalancer", "5.6.7.8")
    assert lb["chains"] == ["firewall-check", "firewall-ips", "firewall-HVFWP5L3-ns5/svc5/tcp/p80", "services",
                            "service-ips", "external-HVFWP5L3-ns5/svc5/tcp/p80", "service-HVFWP5L3-ns5/svc5/tcp/p80"]
    assert lb["sourceRanges"] == ["203.0.113.0/25"]
    assert doc["ports"][0]["affinityTimeoutSeconds"] == 10800
    for p in (lb, path_of(doc, "clusterIP"), path_of(doc, "nodePort")):
        (ep,) = p["endpoints"]
        assert (ep["ip"], ep["affinity"], ep["probability"]) == ("10.180.0.3", True, 1.0)
    assert doc["service"]["sessionAffinity"] == "ClientIP"


@pytest.mark.parametrize("manifest", MODES)
@pytest.mark.parametrize("dump", SIX_DUMPS)
def test_svc6_no_endpoints_rejected(dump, manifest):
    code, doc = run("ns6/svc6", dump, manifest)
    assert code == 3  # an error-severity finding
    p = path_of(doc, "clusterIP", "172.30.0.46")
    assert (p["verdict"], p["endpoints"]) == ("reject", [])
    assert p["chains"] == ["service-endpoints-check", "no-endpoint-services", "reject-chain"]
    assert "no-endpoints" in codes(doc)
    assert "no-endpoint-map-but-ready" not in codes(doc)


# --- the real k3s node ---------------------------------------------------------------------------

K3S_SERVICES = {
    # service: [(port name, protocol, port, service chain, [(endpoint ip, port)], node port)]
    "default/kubernetes": [("https", "TCP", 443, "service-2QRHZV4L-default/kubernetes/tcp/https", [("10.34.4.142", 6443)], None)],
    "kube-system/kube-dns": [
        ("dns", "UDP", 53, "service-FY5PMXPG-kube-system/kube-dns/udp/dns", [("10.42.0.171", 53)], None),
        ("dns-tcp", "TCP", 53, "service-NWBZK7IH-kube-system/kube-dns/tcp/dns-tcp", [("10.42.0.171", 53)], None),
        ("metrics", "TCP", 9153, "service-AS2KJYAD-kube-system/kube-dns/tcp/metrics", [("10.42.0.171", 9153)], None),
    ],
    "kube-system/metrics-server": [("https", "TCP", 443, "service-WXVQUIFM-kube-system/metrics-server/tcp/https", [("10.42.0.170", 10250)], None)],
    "riset/latency-extender-svc": [("http", "TCP", 3001, "service-LNJAC4UY-riset/latency-extender-svc/tcp/http", [("10.42.0.174", 3001)], None)],
    "riset/opentelemetry-collector": [
        ("otlp", "TCP", 4317, "service-MBV4MU3G-riset/opentelemetry-collector/tcp/otlp", [("10.42.0.181", 4317)], None),
        ("otlp-http", "TCP", 4318, "service-Y5V7Q7LN-riset/opentelemetry-collector/tcp/otlp-http", [("10.42.0.181", 4318)], None),
    ],
    "riset/hellopod-np-svc": [("", "TCP", 8000, "service-P6J77WGM-riset/hellopod-np-svc/tcp/",
                               [(ip, 8080) for ip in ("10.42.2.218", "10.42.4.201", "10.42.4.202", "10.42.4.203",
                                                      "10.42.4.204", "10.42.4.205", "10.42.4.206", "10.42.4.207",
                                                      "10.42.5.164")], 30000)],
}


@pytest.mark.parametrize("manifest", [pytest.param(None, id="dump-only"), pytest.param(K3S_MANIFEST, id="manifest")])
@pytest.mark.parametrize("service", sorted(K3S_SERVICES))
def test_k3s_every_port(service, manifest):
    code, doc = run(service, K3S, manifest)
    assert code == 0, doc["findings"]
    expected = K3S_SERVICES[service]
    got = {(p["name"], p["protocol"]): p for p in doc["ports"]}
    assert set(got) == {(n, proto) for n, proto, *_ in expected}
    for name, proto, port, chain, eps, node_port in expected:
        pp = got[(name, proto)]
        assert (pp["port"], pp["serviceChain"], pp["nodePort"]) == (port, chain, node_port)
        ways = [x for x in pp["paths"] if x["entry"] == "clusterIP"] + [x for x in pp["paths"] if x["entry"] == "nodePort"]
        assert len(ways) == (2 if node_port else 1)
        for way in ways:
            assert way["chains"][-1] == chain and way["verdict"] == "forward"
            assert [(e["ip"], e["port"]) for e in way["endpoints"]] == eps
            assert all(abs(e["probability"] - 1 / len(eps)) < 1e-6 for e in way["endpoints"])
            if manifest:
                assert all(e["inSlices"] and e["ready"] for e in way["endpoints"])
        if manifest:
            assert pp["missingEndpoints"] == []


@pytest.mark.parametrize("manifest", [pytest.param(None, id="dump-only"), pytest.param(K3S_MANIFEST, id="manifest")])
def test_k3s_service_without_endpoints(manifest):
    code, doc = run("riset/otelcol-opentelemetry-collector", K3S, manifest)
    assert code == 3
    for port in ("otlp", "otlp-http"):
        p = path_of(doc, "clusterIP", "10.43.21.102", port)
        assert (p["verdict"], p["chains"][-1]) == ("reject", "reject-chain")
    assert "no-endpoints" in codes(doc)


def test_k3s_all_services_table():
    require_shared()
    code, out, _ = svcpath("--rules-file", str(DUMPS / K3S), "--all", "-o", "json")
    assert code == 3
    doc = json.loads(out)
    items = doc["items"] if isinstance(doc, dict) and "items" in doc else doc
    names = {f"{i['service']['namespace']}/{i['service']['name']}" for i in items}
    assert names == set(K3S_SERVICES) | {"riset/otelcol-opentelemetry-collector"}


@pytest.mark.parametrize("dump", SIX_DUMPS + [K3S])
def test_infer_one_service_equals_infer_all(dump):
    """``only=`` (what a single-Service run needs) rebuilds the same Service as the full pass."""
    from kubectl_svcpath.modes.nftables.correlate import infer_services_nftables
    from kubectl_svcpath.modes.nftables.parse_json import parse_nft_json
    from kubectl_svcpath.modes.nftables.parse_text import parse_nft_text

    require_shared()
    text = (DUMPS / dump).read_text()
    nft = parse_nft_json(text, dump) if dump.endswith(".json") else parse_nft_text(text, dump)
    everything = infer_services_nftables(nft)
    assert len(everything) == (6 if dump in SIX_DUMPS else 7)
    for snap in everything:
        assert infer_services_nftables(nft, only=(snap.namespace, snap.name)) == [snap]
    assert infer_services_nftables(nft, only=("nope", "nope")) == []
