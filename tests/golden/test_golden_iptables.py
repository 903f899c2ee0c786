"""Golden tests on real iptables dumps (shared/dumps, shared/examples): every renderer, plus named facts.

Each case pins the whole output (tests/golden/<case>/) and also asserts facts a reviewer can
check by eye against the dump, so that a wrong golden cannot be accepted blindly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import DUMPS, EXAMPLE, ROOT, require_shared, svcpath

UPSTREAM = "upstream-iptables-proxier-test-TestOverallIPTablesRules.txt"
DERIVED_SAVE = "derived-netns-iptables-nft-save-from-upstream-TestOverallIPTablesRules.txt"
DERIVED_LIST = "derived-netns-iptables-L-n-v-x-nat-from-upstream-TestOverallIPTablesRules.txt"
FLANNEL = "repo-blog-flannel-k8s-master-iptables-save.txt"
AFFINITY = "repo-sessionaffinity-experiment-test-my-nginx-before.txt"
UPSTREAM_MANIFEST = str(ROOT / "tests/fixtures/iptables/upstream-TestOverallIPTablesRules.yaml")
HELLO_MANIFEST = str(EXAMPLE / "manifest.yaml")


@dataclass
class Case:
    name: str
    rules: list[str]  # under shared/dumps, or "example:" + a file of the bundled example
    service: str
    manifest: str | None = None
    facts: Callable[[dict[str, Any]], None] = lambda doc: None
    exit_code: int = 0
    extra: list[str] = field(default_factory=list)


def _path(doc: dict[str, Any], port: str, entry: str, address: str | None = None) -> dict[str, Any]:
    p = next(p for p in doc["ports"] if p["name"] == port or str(p["port"]) == port)
    return next(x for x in p["paths"] if x["entry"] == entry and (address is None or x["address"] == address))


def _codes(doc: dict[str, Any]) -> set[str]:
    return {f["code"] for f in doc["findings"]}


# --- facts, one function per case; each reads like the dump it checks -------------

def hello_facts(doc: dict[str, Any], hidden: bool, ready: bool | None = True) -> None:
    v1 = _path(doc, "port-v1", "clusterIP")
    assert v1["chains"] == ["KUBE-SERVICES", "KUBE-SVC-R4PDB35TUPNR4CEW"]
    assert (v1["packets"], v1["bytes"]) == (2, 120)
    ep = v1["endpoints"][0]
    assert (ep["chain"], ep["ip"], ep["port"], ep["packets"], ep["bytes"], ep["ready"]) == (
        "KUBE-SEP-AA54JU3D4RO26WUA", "192.168.189.15", 9090, 2, 120, ready)
    v2 = _path(doc, "port-v2", "clusterIP")
    assert v2["chains"] == ["KUBE-SERVICES", "KUBE-SVC-P73F5K5MMQHXGZV7"]
    assert (v2["packets"], v2["bytes"]) == (1, 60)
    assert (v2["endpoints"][0]["ip"], v2["endpoints"][0]["port"], v2["endpoints"][0]["packets"]) == ("192.168.189.15", 9191, 1)
    for port, np_chain in (("port-v1", "KUBE-EXT-R4PDB35TUPNR4CEW"), ("port-v2", "KUBE-EXT-P73F5K5MMQHXGZV7")):
        np = _path(doc, port, "nodePort")
        assert np["chains"][:2] == ["KUBE-NODEPORTS", np_chain]
    assert v1["portShown"] is (not hidden)
    assert ("hidden-port-match" in _codes(doc)) is hidden


def upstream_facts(doc: dict[str, Any]) -> None:
    svc = doc["service"]["name"]
    if svc == "svc4":  # two endpoints, 50/50, plus an external IP
        eps = _path(doc, "p80", "clusterIP")["endpoints"]
        assert [(e["ip"], e["probability"]) for e in eps] == [("10.180.0.4", 0.5), ("10.180.0.5", 0.5)]
        assert _path(doc, "p80", "externalIP", "192.168.99.33")["chains"] == ["KUBE-SERVICES", "KUBE-EXT-4SW47YFZTEDKD3PK", "KUBE-SVC-4SW47YFZTEDKD3PK"]
    elif svc == "svc5":  # LB with source ranges and ClientIP affinity
        lb = _path(doc, "p80", "loadBalancer", "5.6.7.8")
        assert lb["chains"] == ["KUBE-SERVICES", "KUBE-FW-NUKIZ6OKUXPJNT4C", "KUBE-EXT-NUKIZ6OKUXPJNT4C", "KUBE-SVC-NUKIZ6OKUXPJNT4C"]
        assert lb["sourceRanges"] == ["203.0.113.0/25"]
        assert lb["endpoints"][0]["affinity"] is True and lb["endpoints"][0]["ip"] == "10.180.0.3"
        assert doc["ports"][0]["affinityTimeoutSeconds"] == 10800
    elif svc == "svc6":  # no endpoints: filter REJECT only
        p = _path(doc, "p80", "clusterIP")
        assert p["verdict"] == "reject" and p["chains"] == ["filter", "KUBE-SERVICES"]
        assert "no-endpoints" in _codes(doc)
    elif svc == "svc2":  # eTP=Local, endpoint on another node: external entries DROP
        assert _path(doc, "p80", "loadBalancer", "1.2.3.4")["verdict"] == "drop"
        assert _path(doc, "p80", "clusterIP")["endpoints"][0]["ip"] == "10.180.0.2"
        assert "no-local-endpoints" in _codes(doc)
    elif svc == "svc1":
        p = _path(doc, "p80", "clusterIP")
        assert p["chains"] == ["KUBE-SERVICES", "KUBE-SVC-XPGD46QRK7WJZT7O"]
        assert p["endpoints"][0]["chain"] == "KUBE-SEP-SXIVWICOYRO3J4NJ"
    elif svc == "svc3":
        assert _path(doc, "p80", "nodePort", None)["chains"] == ["KUBE-NODEPORTS", "KUBE-EXT-X27LE4BHSL4DOUIK", "KUBE-SVC-X27LE4BHSL4DOUIK"]


def flannel_facts(doc: dict[str, Any]) -> None:
    name = doc["service"]["name"]
    if name == "jtest":
        p = _path(doc, "8080", "clusterIP")
        assert sorted((e["ip"], e["probability"]) for e in p["endpoints"]) == [("10.244.1.19", 0.5), ("10.244.2.17", 0.5)]
        assert _path(doc, "8080", "nodePort")["port"] == 31455
    elif name == "kube-dns":
        dns = next(p for p in doc["ports"] if p["name"] == "dns")
        assert dns["protocol"] == "UDP" and dns["serviceChain"] == "KUBE-SVC-TCOU7JCQXEZGVUNU"
    elif name == "kubernetes":
        ep = _path(doc, "https", "clusterIP")["endpoints"][0]
        assert (ep["ip"], ep["port"], ep["chain"]) == ("192.168.205.145", 6443, _path(doc, "https", "clusterIP")["endpoints"][0]["chain"])
        assert _path(doc, "https", "clusterIP")["chains"][-1] == "KUBE-SVC-NPX46M4PTMTKRN6Y"


def affinity_facts(doc: dict[str, Any]) -> None:
    eps = _path(doc, "80", "clusterIP")["endpoints"]
    assert [e["ip"] for e in eps] == ["10.24.0.16", "10.24.1.8", "10.24.2.6"]
    for e in eps:  # 0.33333333349, then 0.5 of the rest, then the rest: a third each
        assert abs(e["probability"] - 1 / 3) < 1e-6


UPSTREAM_SERVICES = ["ns1/svc1", "ns2/svc2", "ns3/svc3", "ns4/svc4", "ns5/svc5", "ns6/svc6"]
FLANNEL_SERVICES = ["default/jtest", "default/kubernetes", "kube-system/kube-dns",
                    "kubernetes-dashboard/kubernetes-dashboard", "kubernetes-dashboard/dashboard-metrics-scraper"]

CASES: list[Case] = [
    Case("hello-host", ["example:iptables-save-on-node-host.txt"], "hello-service", HELLO_MANIFEST, lambda d: hello_facts(d, hidden=True)),
    Case("hello-pod", ["example:iptables-save-in-kube-proxy-pod.txt"], "hello-service", HELLO_MANIFEST, lambda d: hello_facts(d, hidden=False)),
    Case("hello-list", ["example:iptables-L-in-kube-proxy-pod.txt"], "hello-service", HELLO_MANIFEST, lambda d: hello_facts(d, hidden=False)),
    Case("hello-host-dump-only", ["example:iptables-save-on-node-host.txt"], "default/hello-service", None,
         lambda d: (hello_facts(d, hidden=True, ready=None), _codes(d) >= {"dump-only"})),
    *[Case(f"upstream-{s.replace('/', '-')}", [UPSTREAM], s, UPSTREAM_MANIFEST, upstream_facts,
           3 if s == "ns6/svc6" else 0) for s in UPSTREAM_SERVICES],
    *[Case(f"upstream-dump-only-{s.replace('/', '-')}", [UPSTREAM], s, None, upstream_facts,
           3 if s == "ns6/svc6" else 0) for s in UPSTREAM_SERVICES],
    *[Case(f"derived-save-{s.replace('/', '-')}", [DERIVED_SAVE], s, UPSTREAM_MANIFEST, upstream_facts,
           3 if s == "ns6/svc6" else 0) for s in UPSTREAM_SERVICES],
    *[Case(f"derived-list-dump-only-{s.replace('/', '-')}", [DERIVED_LIST], s, None, upstream_facts)
      for s in UPSTREAM_SERVICES if s not in ("ns6/svc6",)],
    *[Case(f"flannel-{s.replace('/', '-')}", [FLANNEL], s, None, flannel_facts) for s in FLANNEL_SERVICES],
    Case("affinity-my-nginx", [AFFINITY], "test/my-nginx", None, affinity_facts),
]


def _args(case: Case) -> list[str]:
    require_shared()
    args: list[str] = []
    for r in case.rules:
        path = str(EXAMPLE / r[len("example:"):]) if r.startswith("example:") else str(DUMPS / r)
        args += ["--rules-file", path]
    if case.manifest:
        args += ["--manifest", case.manifest]
    return [case.service, *args, *case.extra]


def _relative(text: str) -> str:
    """Golden files must not depend on where the checkout and shared/ live."""
    return text.replace(str(DUMPS) + "/", "dumps/").replace(str(EXAMPLE) + "/", "example/").replace(str(ROOT) + "/", "")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden(case: Case, golden) -> None:
    code, out, err = svcpath(*_args(case), "-o", "json")
    assert err == "" and code == case.exit_code, err
    doc = json.loads(out)
    case.facts(doc)
    golden(_relative(out), f"{case.name}/report.json")
    for fmt in ("table", "tree"):
        code, text, err = svcpath(*_args(case), "-o", fmt, "--color", "never")
        assert code == case.exit_code and err == ""
        golden(_relative(text), f"{case.name}/{fmt}.txt")


def test_wide_and_yaml_carry_the_same_paths() -> None:
    case = CASES[0]
    code, wide, _ = svcpath(*_args(case), "-o", "wide")
    assert "KUBE-NODEPORTS > KUBE-EXT-R4PDB35TUPNR4CEW  KUBE-SVC-R4PDB35TUPNR4CEW  KUBE-SEP-AA54JU3D4RO26WUA" in wide
    assert "KUBE-SEP-AA54JU3D4RO26WUA" in wide
    import yaml

    code, out, _ = svcpath(*_args(case), "-o", "yaml")
    doc = yaml.safe_load(out)
    hello_facts(doc, hidden=True)


def test_port_filter_keeps_one_port() -> None:
    code, out, _ = svcpath(*_args(CASES[1]), "--port", "port-v2", "-o", "json")
    doc = json.loads(out)
    assert [p["name"] for p in doc["ports"]] == ["port-v2"]
    code, out, _ = svcpath(*_args(CASES[1]), "--port", "39090", "-o", "json")
    assert [p["name"] for p in json.loads(out)["ports"]] == ["port-v1"]
    code, _, err = svcpath(*_args(CASES[1]), "--port", "nope")
    assert code == 2 and err.startswith("error: service default/hello-service has no port \"nope\"")


@pytest.mark.parametrize("dump", [UPSTREAM, DERIVED_SAVE, FLANNEL, AFFINITY, DERIVED_LIST])
def test_audit_lists_every_service(dump: str) -> None:
    require_shared()
    code, out, err = svcpath("--rules-file", str(DUMPS / dump), "--all", "-o", "json")
    doc = json.loads(out)
    names = {f'{i["service"]["namespace"]}/{i["service"]["name"]}' for i in doc["items"]}
    expected = {DERIVED_LIST: set(UPSTREAM_SERVICES) - {"ns6/svc6"}, UPSTREAM: set(UPSTREAM_SERVICES), DERIVED_SAVE: set(UPSTREAM_SERVICES),
                FLANNEL: set(FLANNEL_SERVICES), AFFINITY: {"test/my-nginx"}}[dump]
    assert names == expected
    code, table, _ = svcpath("--rules-file", str(DUMPS / dump), "--all", "--color", "never")
    assert table.splitlines()[0].split()[:3] == ["NAMESPACE", "NAME", "TYPE"]
    rows = [line for line in table.splitlines() if not line.startswith("Note: ")]
    assert rows.index("") == len(expected) + 1  # a row per Service, then the totals below a blank line
    assert rows[-1].startswith(f"{len(expected)} Service, " if len(expected) == 1 else f"{len(expected)} Services, ")
    # issue 9, class 11: a nat-only input cannot show Services without endpoints (their REJECT is in filter): say so
    nat_only = dump in (DERIVED_LIST, AFFINITY)
    assert ("no filter table in the input: a Service without endpoints" in table) is nat_only
    assert any("no filter table in the input" in n for n in doc.get("notes", [])) is nat_only


def test_table_fits_the_terminal_and_says_what_it_left_out() -> None:
    """A terminal of 80 columns: the table drops the least useful columns, keeps the counters."""
    from kubectl_svcpath.app import Env, run
    from kubectl_svcpath.options import Options
    import io

    out = io.StringIO()
    env = Env(out, io.StringIO(), isatty=True, width=80, no_color=True)
    run(Options(example=True, color="never"), env)
    text = out.getvalue()
    table = text[text.index("PORT "):text.index("Findings:")]
    assert all(len(line) <= 80 for line in table.splitlines()), table
    header = table.splitlines()[0].split()
    assert {"PORT", "DESTINATION", "PKTS", "ENDPOINT", "STATE"} <= set(header)
    assert "(-o wide adds " in text
    assert all(len(line) <= 80 for line in text[text.index("Findings:"):].splitlines() if " " in line.strip())
