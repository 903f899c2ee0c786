"""The verdict line names each endpoint's state briefly: the reasons are in the table, tree and findings.

It printed expected.py's reason beside the slice state ("1 of 1 endpoints (ready; ready, local)", or
"(1 ready, 1 serving,terminating; NOT EXPECTED HERE: terminating: ready endpoints exist)" over three lines
of an 80-column terminal), where the table says "ready" and "serving,terminating; NOT EXPECTED".
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import svcpath
from tests.lab.kpgen import PortSpec, ServiceSpec, api_objects, save_text


def _run(tmp_path: Path, svc: ServiceSpec, objects: list[dict], node: str) -> tuple[int, str]:
    dump, manifest = tmp_path / "nat.txt", tmp_path / "svc.json"
    dump.write_text(save_text([svc]))
    manifest.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    code, out, err = svcpath(svc.name, "-n", svc.namespace, "--rules-file", str(dump), "--manifest", str(manifest),
                             "--node", node)
    assert "Traceback" not in err
    return code, out


def test_a_local_endpoint_is_just_ready_in_the_verdict(tmp_path):
    svc = ServiceSpec("shop", "loc", "10.96.0.40", [PortSpec("http", 80, 8080, node_port=30080)], endpoints=["10.244.2.10"],
                      type="NodePort", external_traffic_policy="Local")
    code, out = _run(tmp_path, svc, api_objects(svc, node_of={"10.244.2.10": "w1"}), "w1")

    assert code == 0, out
    assert out.splitlines()[0] == "http 80/TCP → 1 of 1 endpoint (ready), 0 pkts — OK", out


def test_an_endpoint_not_expected_is_marked_so_and_the_finding_says_why(tmp_path):
    svc = ServiceSpec("shop", "web", "10.96.0.20", [PortSpec("http", 80, 8080)], endpoints=["10.244.1.10", "10.244.2.10"])
    objects = api_objects(svc, node_of={"10.244.1.10": "w1", "10.244.2.10": "w2"})
    objects[1]["endpoints"][1]["conditions"] = {"ready": False, "serving": True, "terminating": True}
    code, out = _run(tmp_path, svc, objects, "w1")

    assert code == 3, out
    assert out.splitlines()[0] == ("http 80/TCP → 2 of 2 endpoints (1 ready, 1 serving,terminating; NOT EXPECTED), "
                                   "0 pkts — FAIL: endpoint-not-expected"), out
    assert "10.244.2.10:8080: terminating: ready endpoints exist" in svcpath("web", "-n", "shop", "--rules-file",
                                                                           str(tmp_path / "nat.txt"), "--manifest",
                                                                           str(tmp_path / "svc.json"), "--node", "w1",
                                                                           "--explain")[1]


def test_a_headless_service_is_not_unknown_kube_proxy_writes_nothing_for_it(tmp_path):
    """It said "no rule for it in the input — UNKNOWN", with a note below that kube-proxy writes no rules for it."""
    web = ServiceSpec("shop", "web", "10.96.0.20", [PortSpec("http", 80, 8080)], endpoints=["10.244.1.10"])
    hl = ServiceSpec("shop", "hl", "10.96.0.99", [PortSpec("http", 80, 8080)], endpoints=["10.244.1.10"])
    objects = api_objects(hl, node_of={"10.244.1.10": "w1"})
    objects[0]["spec"]["clusterIP"], objects[0]["spec"]["clusterIPs"] = "None", ["None"]
    dump, manifest = tmp_path / "nat.txt", tmp_path / "svc.json"
    dump.write_text(save_text([web]))  # the node's rules: kube-proxy wrote none for hl
    manifest.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))

    code, out, err = svcpath("hl", "-n", "shop", "--rules-file", str(dump), "--manifest", str(manifest), "--node", "w1")

    assert code == 0, err
    assert out.splitlines()[0] == "http 80/TCP → no kube-proxy rules: headless (clusterIP: None) — OK", out
