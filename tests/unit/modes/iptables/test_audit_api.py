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

import datetime
import json
from pathlib import Path

import pytest
import yaml

from kubectl_svcpath.manifest import load_objects
from kubectl_svcpath.modes.iptables import audit_match
from tests.conftest import DUMPS, EXAMPLE, ROOT, require_shared
from tests.lab.kpgen import save_text
from tests.onepass_inputs import NODE, api_objects_of, api_services, assert_same, both_api, counting_matches, save_with_problems

UPSTREAM_MANIFEST = ROOT / "tests/fixtures/iptables/upstream-TestOverallIPTablesRules.yaml"


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
        full, fast, _ = both_api([path], objects, problems)
        if fast is not None:
            assert_same(full, fast, dump)


@pytest.mark.parametrize("edited", [False, True])
def test_api_one_pass_rows_equal_full_analysis_on_generated_rules(tmp_path: Path, edited: bool) -> None:
    """``edited``: the rules also hold what kube-proxy would never write (test_audit_onepass's edits:
    endpoint chains missing, a stale one, shares that do not add up, moved counters, an entry rule
    without its port, a jump to another Service's endpoint chain), and --problems is given."""
    specs = api_services()
    dump = tmp_path / "iptables-save.txt"
    text = save_text(specs)
    dump.write_text(save_with_problems(text) if edited else text)
    full, fast, analysed = both_api([str(dump)], api_objects_of(specs), edited, node=NODE)
    assert fast is not None and analysed is not None
    assert_same(full, fast, "generated")
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
    specs = api_services()
    dump = tmp_path / "iptables-save.txt"
    dump.write_text(save_text(specs).replace(old, new))
    objects = json.loads(json.dumps(api_objects_of(specs)).replace(f'"{old}"', f'"{new}"'))
    full, fast, _ = both_api([str(dump)], objects, node=NODE)
    assert fast is not None
    assert_same(full, fast, f"{old} -> {new}")


@pytest.mark.parametrize("edited", [False, True])
def test_api_compiled_templates_give_the_rows_of_the_full_analysis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  edited: bool) -> None:
    """The rows a compiled template's match makes (rules and API objects as one text) are the full
    analysis' too; most rows here come from a match."""
    matched = counting_matches(monkeypatch)
    specs = api_services()
    dump = tmp_path / "iptables-save.txt"
    text = save_text(specs)
    dump.write_text(save_with_problems(text) if edited else text)
    full, fast, _ = both_api([str(dump)], api_objects_of(specs), edited, node=NODE)
    assert fast is not None
    assert_same(full, fast, "generated, compiled templates")
    assert matched[0] > 122 / 2, matched


def test_api_one_pass_without_a_node_object(tmp_path: Path) -> None:
    """No Node read (its zone unknown: the zone is inferred from the rules, or hints are not checked)."""
    specs = api_services()
    dump = tmp_path / "iptables-save.txt"
    dump.write_text(save_text(specs))
    objects = [o for o in api_objects_of(specs) if o.get("kind") != "Node"]
    full, fast, analysed = both_api([str(dump)], objects)
    assert fast is not None and analysed is not None and analysed < 122 / 2
    assert_same(full, fast, "generated, no Node")


def test_api_one_pass_with_a_field_json_cannot_write(tmp_path: Path) -> None:
    """A hand-written manifest's unquoted timestamp is a datetime once YAML reads it: that Service gets
    no template (its row from the full analysis), the others theirs; the rows are the full analysis'."""
    specs = api_services()
    dump = tmp_path / "iptables-save.txt"
    dump.write_text(save_text(specs))
    text = "\n---\n".join(yaml.safe_dump(o) for o in api_objects_of(specs))
    text = text.replace("spec:\n", "spec:\n  x-reviewed: 2024-01-15T10:00:00Z\n", 7)  # (the 7th: svc-06)
    objects = load_objects(text, "m.yaml")
    assert sum(isinstance((o.get("spec") or {}).get("x-reviewed"), datetime.datetime) for o in objects) == 7
    full, fast, analysed = both_api([str(dump)], objects)
    assert fast is not None and analysed is not None and analysed < 122 / 2
    assert_same(full, fast, "a datetime in the objects")
