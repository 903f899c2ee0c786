"""--all-nodes / --nodes in text: nodes whose reports read the same (the same rules, the same counters, the same
findings) were each printed in full, a hundred times over on a big cluster. Now a report is printed once, under
"=== node n1 (the same on nodes n2 and n4) ===", the way `dshbak -c` folds hosts' identical output; what differs only in
the node's own name, its kube-proxy pod and when its rules were read is the same report. A node whose report differs
(here: one counter) keeps its own. JSON and YAML keep every node's report."""

from __future__ import annotations

import json

from kubectl_svcpath import app, pipeline
from kubectl_svcpath.dump import Collection, RuleDump
from kubectl_svcpath.render.text import Style
from tests.conftest import EXAMPLE

TEXT = (EXAMPLE / "iptables-save-in-kube-proxy-pod.txt").read_text()


def _report(node: str, text: str) -> app.Report:
    coll = Collection(dumps=[RuleDump(text=text, source=f"node {node} pod kube-system/kube-proxy-{node}: iptables-save -c",
                                      kind="pod")], node=node, pod=f"kube-proxy-{node}")
    parsed = pipeline.parse_collection(coll)
    (snapshot,) = [s for s in pipeline.infer_services(parsed) if s.name == "hello-service"]
    return pipeline.analyse(snapshot, parsed, coll)


def _outcome() -> app.Outcome:
    later = TEXT.replace("02:16:29 2026", "02:16:31 2026")  # (read two seconds later)
    busier = TEXT.replace("[2:120] -A KUBE-SERVICES", "[5:300] -A KUBE-SERVICES", 1)
    assert later != TEXT and busier != TEXT
    return app.Outcome(reports=[_report("n1", TEXT), _report("n2", later), _report("n3", busier), _report("n4", TEXT)])


def test_alike_nodes_are_printed_once_and_named() -> None:
    out = app.render_outcome(_outcome(), "table", Style(), 100)
    heads = [line for line in out.splitlines() if line.startswith("===")]
    assert heads == ["=== node n1 (the same on nodes n2 and n4) ===", "=== node n3 ==="], out
    assert out.count("Service:  default/hello-service") == 2, out
    assert out.rstrip().splitlines()[-1].startswith("Summary:  4 nodes"), out


def test_one_alike_node_is_named_in_the_singular() -> None:
    outcome = _outcome()
    outcome.reports = outcome.reports[:2]
    out = app.render_outcome(outcome, "table", Style(), 100)
    assert [line for line in out.splitlines() if line.startswith("===")] == ["=== node n1 (the same on node n2) ==="], out


def test_json_keeps_every_node() -> None:
    doc = json.loads(app.render_outcome(_outcome(), "json", Style(), 100))
    assert [item["node"] for item in doc["items"]] == ["n1", "n2", "n3", "n4"], doc.keys()
