"""What the one-pass --all tests share (tests/unit/modes/*/test_audit_*.py, tests/fuzz/onepass.py): the
audit with each Service analysed in full beside the one pass's, and the generated inputs they run on."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from kubectl_svcpath import pipeline
from kubectl_svcpath.app import _all_snapshots, _node_from_manifest, api_table_lines, audit, audit_table_lines
from kubectl_svcpath.collect import files
from kubectl_svcpath.dump import Collection
from kubectl_svcpath.manifest import audit_snapshots
from kubectl_svcpath.modes.iptables import audit_match
from kubectl_svcpath.modes.nftables.model import NftSet, Verdict
from kubectl_svcpath.modes.nftables.parse_text import parse_nft_text
from tests.conftest import DUMPS, ROOT
from tests.lab.kpgen import PortSpec, ServiceSpec, api_objects
from tests.lab.nftgen import NftPort, NftService


CORPUS = ROOT / "tests" / "corpus"
PASTES = sorted(p.name for p in CORPUS.glob("*.txt")) + ["../fixtures/ipvs/hello-iptables-save.txt"]  # (under CORPUS)
DUMP_FILES = sorted(p.name for p in DUMPS.glob("*") if p.is_file() and p.name != "INDEX.md") if DUMPS.is_dir() else []


# --- the two audits side by side ---------------------------------------------------------------


def both(paths: list[str], namespace: str | None = None, problems: bool = False) -> tuple[Any, Any, int | None]:
    """The audit table with each Service analysed in full, the one-pass table, and how many Services
    the one pass analysed in full (None: it does not apply to this input)."""
    def parsed_input() -> tuple[pipeline.Parsed, Collection]:
        collection = Collection(dumps=[files.read_dump(p) for p in paths])
        return pipeline.parse_collection(collection), collection

    parsed, collection = parsed_input()
    snapshots, notes = _all_snapshots(None, parsed, namespace)
    full = audit(snapshots, parsed, collection, problems, notes)
    parsed, collection = parsed_input()
    analysed = [0]
    lines = audit_table_lines(parsed, collection, namespace)
    if lines is None:
        return full, None, None
    fast = audit(iter(()), parsed, collection, problems, notes, lines=counting(lines, parsed, analysed))
    return full, fast, analysed[0]


def counting(lines: Any, parsed: pipeline.Parsed, analysed: list[int]) -> Any:
    """The lines, counting the full analyses the one pass asked for (pipeline.analyse calls)."""
    real = pipeline.analyse

    def counted(*a: Any, **k: Any) -> Any:
        analysed[0] += 1
        return real(*a, **k)

    pipeline.analyse = counted  # type: ignore[assignment]
    try:
        yield from lines
    finally:
        pipeline.analyse = real  # type: ignore[assignment]


def assert_same(full: Any, fast: Any, what: str) -> None:
    """The one pass's audit (``fast``) is the full analysis' (its message names the first row that differs:
    it is read outside pytest's assertion rewriting too, in a campaign)."""
    if fast.audit_rows != full.audit_rows:
        first = next(((a, b) for a, b in zip(full.audit_rows, fast.audit_rows, strict=False) if a != b), None)
        said = f"full {first[0]!r}, one pass {first[1]!r}" if first else f"{len(full.audit_rows)} rows, one pass {len(fast.audit_rows)}"
        raise AssertionError(f"{what}: rows differ: {said}")
    for name in ("audit_totals", "audit_error", "notes"):
        a, b = getattr(full, name), getattr(fast, name)
        if a != b:
            raise AssertionError(f"{what}: {name} differ: full {a!r}, one pass {b!r}")


def _endpoints(i: int, kind: int, net: str = "10.244") -> list[str]:
    """The generators' endpoints of Service ``i`` of ``kind``: one to three (some end in .0), none for kind 3."""
    return [f"{net}.{i}.{j * 50}" for j in range(1 + kind % 3)] if kind != 3 else []


def _ports(i: int, kind: int, port: Any = PortSpec) -> list[Any]:
    """http 80 (a node port for kinds 1, 4 and 5), with dns 53/UDP for kind 6; an unnamed 8443 for kind 7
    (``port``: kpgen's PortSpec or nftgen's NftPort, which take the same fields)."""
    if kind == 7:
        return [port("", 8443, 8443)]
    ports = [port("http", 80, 8080, node_port=30100 + i if kind in (1, 4, 5) else None)]
    return ports + [port("dns", 53, 5353, protocol="UDP")] if kind == 6 else ports


def _type(kind: int) -> str:
    return "LoadBalancer" if kind == 5 else "NodePort" if kind in (1, 4) else "ClusterIP"


def _entries(i: int, kind: int) -> dict[str, Any]:
    """The rules generators' LB addresses (kind 5, every other one with source ranges), external IPs and
    ClientIP affinity (some of kind 2)."""
    return {"lb_ips": [f"198.51.100.{i}"] if kind == 5 else [],
            "source_ranges": ["203.0.113.0/24"] if kind == 5 and i % 16 == 5 else [],
            "external_ips": [f"192.0.2.{i}"] if kind == 2 and i % 4 == 2 else [],
            "affinity_seconds": 10800 if kind == 2 and i % 16 == 2 else None}


def save_services() -> list[ServiceSpec]:
    """Repeated shapes (so that rows are derived from a template) with problems among them."""
    out = []
    for i in range(96):
        kind = i % 8
        eps = _endpoints(i, kind)
        out.append(ServiceSpec(
            f"ns{i % 3}", f"svc-{i:02d}", f"10.96.{i // 100}.{i % 100 + 10}", _ports(i, kind), endpoints=eps, type=_type(kind),
            local_endpoints=set() if kind == 4 and i % 16 == 4 else None, external_traffic_policy="Local" if kind == 4 else "Cluster",
            **_entries(i, kind)))
    return out


def save_with_problems(text: str) -> str:
    """Edits kube-proxy would never make: what an audit must notice."""
    lines = text.split("\n")
    seps = sorted({m.group(1) for ln in lines if (m := re.match(r"\[\d+:\d+\] -A (KUBE-SEP-\w+) ", ln))})
    gone = set(seps[:3])  # endpoint chains missing (jumped to, not there)
    out = [ln for ln in lines if not any(ln.startswith(f":{g} ") or f"-A {g} " in ln for g in gone)]
    # a stale endpoint chain, named after a Service's port, that nothing jumps to
    at = out.index(next(ln for ln in out if ln.startswith(":KUBE-SEP-")))
    out.insert(at, ":KUBE-SEP-STALESTALESTALE - [0:0]")
    commit = max(i for i, ln in enumerate(out) if ln == "COMMIT")
    out.insert(commit, '[0:0] -A KUBE-SEP-STALESTALESTALE -p tcp -m comment --comment "ns0/svc-00:http" -m tcp -j DNAT --to-destination 10.244.0.9:8080')
    text = "\n".join(out)
    text = text.replace("--probability 0.50000000000", "--probability 0.40000000000", 1)  # shares do not add up
    # counters that moved, on an entry rule and on an endpoint's DNAT
    text = re.sub(r"\[0:0\] (-A KUBE-SERVICES -d 10\.96\.0\.1[13]/32)", r"[7:420] \1", text)
    text = re.sub(r"\[0:0\] (-A KUBE-SEP-\w+ -p tcp -m tcp -j DNAT --to-destination 10\.244\.9\.)", r"[5:300] \1", text, count=1)
    # the last jump of a Service that is not the first of its shape (ns2/svc-17 is) made conditional:
    # its shares add up to 0.75, where its shape's are whole
    text = re.sub(r'(ns2/svc-89:http -> [\d.:]+")( -j KUBE-SEP-)', r"\1 -m statistic --mode random --probability 0.50000000000\2", text)
    # a service chain's jump that counted packets; a jump to another Service's endpoint chain
    text = re.sub(r'\[0:0\] (-A KUBE-SVC-\w+ -m comment --comment "ns0/svc-81:[^"]*" -m statistic)', r"[3:180] \1", text, count=1)
    jumps = re.findall(r"^\[\d+:\d+\] -A (KUBE-SVC-\w+) .* -j (KUBE-SEP-\w+)$", text, flags=re.M)
    (chain, sep), other = jumps[0], next(j for j in jumps if j[0] != jumps[0][0])
    text = re.sub(rf"^(\[\d+:\d+\] -A {chain} .* -j ){sep}$", rf"\g<1>{other[1]}", text, count=1, flags=re.M)
    return re.sub(r" -m tcp --dport 80 (-j KUBE-SVC-\w+)$", r" \1", text, count=1, flags=re.M)  # an entry rule without its port


def counting_matches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every template compiled at its first Service (audit_match.LEARN_AFTER 1), and a count of the rows
    a compiled template's match made (so that a test can show it is not vacuous)."""
    monkeypatch.setattr(audit_match, "LEARN_AFTER", 1)
    matched = [0]
    real = audit_match.Matchers.match

    def counted(self: audit_match.Matchers, shape: Any, text: str, known: Any = None) -> Any:
        found = real(self, shape, text, known)
        matched[0] += found is not None
        return found

    monkeypatch.setattr(audit_match.Matchers, "match", counted)
    return matched


# --- rules with API objects (live and --manifest) ----------------------------------------------


NODE = "node-a"


def both_api(paths: list[str], objects: list[dict[str, Any]], problems: bool = False,
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
    fast = audit(iter(()), parsed, collection, problems, notes, from_rules=False, lines=counting(lines, parsed, analysed))
    # live: the API half of the templates made beforehand (while the node's rules are read): the same rows
    parsed, collection = parsed_input()
    snapshots, notes = audit_snapshots(copy.deepcopy(objects))
    lines = api_table_lines(parsed, collection, snapshots, pipeline.prepare_api_audit(snapshots))
    assert lines is not None
    assert_same(full, audit(iter(()), parsed, collection, problems, notes, from_rules=False, lines=lines), "prepared")
    return full, fast, analysed[0]


def api_services() -> list[ServiceSpec]:
    """Repeated shapes (rows derived from templates), each shape's API objects edited alike below."""
    out = []
    for i in range(120):
        kind = i % 10
        eps = _endpoints(i, kind)
        out.append(ServiceSpec(
            f"ns{i % 3}", f"svc-{i:02d}", f"10.96.{i // 100}.{i % 100 + 10}", _ports(i, kind), endpoints=eps, type=_type(kind),
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


def api_objects_of(specs: list[ServiceSpec]) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Node", "metadata": {
        "name": NODE, "labels": {"topology.kubernetes.io/zone": "zone-a"}}}]
    for i, spec in enumerate(specs):
        objects += _edit(i, api_objects(spec))
    # Services the API has and the rules do not (and a headless one)
    objects += api_objects(ServiceSpec("ns1", "not-in-rules", "10.96.9.9", [PortSpec("http", 80, 8080)], endpoints=["10.250.0.1"]))
    headless = api_objects(ServiceSpec("ns1", "headless", "None", [PortSpec("http", 80, 8080)], endpoints=["10.250.0.2"]))
    headless[0]["spec"]["clusterIP"], headless[0]["spec"]["clusterIPs"] = "None", ["None"]
    return objects + headless


# --- nftables ----------------------------------------------------------------------------------


def nft_services() -> list[NftService]:
    """Repeated shapes (so that rows are derived from a template) with problems among them."""
    out = []
    for i in range(96):
        kind = i % 8
        eps = _endpoints(i, kind, "10.128")
        out.append(NftService(
            f"ns{i % 3}", f"svc-{i:02d}", f"172.30.{i // 100}.{i % 100 + 10}", _ports(i, kind, NftPort), endpoints=eps,
            local_endpoints=[] if kind == 4 and i % 16 == 4 else None, etp_local=kind == 4, itp_local=kind == 6 and i % 16 == 6,
            **_entries(i, kind)))
    return out


def nft_with_problems(tx: str) -> str:
    """Edits kube-proxy would never make: what an audit must notice."""
    lines = tx.split("\n")
    eps = sorted({m.group(1) for ln in lines if (m := re.match(r"add chain ip kube-proxy (endpoint-\S+)$", ln))})
    gone = set(eps[:3])  # endpoint chains missing (the numgen map still leads to them)
    lines = [ln for ln in lines if not any(ln == f"add chain ip kube-proxy {g}" or ln.startswith(f"add rule ip kube-proxy {g} ")
                                           for g in gone)]
    tx = "\n".join(lines)
    # a service chain gone: its map element leads nowhere
    svc = re.search(r"add chain ip kube-proxy (service-\w+-ns0/svc-09/\S+)\n", tx)
    assert svc is not None
    tx = "\n".join(ln for ln in tx.split("\n") if not ln.startswith((f"add chain ip kube-proxy {svc.group(1)}",
                                                                     f"add rule ip kube-proxy {svc.group(1)} ")))
    tx = tx.replace("numgen random mod 2 vmap", "numgen random mod 3 vmap", 1)  # shares that do not add up
    # a map element of one Service leading to another's chain
    tx = re.sub(r"(add element ip kube-proxy service-ips \{ 172\.30\.0\.26 \. tcp \. 80 : goto )\S+",
                lambda m: m.group(1) + "service-" + _chain_of(tx, "ns1/svc-25"), tx)
    # a Service whose chains carry a hash that is not their name's (consistently renamed)
    wrong = _chain_of(tx, "ns0/svc-24").split("-", 1)[0]
    tx = tx.replace(f"{wrong}-ns0/svc-24/", "AAAAAAAA-ns0/svc-24/")
    # counters someone added, on an endpoint's DNAT and a service chain's masquerade rule
    tx = re.sub(r"(add rule ip kube-proxy endpoint-\S+ )(meta l4proto tcp dnat to 10\.128\.17\.)", r"\1counter packets 5 bytes 300 \2", tx, count=1)
    return re.sub(r"(add rule ip kube-proxy service-\S+ ip daddr 172\.30\.0\.20 )", r"\1counter packets 7 bytes 420 ", tx, count=1)


def _chain_of(tx: str, service: str) -> str:
    m = re.search(rf"add chain ip kube-proxy service-(\w+-{re.escape(service)}/\S+)\n", tx)
    assert m is not None, service
    return m.group(1)


_ADD = re.compile(r"add (table|chain|set|map|rule|element) (ip6?) kube-proxy(?: (\S+))?(?: (.*))?$")


def nft_listing(tx: str) -> str:
    """The transaction (tests/lab/nftgen.py) as `nft list ruleset` prints kube-proxy's tables."""
    chains: dict[str, dict[str, list[str]]] = {}
    specs: dict[tuple[str, str], str] = {}
    sets: dict[str, dict[str, tuple[str, list[str], list[str]]]] = {}
    for line in tx.splitlines():
        m = _ADD.match(line)
        if m is None:
            continue
        what, family, name, rest = m.groups()
        fam_chains, fam_sets = chains.setdefault(family, {}), sets.setdefault(family, {})
        if what == "chain":
            fam_chains.setdefault(name, [])
            if rest and "hook" in rest:
                specs[(family, name)] = rest.strip("{} ").replace(" ;", ";") + " policy accept;"
        elif what == "rule":
            fam_chains.setdefault(name, []).append(rest)
        elif what in ("set", "map"):
            fam_sets[name] = (what, [p.strip() for p in (rest or "").strip("{} ").split(" ; ") if p.strip(" ;")], [])
        elif what == "element":
            fam_sets[name][2].append(rest.strip()[1:-1].strip())
    out: list[str] = []
    for family in chains:
        out += [f"table {family} kube-proxy {{", '\tcomment "rules for kube-proxy"']
        for name, (what, decl, elements) in sets[family].items():
            out.append(f"\t{what} {name} {{")
            out += [f"\t\t{d.rstrip(' ;')}" for d in decl]
            if elements:
                out.append("\t\telements = { " + ",\n\t\t\t     ".join(elements) + " }")
            out.append("\t}")
        for name, rules in chains[family].items():
            out.append(f"\n\tchain {name} {{")
            if (family, name) in specs:
                out.append(f"\t\t{specs[(family, name)]}")
            out += [f"\t\t{r}" for r in rules]
            out.append("\t}")
        out.append("}")
    return "\n".join(out) + "\n"


def nft_json(tx: str) -> str:
    """The same tables as `nft -j list ruleset` writes them (rules' statements: the project's own
    reading of the text, which writes nft -j's shapes)."""
    nft = parse_nft_text(tx, "tx")
    handle = iter(range(1, 1_000_000))
    items: list[dict[str, Any]] = [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}}]
    for table in nft.tables.values():
        fam = {"family": table.family, "table": "kube-proxy"}
        items.append({"table": {"family": table.family, "name": "kube-proxy", "handle": next(handle)}})
        items += [{s.kind: _set_json(s, table.family, next(handle))} for s in table.sets.values()]
        for chain in table.chains.values():
            decl = {**fam, "name": chain.name, "handle": next(handle)}
            if chain.hook:
                decl.update(type=chain.type, hook=chain.hook, prio=chain.prio, policy=chain.policy or "accept")
            items.append({"chain": decl})
        for chain in table.chains.values():
            for r in chain.rules:
                rule = {**fam, "chain": chain.name, "handle": next(handle), "expr": r.exprs}
                items.append({"rule": {**rule, "comment": r.comment} if r.comment else rule})
    return json.dumps({"nftables": items})


def _set_json(s: NftSet, family: str, handle: int) -> dict[str, Any]:
    body: dict[str, Any] = {"family": family, "name": s.name, "table": "kube-proxy",
                            "type": list(s.type) if len(s.type) > 1 else s.type[0], "handle": handle}
    if s.kind == "map":
        body["map"] = s.map_type or "verdict"
    if s.flags:
        body["flags"] = list(s.flags)
    if s.timeout is not None:
        body["timeout"] = s.timeout
    elems: list[Any] = []
    for e in s.elements:
        key: Any = {"concat": list(e.key)} if len(e.key) > 1 else e.key[0]
        if e.comment:
            key = {"elem": {"val": key, "comment": e.comment}}
        if isinstance(e.value, Verdict):
            elems.append([key, {e.value.kind: {"target": e.value.target} if e.value.target else None}])
        else:
            elems.append(key)
    if elems:
        body["elem"] = elems
    return body
