"""--all with the Services from the API (live, or --manifest) in one pass (modes/iptables/audit_api.py) gives
the rows the full analysis gives (issue 11).

The one pass analyses the first Service of each template (its rules' footprint and its API objects,
values numbered) in full and derives the others' rows from it. These tests hold every row, the totals,
the notes and the exit status to the audit that analyses each Service in full: on the shared dumps
with their manifests, and on generated rules with API objects that differ from them in every way the
analysis looks at (not-ready, terminating, serving-only endpoints, an endpoint the rules lack, zones
and hints against the node's zone, endpoints on this node or another one, Local
policies, Services without slices, Services without rules, slices named out of order).
"""

from __future__ import annotations

import copy
import datetime
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_svcpath import pipeline
from kubectl_svcpath.app import _node_from_manifest, api_table_lines, audit
from kubectl_svcpath.collect import files
from kubectl_svcpath.dump import Collection
from kubectl_svcpath.manifest import audit_snapshots, load_objects
from kubectl_svcpath.modes.iptables import audit_match
from tests.conftest import DUMPS, EXAMPLE, ROOT, require_shared
from tests.lab.kpgen import PortSpec, ServiceSpec, api_objects, save_text
from tests.unit.modes.iptables.test_audit_onepass import _assert_same, _counting, _with_problems, counting_matches

UPSTREAM_MANIFEST = ROOT / "tests/fixtures/iptables/upstream-TestOverallIPTablesRules.yaml"
NODE = "node-a"


def _both(paths: list[str], objects: list[dict[str, Any]], problems: bool = False,
          node: str | None = None) -> tuple[Any, Any, int | None]:
    """The audit with each API Service analysed in full, the one-pass audit, and how many Services the
    one pass analysed in full (None: it does not apply to this input)."""
    def parsed_input() -> tuple[pipeline.Parsed, Collection]:
        collection = Collection(dumps=[files.read_dump(p) for p in paths], node=node)
        _node_from_manifest(collection, objects)
        return pipeline.parse_collection(collection), collection

    parsed, collection = parsed_input()
    snapshots, notes = audit_snapshots(objects)
    full = audit(snapshots, parsed, collection, problems, notes, from_rules=False)
    parsed, collection = parsed_input()
    snapshots, notes = audit_snapshots(copy.deepcopy(objects))
    analysed = [0]
    lines = api_table_lines(parsed, collection, snapshots)
    if lines is None:
        return full, None, None
    fast = audit(iter(()), parsed, collection, problems, notes, from_rules=False, lines=_counting(lines, parsed, analysed))
    # live: the API half of the templates made beforehand (while the node's rules are read): the same rows
    parsed, collection = parsed_input()
    snapshots, notes = audit_snapshots(copy.deepcopy(objects))
    lines = api_table_lines(parsed, collection, snapshots, pipeline.prepare_api_audit(snapshots))
    assert lines is not None
    _assert_same(full, audit(iter(()), parsed, collection, problems, notes, from_rules=False, lines=lines), "prepared")
    return full, fast, analysed[0]


@pytest.mark.parametrize("dump,manifest", [
    ("upstream-iptables-proxier-test-TestOverallIPTablesRules.txt", UPSTREAM_MANIFEST),
    ("derived-netns-iptables-nft-save-from-upstream-TestOverallIPTablesRules.txt", UPSTREAM_MANIFEST),
    ("derived-netns-iptables-L-n-v-x-nat-from-upstream-TestOverallIPTablesRules.txt", UPSTREAM_MANIFEST),
    ("example:iptables-save-on-node-host.txt", EXAMPLE / "manifest.yaml"),
    ("example:iptables-save-in-kube-proxy-pod.txt", EXAMPLE / "manifest.yaml"),
])
def test_api_one_pass_rows_equal_full_analysis_on_shared_dumps(dump: str, manifest: Path) -> None:
    require_shared()
    path = str(EXAMPLE / dump[8:]) if dump.startswith("example:") else str(DUMPS / dump)
    objects = load_objects(manifest.read_text(), str(manifest))
    for problems in (False, True):
        full, fast, _ = _both([path], objects, problems)
        if fast is not None:
            _assert_same(full, fast, dump)


