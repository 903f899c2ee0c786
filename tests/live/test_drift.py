"""node-drift: nodes whose kube-proxy programs a different endpoint set than the others.

The pure check runs on Reports the real pipeline makes from kpgen rules; the live test reads
three lab nodes through the fake API server with --all-nodes.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from kubectl_svcpath import pipeline
from kubectl_svcpath.findings.drift import node_drift
from kubectl_svcpath.dump import Collection, RuleDump
from kubectl_svcpath.manifest import snapshot_from_objects
from kubectl_svcpath.report import Report
from tests.conftest import svcpath
from tests.lab import kpgen
from tests.live.conftest import Scenario

E1, E2, STALE = "10.244.1.5", "10.244.2.6", "10.244.3.9"
WEB = kpgen.ServiceSpec("default", "web", "10.96.0.50", [kpgen.PortSpec("http", 80, 8080)], endpoints=[E1, E2])
NODE_OF = {E1: "cp01", E2: "cp02"}


def report(node: str, spec: kpgen.ServiceSpec, api_spec: kpgen.ServiceSpec = WEB) -> Report:
    snap = snapshot_from_objects(kpgen.api_objects(api_spec, node_of=NODE_OF), api_spec.namespace, api_spec.name)
    coll = Collection([RuleDump(kpgen.to_save_format(kpgen.generate([spec])), f"{node}.txt")], node=node)
    return pipeline.analyse(snap, pipeline.parse_collection(coll), coll)


def with_eps(eps: list[str], **kw) -> kpgen.ServiceSpec:
    return dataclasses.replace(WEB, endpoints=eps, **kw)


def test_a_node_with_a_stale_endpoint_is_named():
    reports = [report("cp01", WEB), report("cp02", WEB), report("cp03", with_eps([E1, E2, STALE]))]
    (f,) = node_drift(reports)
    assert (f.code, f.severity, f.port) == ("node-drift", "error", "http")
    assert "cp03" in f.message and "cp01" not in f.message and "cp02" not in f.message
    assert f"{STALE}:8080" in f.message and "not in the EndpointSlices" in f.message
    assert any("cp03" in e and "KUBE-SEP-" in e for e in f.evidence)
    assert "cp03" in f.action


def test_a_node_missing_an_endpoint_is_named():
    (f,) = node_drift([report("cp01", WEB), report("cp02", with_eps([E1])), report("cp03", WEB)])
    assert "cp02 missing 10.244.2.6:8080" in f.message
    assert "cp01" not in f.message.split(":", 1)[1] and "cp03" not in f.message.split(":", 1)[1]


def test_a_node_rejecting_while_others_forward_is_named():
    (f,) = node_drift([report("cp01", WEB), report("cp02", WEB), report("cp03", with_eps([]))])
    assert "cp03 missing 10.244.1.5:8080, 10.244.2.6:8080" in f.message


def test_agreeing_nodes_and_single_reports_give_nothing():
    assert node_drift([report("cp01", WEB), report("cp02", WEB), report("cp03", WEB)]) == []
    assert node_drift([report("cp01", with_eps([E1, E2, STALE]))]) == []


def test_local_policy_endpoint_sets_differ_by_design():
    local = with_eps([E1, E2], internal_traffic_policy="Local")
    reports = [report("cp01", dataclasses.replace(local, local_endpoints={E1}), local),
               report("cp02", dataclasses.replace(local, local_endpoints={E2}), local)]
    assert {p.policy_chain for r in reports for pp in r.ports for p in pp.paths} == {reports[0].ports[0].local_chain}
    assert node_drift(reports) == []


@pytest.mark.lab
@pytest.mark.api
def test_all_nodes_live_names_the_drifting_node(scenario: Scenario):
    scenario.node("cp01", kpgen.generate([WEB], kpgen.ProxyConfig(jumps=True)))
    scenario.node("cp02", kpgen.generate([WEB], kpgen.ProxyConfig(jumps=True)), backend="legacy")
    cp03 = scenario.node("cp03", kpgen.generate([with_eps([E1, E2, STALE])], kpgen.ProxyConfig(jumps=True)))
    for name, ip in (("web-1", E1), ("web-2", E2), ("gone", STALE)):
        scenario.lab.add_pod(cp03, name, ip, ports=[8080])
    scenario.cluster.add_objects(kpgen.api_objects(WEB, node_of=NODE_OF))
    scenario.cluster.set_proxy_config("iptables")
    # traffic on the drifting node: kube-proxy's random split sends it to all three
    outcomes = scenario.lab.connect(cp03, "10.96.0.50", 80, n=12)
    assert set(outcomes) <= {f"web-1 {E1}:8080", f"web-2 {E2}:8080", f"gone {STALE}:8080"}
    scenario.snapshot_rules()

    code, out, err = svcpath("web", "--all-nodes", "-o", "json", "--kubeconfig", str(scenario.kubeconfig()))

    assert code == 3, err  # an error-level finding
    doc = json.loads(out)
    assert doc["kind"] == "ServicePathList" and doc["errors"] == []
    assert [item["node"] for item in doc["items"]] == ["cp01", "cp02", "cp03"]
    drift = [f for f in doc["findings"] if f["code"] == "node-drift"]
    assert len(drift) == 1 and drift[0]["severity"] == "error"
    assert "node cp03 disagrees" in drift[0]["message"] and "cp01" not in drift[0]["message"]
    assert f"{STALE}:8080" in drift[0]["message"]
    cp03_path = next(p for p in doc["items"][2]["ports"][0]["paths"] if p["entry"] == "clusterIP")
    assert cp03_path["packets"] == 12
    assert sum(e["packets"] for e in cp03_path["endpoints"]) == 12
    assert {e["ip"]: e["inSlices"] for e in cp03_path["endpoints"]} == {E1: True, E2: True, STALE: False}
    # every node was read, concurrently, each with its own allow-listed execs
    pods = {r.path.split("/")[6] for r in scenario.cluster.requests if r.argv}
    assert len(pods) == 3
    scenario.assert_read_only({("iptables", "--version"), ("iptables-save", "-c")})


@pytest.mark.lab
@pytest.mark.api
def test_one_failing_node_does_not_hide_the_others(scenario: Scenario):
    scenario.node("cp01", kpgen.generate([WEB], kpgen.ProxyConfig(jumps=True)))
    scenario.node("cp02", kpgen.generate([WEB], kpgen.ProxyConfig(jumps=True)), kube_proxy=False)
    scenario.node("cp03", kpgen.generate([WEB], kpgen.ProxyConfig(jumps=True)))
    scenario.cluster.add_objects(kpgen.api_objects(WEB, node_of=NODE_OF))

    code, out, err = svcpath("web", "--all-nodes", "-o", "json", "--kubeconfig", str(scenario.kubeconfig()))

    doc = json.loads(out)
    assert [item["node"] for item in doc["items"]] == ["cp01", "cp03"]
    assert [(e["node"], e["exitCode"]) for e in doc["errors"]] == [("cp02", 4)]
    assert "no kube-proxy pod" in doc["errors"][0]["message"]
    assert 'error: no kube-proxy pod on node "cp02"' in err  # (the node named once, c630816)
    assert code == 7


def test_a_closing_summary_says_how_each_node_came_out():
    """A hundred nodes' reports scroll by: the last line says which nodes need a look, and why."""
    from kubectl_svcpath.render.common import nodes_summary

    reports = [report("cp01", WEB), report("cp02", with_eps([E1])), report("cp03", with_eps([E1, E2, STALE])), report("cp04", WEB)]
    assert nodes_summary(reports, 1, None) == [
        "Summary:  5 nodes: 2 ok, 2 with errors (cp02: endpoint-not-programmed; cp03: stale-endpoint), "
        "1 not read (the error lines on stderr)"]
    assert nodes_summary(reports[:1] + reports[3:], 0, None) == ["Summary:  2 nodes: 2 ok"]


