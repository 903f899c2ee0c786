"""attach_slices on a Service rebuilt from the rules (dump-only): its endpoints carry no EndpointSlice fact, so
every hop keeps its unknowns and is marked not cross-checked, without a chain name hashed for each endpoint
(an --all -o json audit of 10,000 Services hashed 100,000); a fact from a pasted `kubectl describe` is still
copied onto the hop it matches."""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_svcpath.endpoints import attach_slices
from kubectl_svcpath.path import EndpointHop, EntryPath, PortPath
from kubectl_svcpath.snapshot import Endpoint, ServicePort, ServiceSnapshot


def _case(ready: bool | None, node: str | None = None) -> tuple[ServiceSnapshot, ServicePort, PortPath]:
    port = ServicePort(name="http", protocol="TCP", port=80, target_port=8080)
    eps = (Endpoint("10.0.0.1", 8080, ready=ready, serving=None, terminating=None, node=node),
           Endpoint("10.0.0.2", 8080, ready=None, serving=None, terminating=None))
    snap = ServiceSnapshot("ns", "web", ports=(port,), endpoints={"http": eps}, from_api=False, has_slices=False)
    hops = [EndpointHop("10.0.0.1", 8080, "KUBE-SEP-AAAAAAAAAAAAAAAA", 0.5), EndpointHop("10.0.0.9", 8080, "KUBE-SEP-BBBBBBBBBBBBBBBB", 0.5)]
    pp = PortPath(port=port, paths=[EntryPath("clusterIP", "10.96.0.10", 80, ["KUBE-SERVICES", "KUBE-SVC-X"], endpoints=hops)])
    return snap, port, pp


def _hops(pp: PortPath) -> list[tuple[Any, ...]]:
    return [(h.ip, h.ready, h.serving, h.terminating, h.node, h.in_slices) for p in pp.paths for h in p.endpoints]


def test_rules_own_endpoints_are_not_matched_one_by_one() -> None:
    snap, port, pp = _case(ready=None)

    def chain_for(e: Endpoint) -> str:
        raise AssertionError(f"chain name hashed for {e.ip}")

    attach_slices(snap, port, pp, {"KUBE-SVC-X"}, chain_for)
    assert _hops(pp) == [("10.0.0.1", None, None, None, None, None), ("10.0.0.9", None, None, None, None, None)]
    assert pp.missing_endpoints == []


@pytest.mark.parametrize(("ready", "node"), [(True, None), (None, "n1"), (False, "n2")])
def test_a_fact_the_input_tells_is_still_copied_onto_its_hop(ready: bool | None, node: str | None) -> None:
    snap, port, pp = _case(ready, node)
    attach_slices(snap, port, pp, {"KUBE-SVC-X"}, lambda e: "KUBE-SEP-AAAAAAAAAAAAAAAA" if e.ip == "10.0.0.1" else None)
    assert _hops(pp) == [("10.0.0.1", ready, None, None, node, None), ("10.0.0.9", None, None, None, None, None)]