def _services() -> list[ServiceSpec]:
    """Repeated shapes (rows derived from templates), each shape's API objects edited alike below."""
    out = []
    for i in range(120):
        kind = i % 10
        eps = [f"10.244.{i}.{j * 50}" for j in range(1 + kind % 3)] if kind != 3 else []  # some end in .0
        ports = [PortSpec("http", 80, 8080, node_port=30100 + i if kind in (1, 4, 5) else None)]
        if kind == 6:
            ports.append(PortSpec("dns", 53, 5353, protocol="UDP"))
        if kind == 7:
            ports = [PortSpec("", 8443, 8443)]
        out.append(ServiceSpec(
            f"ns{i % 3}", f"svc-{i:02d}", f"10.96.{i // 100}.{i % 100 + 10}", ports, endpoints=eps,
            type="LoadBalancer" if kind == 5 else "NodePort" if kind in (1, 4) else "ClusterIP",
            local_endpoints=set(eps[:1]) if kind == 4 else None, external_traffic_policy="Local" if kind == 4 else "Cluster",
            internal_traffic_policy="Local" if kind == 8 else "Cluster",
            lb_ips=[f"198.51.100.{i}"] if kind == 5 else [], external_ips=[f"192.0.2.{i}"] if kind == 2 else [],
            affinity_seconds=10800 if kind == 9 else None, not_ready=[f"10.245.{i}.7"] if kind in (0, 6) else []))
    return out


def _edit(i: int, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the API says beyond the rules, by shape: i % 30, so that each kind of Service (i % 10) comes
    edited two ways and as written (shapes 20-29), each shape four times (rows derived from templates)."""
    svc, sl = objects
    eps = sl["endpoints"]
    shape = i % 30
    if shape == 1 and eps:  # the first endpoint terminating but serving (kube-proxy's fallback)
        eps[0]["conditions"] = {"ready": False, "serving": True, "terminating": True}
    if shape in (2, 12) and eps:  # an endpoint the rules lack: ready in the slice, not programmed
        eps.append({"addresses": [f"10.246.{i}.9"], "conditions": {"ready": True}})
    if shape in (5, 15) and eps:  # zones and hints: the first endpoint for the node's zone, the others elsewhere
        for j, ep in enumerate(eps):
            ep["zone"] = "zone-a" if j == 0 else "zone-b"
            ep["hints"] = {"forZones": [{"name": ep["zone"]}]}
    if shape in (4, 14, 8, 18) and eps:  # endpoints on the node read, or on another one
        for ep in eps:
            ep["nodeName"] = NODE if shape in (4, 8) else "node-b"
    if shape in (9, 19) and eps:  # serving-only (not ready, not terminating)
        eps[-1]["conditions"] = {"ready": False, "serving": True, "terminating": False}
    if shape in (10, 11):  # no EndpointSlice at all
        return [svc]
    if shape in (0, 6, 16) and eps:  # a second slice, named so that it sorts first, not ready
        second = copy.deepcopy(sl)
        second["metadata"]["name"] = f"{svc['metadata']['name']}-aaaaa"
        second["endpoints"] = [{"addresses": [f"10.247.{i}.3"], "conditions": {"ready": shape == 16}}]
        return [svc, sl, second]
    if shape in (3, 13, 7) and eps:  # endpoint conditions left out (nil: ready); terminating, not serving
        eps[0]["conditions"] = {} if shape != 7 else {"ready": False, "serving": False, "terminating": True}
    if shape == 17:
        sl["metadata"]["name"] = f"{svc['metadata']['name']}-{i:05d}"  # a slice name of its own
    return [svc, sl]


def _objects(specs: list[ServiceSpec]) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Node", "metadata": {
        "name": NODE, "labels": {"topology.kubernetes.io/zone": "zone-a"}}}]
    for i, spec in enumerate(specs):
        objects += _edit(i, api_objects(spec))
    # Services the API has and the rules do not (and a headless one)
    objects += api_objects(ServiceSpec("ns1", "not-in-rules", "10.96.9.9", [PortSpec("http", 80, 8080)], endpoints=["10.250.0.1"]))
    headless = api_objects(ServiceSpec("ns1", "headless", "None", [PortSpec("http", 80, 8080)], endpoints=["10.250.0.2"]))
    headless[0]["spec"]["clusterIP"], headless[0]["spec"]["clusterIPs"] = "None", ["None"]
    return objects + headless


@pytest.mark.parametrize("edited", [False, True])
def test_api_one_pass_rows_equal_full_analysis_on_generated_rules(tmp_path: Path, edited: bool) -> None:
    """``edited``: the rules also hold what kube-proxy would never write (test_audit_onepass's edits:
    endpoint chains missing, a stale one, shares that do not add up, moved counters, an entry rule
    without its port, a jump to another Service's endpoint chain), and --problems is given."""
    specs = _services()
    dump = tmp_path / "iptables-save.txt"
    text = save_text(specs)
    dump.write_text(_with_problems(text) if edited else text)
    full, fast, analysed = _both([str(dump)], _objects(specs), edited, node=NODE)
    assert fast is not None and analysed is not None
    _assert_same(full, fast, "generated")
    assert full.audit_totals["services"] == 122
    assert analysed < 122 / 2, "rows were not derived from templates: the test would prove nothing"
    health = " ".join(r["HEALTH"] for r in full.audit_rows)
    assert "error" in health and ("probability-mismatch" in health if edited else " ok" in health), health
    if edited:
        assert any(r["PKTS"] not in ("0", "-") for r in full.audit_rows)


@pytest.mark.parametrize("learn_after", [1, audit_match.LEARN_AFTER])
@pytest.mark.parametrize("old,new", [("10.96.0.59", "10.96.0.256"), ("10.96.0.59", "10.96.0.059"), ("10.96.0.59", "10.96.0.00")])
def test_api_address_the_analysis_reads_apart_shares_no_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                old: str, new: str, learn_after: int) -> None:
    """Found by the one-pass campaign (tests/fuzz/onepass.py): a cluster IP with an octet past 255 or a
    leading zero, in the rules and the API alike, took its template's row ("endpoint-not-expected")
    where the analysis, which reads no address there, says only "no-endpoints"."""
    monkeypatch.setattr(audit_match, "LEARN_AFTER", learn_after)
    specs = _services()
    dump = tmp_path / "iptables-save.txt"
    dump.write_text(save_text(specs).replace(old, new))
    objects = json.loads(json.dumps(_objects(specs)).replace(f'"{old}"', f'"{new}"'))
    full, fast, _ = _both([str(dump)], objects, node=NODE)
    assert fast is not None
    _assert_same(full, fast, f"{old} -> {new}")


@pytest.mark.parametrize("edited", [False, True])
def test_api_compiled_templates_give_the_rows_of_the_full_analysis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  edited: bool) -> None:
    """The rows a compiled template's match makes (rules and API objects as one text) are the full
    analysis' too; most rows here come from a match."""
    matched = counting_matches(monkeypatch)
    specs = _services()
    dump = tmp_path / "iptables-save.txt"
    text = save_text(specs)
    dump.write_text(_with_problems(text) if edited else text)
    full, fast, _ = _both([str(dump)], _objects(specs), edited, node=NODE)
    assert fast is not None
    _assert_same(full, fast, "generated, compiled templates")
    assert matched[0] > 122 / 2, matched


