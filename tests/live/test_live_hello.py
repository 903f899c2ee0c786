"""Issue 3 acceptance: `kubectl svcpath hello-service` against a live (fake API + netns) cluster.

Real kube-proxy rules in a node namespace, real connections moving the counters, the real
installed plugin talking HTTPS + WebSocket to the API server, and proof that it only read.
"""

from __future__ import annotations

import json

import pytest

from kubectl_svcpath import live
from tests.conftest import run_cli, svcpath
from tests.lab import kpgen
from tests.live.conftest import Scenario, hello_scenario

CIP = "10.101.173.15"
POD = "192.168.189.15"
HELLO_EXECS = {("iptables", "--version"), ("iptables-save", "-c")}


def _request(kubeconfig, **kw) -> live.LiveRequest:
    base = dict(service="hello-service", namespace=None, kubeconfig=str(kubeconfig), context=None,
                request_timeout=20.0, node=None, all_nodes=False)
    base.update(kw)
    return live.LiveRequest(**base)


def _path(doc: dict, port_name: str, entry: str) -> dict:
    port = next(p for p in doc["ports"] if p["name"] == port_name)
    return next(p for p in port["paths"] if p["entry"] == entry)


@pytest.mark.lab
@pytest.mark.api
@pytest.mark.parametrize("backend", ["nft", "legacy"])
def test_hello_service_live_counts_each_port(scenario: Scenario, backend: str):
    node = hello_scenario(scenario, backend)
    assert scenario.lab.connect(node, CIP, 39090, n=2) == [f"products {POD}:9090"] * 2
    assert scenario.lab.connect(node, CIP, 49191, n=1) == [f"products {POD}:9191"]
    scenario.snapshot_rules()

    r = run_cli("hello-service", "-o", "json", "--kubeconfig", str(scenario.kubeconfig()))

    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["service"]["name"] == "hello-service" and doc["service"]["fromAPI"] is True
    assert doc["node"] == "cp01"
    assert doc["kubeProxyPod"].startswith("kube-system/kube-proxy-")
    assert doc["proxyMode"] == "iptables"
    assert doc["backend"] == ("nf_tables" if backend == "nft" else "legacy")
    v1, v2 = _path(doc, "port-v1", "clusterIP"), _path(doc, "port-v2", "clusterIP")
    assert (v1["address"], v1["port"], v1["packets"]) == (CIP, 39090, 2)
    assert (v2["address"], v2["port"], v2["packets"]) == (CIP, 49191, 1)
    assert [(e["ip"], e["port"], e["packets"], e["inSlices"]) for e in v1["endpoints"]] == [(POD, 9090, 2, True)]
    assert [(e["ip"], e["port"], e["packets"], e["inSlices"]) for e in v2["endpoints"]] == [(POD, 9191, 1, True)]
    assert _path(doc, "port-v1", "nodePort")["packets"] == 0
    assert not [f for f in doc["findings"] if f["severity"] == "error"]
    assert r.stderr == ""
    scenario.assert_read_only(HELLO_EXECS)


@pytest.mark.lab
@pytest.mark.api
def test_gather_hands_the_core_raw_objects_and_the_pod_dump(scenario: Scenario):
    node = hello_scenario(scenario)
    scenario.lab.connect(node, CIP, 39090, n=2)
    scenario.snapshot_rules()
    seen: list[str] = []

    got = live.gather(_request(scenario.kubeconfig(), progress=seen.append))

    assert got.namespace == "default"
    assert [o["kind"] for o in got.objects] == ["Service", "EndpointSlice"]
    assert got.objects[1]["apiVersion"] == "discovery.k8s.io/v1"
    (result,) = got.nodes
    assert result.node == "cp01" and result.error is None
    coll = result.collection
    assert coll.proxy_mode == "iptables" and coll.proxy_mode_source.startswith("ConfigMap kube-system/kube-proxy")
    assert coll.writer_version == "iptables v1.8.9 (nf_tables)" and coll.backend == "nf_tables"
    (dump,) = coll.dumps
    assert dump.kind == "pod" and dump.format == "iptables-save"
    assert dump.source == f"node cp01 pod {coll.pod}: iptables-save -c"
    assert dump.text.rstrip().splitlines()[-1].startswith("# Completed")
    assert "[2:120] -A KUBE-SEP-AA54JU3D4RO26WUA -p tcp" in dump.text
    assert "*filter" in dump.text  # all tables: the REJECT rules live in filter
    assert seen and all("\n" not in m for m in seen)
    scenario.assert_read_only(HELLO_EXECS)


