"""--nodes and --sample: which nodes a multi-node read covers (pure; the live lab test reads them)."""

from __future__ import annotations

import pytest

from kubectl_svcpath.errors import UsageError
from kubectl_svcpath.node_choice import parse_nodes_flag, sample_across_zones
from tests.conftest import svcpath


def _node(name: str, zone: str | None) -> dict:
    labels = {"topology.kubernetes.io/zone": zone} if zone else {}
    return {"metadata": {"name": name, "labels": labels}}


@pytest.mark.parametrize("value, expected", [
    ("w1,w2", (None, ["w1", "w2"])),
    (" w1 , w1,w3 ", (None, ["w1", "w3"])),
    ("node-role.kubernetes.io/worker", ("node-role.kubernetes.io/worker", None)),
    ("topology.kubernetes.io/zone=eu-1a", ("topology.kubernetes.io/zone=eu-1a", None)),
    ("zone in (a,b)", ("zone in (a,b)", None)),
    ("!spot", ("!spot", None)),
])
def test_nodes_flag_is_names_or_a_label_selector(value, expected):
    assert parse_nodes_flag(value) == expected


@pytest.mark.parametrize("value", ["", "w1,,w2"])
def test_an_empty_nodes_flag_or_name_is_refused(value):
    with pytest.raises(UsageError):
        parse_nodes_flag(value)


def test_a_sample_takes_every_zone_before_any_zone_twice():
    nodes = [_node(f"a{i}", "zone-a") for i in range(5)] + [_node("b0", "zone-b"), _node("b1", "zone-b")] + \
            [_node("x0", None)]
    assert sample_across_zones(nodes, 3) == ["a0", "b0", "x0"]
    assert sample_across_zones(nodes, 5) == ["a0", "a1", "b0", "b1", "x0"]
    assert sample_across_zones(nodes, 7) == ["a0", "a1", "a2", "a3", "b0", "b1", "x0"]
    assert sample_across_zones(nodes, 50) == sorted(n["metadata"]["name"] for n in nodes)


@pytest.mark.parametrize("args, message", [
    (["--all-nodes", "--nodes", "w1"], "use either --all-nodes or --nodes"),
    (["--sample", "0"], "invalid --sample 0"),
    (["--all-nodes", "--max-parallel", "0"], "invalid --max-parallel 0"),
    (["--nodes", "w1", "--node", "w2"], "use either --node NAME or --nodes"),
    (["--sample", "2", "--rules-file", "x.txt"], "--sample reads the rules of the cluster's nodes"),
])
def test_node_flags_that_contradict_each_other_are_usage_errors(args, message):
    code, out, err = svcpath("web", *args)
    assert (code, out) == (2, "")
    assert message in err
