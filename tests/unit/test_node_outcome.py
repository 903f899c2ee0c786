"""One node's outcome with --all-nodes (app._node_outcome): its rules are parsed, analysed and let go.

The iptables reader's RuleSet and its parser refer to each other; the node's parse is emptied once
its report is made, so the dump goes by reference counting, not left to a cyclic collection that
walks it first (with 100 nodes, most of the collections' time and ~12 MB of peak). The report is
the one the full analysis gives, on every shared dump read as a pod's listing.
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from kubectl_svcpath import app, pipeline
from kubectl_svcpath.dump import Collection, RuleDump
from kubectl_svcpath.live import NodeResult
from kubectl_svcpath.options import Options
from kubectl_svcpath.parse.excerpt import clean
from tests.conftest import DUMPS, EXAMPLE, require_shared

SOURCE = "node n1 pod kube-system/kube-proxy-x: iptables-save -c"


def _saves() -> list[Path]:
    found = sorted(p for p in DUMPS.glob("*.txt") if "-save" in p.name) if DUMPS.is_dir() else []
    return [*found, EXAMPLE / "iptables-save-in-kube-proxy-pod.txt"]


def _node(text: str) -> NodeResult:
    return NodeResult("n1", Collection(dumps=[RuleDump(text=text, source=SOURCE, kind="pod")], node="n1"), None)


@pytest.mark.parametrize("path", _saves(), ids=lambda p: p.name)
def test_a_nodes_report_is_the_full_analysis_and_its_parse_is_freed_at_once(path: Path) -> None:
    require_shared()
    text = path.read_text()
    if clean(text).text != text:
        pytest.skip(f"{path.name} is a paste, not a listing as iptables-save prints it")
    coll = _node(text).collection
    assert coll is not None
    parsed = pipeline.parse_collection(coll)
    snapshots = pipeline.infer_services(parsed)[:3]
    assert snapshots, path.name
    for snapshot in snapshots:
        expected = pipeline.analyse(snapshot, pipeline.parse_collection(coll), coll).to_dict()
        gc.collect()
        gc.disable()
        try:
            outcome = app._node_outcome(Options(), snapshot, _node(text), None)
            (report,) = outcome.reports
            assert report.to_dict() == expected
            del outcome
            gc.set_debug(gc.DEBUG_SAVEALL)
            gc.collect()
            left = [type(o).__name__ for o in gc.garbage]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()
        assert "RuleSet" not in left and "_Parser" not in left, path.name
