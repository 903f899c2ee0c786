"""Real pastes from public threads and docs, run as users run the plugin, checked against their facts.

Every `*.facts.yaml` beside this file names one verbatim paste and what it shows (see README.md here).
For each paste the plugin runs as `kubectl-svcpath --rules-file PASTE --all -o json` and, per Service
the paste names, `kubectl-svcpath NS/NAME --rules-file PASTE -o json`. The test checks:
  (a) the facts (ports, cluster IPs, node ports, chains, endpoints, counters, affinity) are in the output;
  (b) `--all` lists every Service the paste names through a kube-proxy chain or comment;
  (c) nothing is claimed absent (no endpoints, not programmed, headless, no local endpoints, a defaulted
      sessionAffinity / externalTrafficPolicy) unless the paste holds the complete table;
  (d) the exit code is never 1 (internal error) and no traceback reaches the user.
A case the plugin cannot read yet carries `xfail: "class N: why"` in its facts file; it runs as
xfail(strict=True), so the fix that makes it pass has to remove the mark.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from collections.abc import Iterator

import pytest
import yaml

from tests.conftest import SHARED, run_cli

CORPUS = Path(__file__).resolve().parent
FACTS = sorted(CORPUS.glob("*.facts.yaml"))

# Exit codes a report or a clear refusal may end with (README "Exit codes"); 1 is a bug.
REPORT_CODES = {0, 3}
ABSENCE_CODES = {"no-endpoints", "no-local-endpoints", "service-not-programmed", "endpoint-not-programmed", "headless-service"}
ABSENCE_WORDS = re.compile(r"\bno endpoints\b|\bno local endpoints?\b|not programmed|\bheadless\b", re.I)
# Statements a facts file may allow per Service because the paste shows them (e.g. a REJECT "has no endpoints").
SHOWN_VOCABULARY = ABSENCE_CODES | {"sessionAffinity-None", "externalTrafficPolicy-Cluster"}


def _paste_path(name: str) -> Path:
    """A paste kept here, or `shared:PATH` for a verbatim paste the lead keeps in shared/ (the seed)."""
    return SHARED / name.removeprefix("shared:") if name.startswith("shared:") else CORPUS / name


def _load(path: Path) -> dict[str, Any]:
    facts = yaml.safe_load(path.read_text(encoding="utf-8"))
    facts["_path"] = path
    return facts


def _params() -> Iterator[Any]:
    for path in FACTS:
        facts = _load(path)
        marks = [pytest.mark.xfail(strict=True, reason=facts["xfail"])] if facts.get("xfail") else []
        yield pytest.param(facts, id=path.name.removesuffix(".facts.yaml"), marks=marks)


def _walk(node: Any) -> Iterator[Any]:
    """Every dict, list and scalar inside a JSON document."""
    yield node
    if isinstance(node, dict):
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def _strings(node: Any) -> set[str]:
    return {v for v in _walk(node) if isinstance(v, str)}


def _run(*args: str) -> tuple[int, Any, str]:
    proc = run_cli(*args, timeout=60)
    where = f"kubectl-svcpath {' '.join(args)}"
    assert proc.returncode != 1, f"{where}: exit 1 (internal error)\n{proc.stderr}"
    assert "Traceback" not in proc.stderr + proc.stdout, f"{where}: traceback\n{proc.stderr}"
    doc = None
    if proc.stdout.strip():
        try:
            doc = json.loads(proc.stdout)
        except json.JSONDecodeError as e:  # pragma: no cover - reported as a failure
            pytest.fail(f"{where}: stdout is not JSON ({e}):\n{proc.stdout[:2000]}")
    return proc.returncode, doc, f"{where}: exit {proc.returncode}\nstderr: {proc.stderr.strip()}"


def _split_name(full: str) -> tuple[str, str, str]:
    """'ns/name:port' -> (ns, name, port); the port part may be empty (unnamed port)."""
    ns, _, rest = full.partition("/")
    name, _, port = rest.partition(":")
    return ns, name, port


def _item_for(doc: Any, ns: str, name: str) -> dict[str, Any] | None:
    items = doc.get("items", []) if doc.get("kind") == "ServicePathList" else [doc]
    for item in items:
        svc = item.get("service") or {}
        # "" in a facts name ("/web:http"): the paste does not show the namespace, so the report has none
        if svc.get("namespace") == (ns or None) and svc.get("name") == name:
            return item
    return None


def _ref(ns: str, name: str) -> str:
    """How a user names the Service on the command line (NAME alone when the paste shows no namespace)."""
    return f"{ns}/{name}" if ns else name


def _check_service(item: dict[str, Any], svc: dict[str, Any], where: str) -> None:
    """(a): what the paste shows about one Service port is in its report."""
    ns, name, port_name = _split_name(svc["name"])
    ports = item.get("ports") or []
    service = item.get("service") or {}
    if svc.get("port_not_in_input"):  # named only by a rule that tells neither its number nor its protocol
        assert not ports, f"{where}: {svc['name']}: ports {[p.get('name') for p in ports]} reported, the paste shows none"
        for key, fact in (("healthCheckNodePort", "health_check_node_port"),):
            if fact in svc:
                assert service.get(key) == svc[fact], f"{where}: {svc['name']}: {key} {service.get(key)!r} != {svc[fact]!r}"
        return
    port = next((p for p in ports if p.get("name") == port_name), None)
    assert port is not None, f"{where}: {svc['name']}: port {port_name!r} not reported (ports: {[p.get('name') for p in ports]})"
    strings = _strings(port)
    for chain in svc.get("chains", []):
        assert chain in strings, f"{where}: {svc['name']}: chain {chain} shown in the paste is not in the report"
    if "cluster_ip" in svc:
        ips = set(item["service"].get("clusterIPs") or []) | {p.get("address") for p in port.get("paths", [])}
        assert svc["cluster_ip"] in ips, f"{where}: {svc['name']}: cluster IP {svc['cluster_ip']} not reported"
    if "port" in svc:
        assert port.get("port") == svc["port"], f"{where}: {svc['name']}: port {port.get('port')} != {svc['port']}"
    if "node_port" in svc:
        assert port.get("nodePort") == svc["node_port"], f"{where}: {svc['name']}: nodePort {port.get('nodePort')} != {svc['node_port']}"
    endpoints = {(e.get("ip"), e.get("port")) for e in _walk(port) if isinstance(e, dict) and "ip" in e and "port" in e}
    for ep in svc.get("endpoints", []):
        ip, _, p = ep.rpartition(":")
        assert (ip, int(p)) in endpoints, f"{where}: {svc['name']}: endpoint {ep} shown in the paste is not in the report"
    for chain, (pkts, byts) in (svc.get("endpoint_counters") or {}).items():
        hits = [e for e in _walk(port) if isinstance(e, dict) and e.get("chain") == chain and "packets" in e]
        assert any(e.get("packets") == pkts and e.get("bytes") == byts for e in hits), (
            f"{where}: {svc['name']}: counters [{pkts}:{byts}] of {chain} not reported ({[(e.get('packets'), e.get('bytes')) for e in hits]})"
        )
    for entry in svc.get("entry_counters") or []:
        paths = [p for p in port.get("paths", []) if p.get("entry") == entry["entry"]]
        assert any(p.get("packets") == entry["packets"] and p.get("bytes") == entry["bytes"] for p in paths), (
            f"{where}: {svc['name']}: {entry['entry']} entry counters {entry['packets']}/{entry['bytes']} not reported"
        )
    codes = {f.get("code") for f in item.get("findings") or []}
    for code in svc.get("findings") or []:
        assert code in codes, f"{where}: {svc['name']}: finding {code} expected from the paste's evidence (got {sorted(codes)})"
    service = item.get("service") or {}
    for key, fact in (("type", "type"), ("sessionAffinity", "session_affinity"), ("externalTrafficPolicy", "external_traffic_policy")):
        if fact in svc:
            assert service.get(key) == svc[fact], f"{where}: {svc['name']}: {key} {service.get(key)!r} != {svc[fact]!r}"
    for key in svc.get("seen") or []:  # facts a pasted `kubectl describe service` shows: cited with their line
        ref = (service.get("seen") or {}).get(key) or ""
        assert re.search(r":\d+$", ref), f"{where}: {svc['name']}: {key} shown by the paste's description, not cited (seen: {service.get('seen')})"
    if "affinity_seconds" in svc:
        assert port.get("affinityTimeoutSeconds") == svc["affinity_seconds"], f"{where}: {svc['name']}: affinity timeout not reported"
        assert item["service"].get("sessionAffinity") == "ClientIP", f"{where}: {svc['name']}: affinity seen in the rules but sessionAffinity is {item['service'].get('sessionAffinity')!r}"


def _check_no_absence_claims(item: dict[str, Any], facts: dict[str, Any], where: str) -> None:
    """(c): an excerpt proves nothing absent; only what the paste shows may be stated."""
    for statement in facts.get("must_not") or []:
        _check_must_not(item, statement, where)
    if facts.get("complete"):
        return
    svc_ident = f"{item['service'].get('namespace')}/{item['service'].get('name')}"
    shown: set[str] = set()
    for svc in facts.get("services") or []:
        ns, name, _ = _split_name(svc["name"])
        if f"{ns or None}/{name}" == svc_ident:
            shown |= set(svc.get("shown") or [])
    service_chains = {p.get("serviceChain") for p in item.get("ports") or []}
    for chain, statements in (facts.get("shown_by_chain") or {}).items():  # a Service no comment names
        if chain in service_chains:
            shown |= set(statements)
    for f in item.get("findings") or []:
        code = f.get("code")
        if code in ABSENCE_CODES and code not in shown:
            pytest.fail(f"{where}: {svc_ident}: finding {code} claims absence from an excerpt: {f.get('message')}")
        if code not in shown and ABSENCE_WORDS.search(f.get("message") or "") and not (shown & ABSENCE_CODES):
            pytest.fail(f"{where}: {svc_ident}: finding {code} claims absence from an excerpt: {f.get('message')}")
    for port in item.get("ports") or []:
        for path in port.get("paths") or []:
            assert path.get("verdict") != "missing" or "service-not-programmed" in shown, (
                f"{where}: {svc_ident}:{port.get('name')}: verdict 'missing' for {path.get('entry')} from an excerpt"
            )
    service = item.get("service") or {}
    if service.get("sessionAffinity") == "None":
        assert "sessionAffinity-None" in shown, f"{where}: {svc_ident}: sessionAffinity None defaulted from an excerpt"
    if service.get("externalTrafficPolicy") == "Cluster":
        assert "externalTrafficPolicy-Cluster" in shown, f"{where}: {svc_ident}: externalTrafficPolicy Cluster defaulted from an excerpt"


def _check_tables(item: dict[str, Any], facts: dict[str, Any], where: str) -> None:
    """A filter table in the input is read as filter, and then not reported missing."""
    if "filter" in (facts.get("tables") or []):
        for note in item.get("notes") or []:
            assert "no filter table" not in note, f"{where}: the filter table is in the input, yet: {note}"


def _check_must_not(item: dict[str, Any], statement: str, where: str) -> None:
    """Paste-specific statements the report must not make."""
    svc = item.get("service") or {}
    if statement == "invented-namespace":
        assert svc.get("namespace") in (None, ""), f"{where}: namespace {svc.get('namespace')!r} is not in the input"
    elif statement.startswith("clusterIP-entry:"):
        addr = statement.split(":", 1)[1]
        for p in _walk(item):
            if isinstance(p, dict) and p.get("entry") == "clusterIP" and p.get("address") == addr:
                pytest.fail(f"{where}: {addr} is a node address (NodePort virtual server), reported as a cluster IP")


@pytest.mark.parametrize("facts", list(_params()))
def test_corpus_paste(facts: dict[str, Any]) -> None:
    pastes = facts["paste"] if isinstance(facts["paste"], list) else [facts["paste"]]
    for name in pastes:
        assert _paste_path(name).is_file(), f"{facts['_path'].name}: paste {name} missing"
    for shown in [svc.get("shown") or [] for svc in facts.get("services") or []] + list((facts.get("shown_by_chain") or {}).values()):
        unknown = set(shown) - SHOWN_VOCABULARY
        assert not unknown, f"{facts['_path'].name}: unknown 'shown' statements {unknown}"
    args = [a for name in pastes for a in ("--rules-file", str(_paste_path(name)))] + ["-o", "json"]
    if facts.get("lenient"):
        args.append("--lenient")
    if facts.get("proxy_mode_flag"):
        args += ["--proxy-mode", facts["proxy_mode_flag"]]

    code, doc, where = _run(*args, "--all")
    if facts.get("expect_exit") is not None:
        # a paste that cannot answer anything by itself: one clear refusal with the documented code
        assert code == facts["expect_exit"], f"{where}: expected exit {facts['expect_exit']}"
        return
    assert code in REPORT_CODES and doc is not None, f"{where}: the paste was refused"
    # kube-proxy chains the paste holds (named or not) must show up in the report
    strings = _strings(doc)
    for chain in facts.get("chains") or []:
        assert chain in strings, f"{where}: chain {chain} (in the paste) is not in the --all report"
    assert doc.get("kind") == "ServicePathList", where
    # (b) every Service named by a kube-proxy chain or comment
    wanted = {(ns or None, name) for ns, name, _ in (_split_name(s["name"]) for s in facts.get("services") or [])}
    listed = {((i.get("service") or {}).get("namespace"), (i.get("service") or {}).get("name")) for i in doc.get("items", [])}
    missing = wanted - listed
    assert not missing, f"{where}: --all leaves out {sorted(map(str, missing))} (listed: {sorted(map(str, listed))})"
    for item in doc.get("items", []):
        _check_no_absence_claims(item, facts, where)
        _check_tables(item, facts, where)
        if facts.get("proxy_mode"):
            assert item.get("proxyMode") == facts["proxy_mode"], f"{where}: proxy mode {item.get('proxyMode')} but the paste is {facts['proxy_mode']}"
    # entry addresses the paste shows without a Service name (IPVS virtual servers, rules without comments)
    for entry in facts.get("entries") or []:
        proto, addr = entry.split()
        ip, _, port = addr.rpartition(":")
        ip = ip.strip("[]")  # "[::1]:31201": ipvsadm brackets an IPv6 address, the report does not
        hits = [p for p in _walk(doc) if isinstance(p, dict) and p.get("address") == ip and p.get("port") == int(port)]
        assert hits, f"{where}: {entry} (shown in the paste) is not reported"

    # (a) + (c) per Service, as `kubectl svcpath NS/NAME --rules-file F -o json`
    for svc in facts.get("services") or []:
        ns, name, _ = _split_name(svc["name"])
        item = _item_for(doc, ns, name)
        assert item is not None, f"{where}: {ns}/{name} not listed"
        _check_service(item, svc, where)
        code1, one, where1 = _run(_ref(ns, name), *args)
        assert code1 in REPORT_CODES and one is not None, f"{where1}: no report for a Service the paste shows"
        item1 = _item_for(one, ns, name)
        assert item1 is not None, f"{where1}: report is for another Service"
        _check_service(item1, svc, where1)
        _check_no_absence_claims(item1, facts, where1)


def test_every_paste_has_facts() -> None:
    """A paste without a facts file would never be checked."""
    named = {n for p in FACTS for n in ([_load(p)["paste"]] if isinstance(_load(p)["paste"], str) else _load(p)["paste"])}
    pastes = {p.name for p in CORPUS.iterdir() if p.is_file() and not p.name.endswith((".facts.yaml", ".py", ".md"))}
    assert pastes - named == set(), f"pastes without facts: {sorted(pastes - named)}"
    for p in FACTS:
        f = _load(p)
        assert f.get("source"), f"{p.name}: no provenance"
        assert f.get("form"), f"{p.name}: no form"
        assert f.get("classes") is not None, f"{p.name}: no classes"


@pytest.mark.parametrize("facts", [pytest.param(_load(p), id=p.name.removesuffix(".facts.yaml")) for p in FACTS])
def test_facts_are_in_the_paste(facts: dict[str, Any]) -> None:
    """A fact is only what the paste shows: every name, chain, address and counter in the facts is in its text."""
    pastes = facts["paste"] if isinstance(facts["paste"], list) else [facts["paste"]]
    text = "\n".join(_paste_path(n).read_text(encoding="utf-8", errors="replace") for n in pastes)
    joined = re.sub(r"\s+", "", text)  # a comment soft-wrapped by the terminal ("defau lt/...") still names its Service
    missing = []
    for svc in facts.get("services") or []:
        ns, name, port_name = _split_name(svc["name"])
        shown_as = f"{ns}/{name}" if ns else name  # no namespace: the name alone (a description's "Name:")
        if shown_as not in text and shown_as not in joined:
            missing.append(svc["name"])
        for key in ("type", "session_affinity", "external_traffic_policy"):
            if key in svc and str(svc[key]) not in text:
                missing.append(f"{key}={svc[key]}")
        if port_name and port_name not in text:
            missing.append(port_name)
        for chain in svc.get("chains") or []:
            missing += [chain] if chain not in text else []
        for key in ("cluster_ip", "node_port", "port", "affinity_seconds", "health_check_node_port"):
            if key in svc and str(svc[key]) not in text:
                missing.append(f"{key}={svc[key]}")
        for ep in svc.get("endpoints") or []:
            ip, _, port = ep.rpartition(":")
            missing += [ep] if ip not in text or port not in text else []
        for chain, counts in (svc.get("endpoint_counters") or {}).items():
            missing += [f"{chain} {counts}"] if chain not in text or any(str(c) not in text for c in counts) else []
        for entry in svc.get("entry_counters") or []:
            missing += [str(entry)] if str(entry["packets"]) not in text or str(entry["bytes"]) not in text else []
    for entry in facts.get("entries") or []:
        ip, _, port = entry.split()[1].rpartition(":")
        missing += [entry] if ip not in text or port not in text else []
    for chain in facts.get("chains") or []:
        missing += [chain] if chain not in text else []
    assert not missing, f"{facts['_path'].name}: facts not found in the paste text: {missing}"