@pytest.mark.lab
@pytest.mark.api
def test_namespace_comes_from_the_context_and_service_forms_agree(scenario: Scenario):
    spec = kpgen.ServiceSpec("team", "web", "10.96.7.7", [kpgen.PortSpec("http", 80, 8080)], endpoints=["10.244.1.5"])
    node = scenario.node("cp01", kpgen.generate([spec], kpgen.ProxyConfig(jumps=True)))
    scenario.lab.add_pod(node, "web-0", "10.244.1.5", ports=[8080])
    scenario.cluster.add_objects(kpgen.api_objects(spec, node_of={"10.244.1.5": "cp01"}))
    kc = scenario.kubeconfig()
    assert scenario.lab.connect(node, "10.96.7.7", 80, n=3) == ["web-0 10.244.1.5:8080"] * 3

    outs = [svcpath("web", "-o", "json", "--kubeconfig", str(kc), "--context", "lab-team"),
            svcpath("svc/web", "-n", "team", "-o", "json", "--kubeconfig", str(kc)),
            svcpath("team/web", "-o", "json", "--kubeconfig", str(kc))]
    for code, out, err in outs:
        assert code == 0, err
        doc = json.loads(out)
        assert (doc["service"]["namespace"], doc["service"]["name"]) == ("team", "web")
        assert _path(doc, "http", "clusterIP")["packets"] == 3


@pytest.mark.lab
@pytest.mark.api
def test_kubeconfig_env_is_honoured_like_kubectl(scenario: Scenario, tmp_path, monkeypatch):
    hello_scenario(scenario)
    kc = scenario.kubeconfig()
    # set after the kubernetes client was imported (it reads KUBECONFIG at import time): must still count
    import kubernetes.config  # noqa: F401

    monkeypatch.setenv("KUBECONFIG", f"{tmp_path}/absent.yaml:{kc}")
    code, out, err = svcpath("hello-service", "-o", "json")
    assert code == 0, err
    assert json.loads(out)["node"] == "cp01"


@pytest.mark.lab
@pytest.mark.api
def test_a_large_dump_arrives_whole_over_many_frames(scenario: Scenario):
    specs = [kpgen.hello_service()] + kpgen.cluster_services(400, 10)
    node = scenario.node("cp01", kpgen.generate(specs, kpgen.HELLO_CONFIG))
    scenario.cluster.add_objects(kpgen.api_objects(kpgen.hello_service(), node_of={POD: "cp01"}))

    got = live.gather(_request(scenario.kubeconfig()))

    text = got.nodes[0].collection.dumps[0].text
    assert len(text) > 1_000_000  # > 30 WebSocket frames of 32 KiB
    strip = lambda t: [ln for ln in t.splitlines() if not ln.startswith("#")]  # noqa: E731
    assert strip(text) == strip(scenario.lab.save(node))


@pytest.mark.lab
@pytest.mark.api
def test_ipv6_service_reads_ip6tables(scenario: Scenario):
    spec = kpgen.ServiceSpec("default", "web6", "fd00:10:96::5", [kpgen.PortSpec("http", 80, 8080)],
                             endpoints=["fd00:10:244::7"])
    node = scenario.node("cp01")
    scenario.lab.load_iptables(node, kpgen.generate([spec], kpgen.ProxyConfig(cluster_cidr="fd00:10:244::/56")),
                               backend="nft", ipv6=True)
    scenario.cluster.add_objects(kpgen.api_objects(spec, node_of={"fd00:10:244::7": "cp01"}))
    scenario.snapshot_rules()

    got = live.gather(_request(scenario.kubeconfig(), service="web6"))

    (dump,) = got.nodes[0].collection.dumps
    assert dump.source.endswith(": ip6tables-save -c")
    assert "--to-destination [fd00:10:244::7]:8080" in dump.text
    assert got.nodes[0].collection.writer_version == "ip6tables v1.8.9 (nf_tables)"  # from the header, as it prints
    assert ("ip6tables", "--version") not in map(tuple, scenario.cluster.execs())
    scenario.assert_read_only({("ip6tables", "--version"), ("ip6tables-save", "-c"),
                               ("nft", "-j", "list", "table", "ip6", "kube-proxy")})