@pytest.mark.lab
@pytest.mark.api
def test_several_nodes_asked_for_on_a_one_node_cluster_are_a_list_of_one(scenario: Scenario):
    """--all-nodes, --nodes and --sample on a cluster of one node (kind, minikube) printed a lone ServicePath and no
    Summary, so a script reading `.items` (docs/json-contract.md: they print a ServicePathList) broke there."""
    scenario.node("cp01", kpgen.generate([WEB]))
    scenario.cluster.add_objects(kpgen.api_objects(WEB, node_of=NODE_OF))
    scenario.cluster.set_proxy_config("iptables")
    kc = str(scenario.kubeconfig())

    for flags in (["--all-nodes"], ["--nodes", "cp01"], ["--sample", "3"]):
        code, out, err = svcpath("web", *flags, "-o", "json", "--kubeconfig", kc)
        doc = json.loads(out)
        assert doc["kind"] == "ServicePathList" and doc["errors"] == [] and [i["node"] for i in doc["items"]] == ["cp01"], flags
        assert doc.get("sampled") == ({"of": 1, "zones": 1} if "--sample" in flags else None), flags
    code, out, err = svcpath("web", "--sample", "3", "--kubeconfig", kc)
    assert out.startswith("=== node cp01 ===\n") and out.rstrip().endswith("Summary:  1 node (sampled of 1, across 1 zone): 1 ok"), out
    code, out, err = svcpath("web", "--kubeconfig", kc, "-o", "json")  # one Service on its node: one report, as before
    assert json.loads(out)["kind"] == "ServicePath"