def test_api_one_pass_without_a_node_object(tmp_path: Path) -> None:
    """No Node read (its zone unknown: the zone is inferred from the rules, or hints are not checked)."""
    specs = _services()
    dump = tmp_path / "iptables-save.txt"
    dump.write_text(save_text(specs))
    objects = [o for o in _objects(specs) if o.get("kind") != "Node"]
    full, fast, analysed = _both([str(dump)], objects)
    assert fast is not None and analysed is not None and analysed < 122 / 2
    _assert_same(full, fast, "generated, no Node")


def test_api_one_pass_with_a_field_json_cannot_write(tmp_path: Path) -> None:
    """A hand-written manifest's unquoted timestamp is a datetime once YAML reads it: that Service gets
    no template (its row from the full analysis), the others theirs; the rows are the full analysis'."""
    specs = _services()
    dump = tmp_path / "iptables-save.txt"
    dump.write_text(save_text(specs))
    text = "\n---\n".join(yaml.safe_dump(o) for o in _objects(specs))
    text = text.replace("spec:\n", "spec:\n  x-reviewed: 2024-01-15T10:00:00Z\n", 7)  # (the 7th: svc-06)
    objects = load_objects(text, "m.yaml")
    assert sum(isinstance((o.get("spec") or {}).get("x-reviewed"), datetime.datetime) for o in objects) == 7
    full, fast, analysed = _both([str(dump)], objects)
    assert fast is not None and analysed is not None and analysed < 122 / 2
    _assert_same(full, fast, "a datetime in the objects")
