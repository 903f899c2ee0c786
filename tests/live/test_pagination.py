"""LISTs are read in pages, as kubectl reads them (--chunk-size 500): ``limit=500``, then ``continue``
with the token of the page before, until the API server gives none. The strict fake API server
refuses a token it did not hand out for that very list; an expired token (410) means the whole
list again, as client-go's pager does.

1,101 Services and their 1,101 EndpointSlices, audited live (-A): three pages of each, and every
Service of every page in the audit's totals.
"""

from __future__ import annotations

import json

import pytest

from kubectl_svcpath.kube.reads import CHUNK_SIZE
from tests.conftest import svcpath
from tests.lab import kpgen
from tests.live.conftest import Scenario, hello_scenario

pytestmark = [pytest.mark.lab, pytest.mark.api]

N = 2 * CHUNK_SIZE + 100  # background Services: with hello-service, three pages of each LIST
LISTS = ("/api/v1/services", "/apis/discovery.k8s.io/v1/endpointslices")


def _many(scenario: Scenario) -> None:
    hello_scenario(scenario)
    for spec in kpgen.cluster_services(N, 1):
        scenario.cluster.add_objects(kpgen.api_objects(spec, node_of={ip: "cp01" for ip in spec.endpoints}))


def _audit(scenario: Scenario) -> dict:
    code, out, err = svcpath("--all", "-A", "--problems", "-o", "json", "--kubeconfig", str(scenario.kubeconfig()))
    assert code == 3, err  # the node holds hello-service's rules only: the others are problems
    return json.loads(out)


def _pages(scenario: Scenario, path: str) -> list[dict[str, list[str]]]:
    return [r.query for r in scenario.cluster.requests if r.path == path]


def test_every_page_of_a_list_is_read(scenario: Scenario):
    _many(scenario)
    doc = _audit(scenario)
    assert doc["totals"]["services"] == N + 1
    names = {(i["service"]["namespace"], i["service"]["name"]) for i in doc["items"]}
    assert {("bench", f"svc-{i:05d}") for i in (0, CHUNK_SIZE - 1, CHUNK_SIZE, 2 * CHUNK_SIZE, N - 1)} <= names
    for path in LISTS:
        pages = _pages(scenario, path)
        assert len(pages) == 3, (path, pages)
        assert all(q["limit"] == [str(CHUNK_SIZE)] for q in pages)
        assert "continue" not in pages[0] and pages[1]["continue"] != pages[2]["continue"]
    scenario.assert_read_only()  # strict: no token the server did not issue for that list


def test_an_expired_continue_token_reads_the_whole_list_again(scenario: Scenario):
    _many(scenario)
    scenario.cluster.faults.expire_continue = 1  # the first second page asked for (of either list): 410 Expired
    doc = _audit(scenario)
    assert doc["totals"]["services"] == N + 1
    expired = next(r.path for r in scenario.cluster.requests if r.status == 410)
    statuses = [(r.status, "continue" in r.query, "limit" in r.query) for r in scenario.cluster.requests
                if r.path == expired]
    assert statuses == [(200, False, True), (410, True, True), (200, False, False)]
    scenario.assert_read_only()
