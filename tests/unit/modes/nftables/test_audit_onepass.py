"""The one-pass --all table over kube-proxy's nftables table (modes/nftables/audit.py) gives the rows
the full analysis gives (issue 11).

The fast audit analyses the first Service of each template in full and derives the others' rows
from it; these tests hold every row, the totals, the notes and the exit status to the audit that
analyses each Service in full, on the shared nftables dumps, every corpus paste, and generated
tables (as `nft list` text and as `nft -j` JSON) with problems in them: endpoint chains missing, a
map element leading to a chain that is not there, Local policies without local endpoints, ports
without endpoints, a numgen map whose shares do not add up, a map element leading to another
Service's chain, a chain whose hash is not its name's, counters someone added, endpoints on .0.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from kubectl_svcpath.modes.nftables.model import NftSet, Verdict
from kubectl_svcpath.modes.nftables.parse_text import parse_nft_text
from tests.conftest import DUMPS, ROOT, require_shared
from tests.lab.nftgen import NftPort, NftService, generate
from tests.unit.modes.iptables.test_audit_onepass import _assert_same, _both

CORPUS = ROOT / "tests" / "corpus"
PASTES = sorted(p.name for p in CORPUS.glob("*nft*.txt"))
DUMP_FILES = sorted(p.name for p in DUMPS.glob("*nft*") if p.is_file() and "iptables" not in p.name) if DUMPS.is_dir() else []


@pytest.mark.parametrize("dump", DUMP_FILES)
def test_one_pass_rows_equal_full_analysis_on_shared_dumps(dump: str) -> None:
    require_shared()
    full, fast, _ = _both([str(DUMPS / dump)])
    if fast is not None:
        _assert_same(full, fast, dump)


def test_shared_nft_listings_take_the_one_pass() -> None:
    """The test above is not vacuous: whole `nft list` / `nft -j` listings go through the one pass."""
    require_shared()
    taken = [d for d in DUMP_FILES if _both([str(DUMPS / d)])[1] is not None]
    assert len(taken) >= 3, taken


@pytest.mark.parametrize("paste", PASTES)
def test_one_pass_rows_equal_full_analysis_on_corpus_pastes(paste: str) -> None:
    from kubectl_svcpath.errors import SvcpathError

    try:
        full, fast, _ = _both([str(CORPUS / paste)])
    except SvcpathError:
        return  # the paste cannot be audited at all: both ways say so the same (tests/corpus)
    if fast is not None:
        _assert_same(full, fast, paste)


# --- generated tables ------------------------------------------------------------------------------


def _services() -> list[NftService]:
    """Repeated shapes (so that rows are derived from a template) with problems among them."""
    out = []
    for i in range(96):
        kind = i % 8
        eps = [f"10.128.{i}.{j * 50}" for j in range(1 + kind % 3)] if kind != 3 else []  # some end in .0
        ports = [NftPort("http", 80, 8080, node_port=30100 + i if kind in (1, 4, 5) else None)]
        if kind == 6:
            ports.append(NftPort("dns", 53, 5353, protocol="UDP"))
        if kind == 7:
            ports = [NftPort("", 8443, 8443)]
        out.append(NftService(
            f"ns{i % 3}", f"svc-{i:02d}", f"172.30.{i // 100}.{i % 100 + 10}", ports, endpoints=eps,
            local_endpoints=[] if kind == 4 and i % 16 == 4 else None, etp_local=kind == 4, itp_local=kind == 6 and i % 16 == 6,
            lb_ips=[f"198.51.100.{i}"] if kind == 5 else [], source_ranges=["203.0.113.0/24"] if kind == 5 and i % 16 == 5 else [],
            external_ips=[f"192.0.2.{i}"] if kind == 2 and i % 4 == 2 else [],
            affinity_seconds=10800 if kind == 2 and i % 16 == 2 else None))
    return out


def _with_problems(tx: str) -> str:
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


def _listing(tx: str) -> str:
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


def _json(tx: str) -> str:
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


def _ip6_table(services: list[NftService]) -> str:
    """kube-proxy's ip6 table for these (IPv6) Services, from nftgen's ip table of the same shapes."""
    from tests.lab import nftgen

    v4 = {"ip daddr": "ip6 daddr", "ip saddr": "ip6 saddr", "ipv4_addr": "ipv6_addr", "ip kube-proxy": "ip6 kube-proxy",
          "172.30.0.0/16": "fd00:30::/108", "192.168.0.2": "fd00:168::2"}
    lines = generate([]).splitlines()
    for svc in services:
        lines += nftgen._service("ip kube-proxy", svc, "fd00:10::/64", True)
    text = "\n".join(lines)
    for a, b in v4.items():
        text = text.replace(a, b)
    return text + "\n"


def _dual_stack() -> tuple[list[NftService], list[NftService]]:
    """IPv4 Services, and IPv6 ones: every fifth of the same name (dual-stack), and two IPv6-only."""
    v4 = _services()
    v6 = [NftService(s.namespace, s.name, f"fd00:30::{i + 10:x}", s.ports,
                     endpoints=[f"fd00:10:{i:x}::{j * 50:x}" for j in range(len(s.endpoints))],
                     etp_local=s.etp_local, local_endpoints=[] if s.local_endpoints == [] else None)
          for i, s in enumerate(v4) if i % 5 == 0]
    v6 += [NftService("ns6", f"only6-{k}", f"fd00:30::1:{k}", [NftPort("http", 80, 8080)], endpoints=["fd00:10::1:1"])
           for k in range(2)]
    return v4, v6


@pytest.mark.parametrize("form", ["text", "json"])
def test_one_pass_rows_equal_full_analysis_on_dual_stack_tables(tmp_path: Path, form: str) -> None:
    v4, v6 = _dual_stack()
    tx = generate(v4) + _ip6_table(v6)
    dump = tmp_path / f"kube-proxy.{form}"
    dump.write_text(_listing(tx) if form == "text" else _json(tx))
    full, fast, analysed = _both([str(dump)])
    assert fast is not None and analysed is not None
    _assert_same(full, fast, f"dual-stack {form}")
    assert sum(":" in r["CLUSTER-IP"] for r in full.audit_rows) == len(v6), "the ip6 table was not read"
    assert {(s.namespace, s.name) for s in v6} - _analysed_in_full(dump), "no row with an IPv6 address was derived"


def _analysed_in_full(dump: Path) -> set[tuple[str, str]]:
    """The Services the one-pass audit of ``dump`` analysed in full."""
    from kubectl_svcpath import pipeline
    from kubectl_svcpath.app import audit_table_lines
    from kubectl_svcpath.collect import files
    from kubectl_svcpath.dump import Collection

    collection = Collection(dumps=[files.read_dump(str(dump))])
    parsed = pipeline.parse_collection(collection)
    seen: set[tuple[str, str]] = set()
    real = pipeline.analyse

    def recorded(snapshot: Any, *a: Any) -> Any:
        seen.add((snapshot.namespace, snapshot.name))
        return real(snapshot, *a)

    pipeline.analyse = recorded  # type: ignore[assignment]
    try:
        lines = audit_table_lines(parsed, collection, None)
        assert lines is not None
        list(lines)
    finally:
        pipeline.analyse = real  # type: ignore[assignment]
    return seen


@pytest.mark.parametrize("form", ["text", "json"])
@pytest.mark.parametrize("problems", [False, True])
def test_one_pass_rows_equal_full_analysis_on_generated_tables(tmp_path: Path, form: str, problems: bool) -> None:
    tx = generate(_services())
    tx = _with_problems(tx) if problems else tx
    dump = tmp_path / f"kube-proxy.{form}"
    dump.write_text(_listing(tx) if form == "text" else _json(tx))
    full, fast, analysed = _both([str(dump)])
    assert fast is not None and analysed is not None
    _assert_same(full, fast, f"generated {form}")
    assert len(full.audit_rows) >= 95  # (one Service is only seen through a map element that leads to another's chain)
    assert analysed < len(full.audit_rows) / 2, "rows were not derived from templates: the test would prove nothing"
    health = " ".join(r["HEALTH"] for r in full.audit_rows)
    assert "error" in health and "warning" in health, health
    if problems:
        assert "service-not-programmed" in health, health
    for namespace, only_problems in (("ns1", False), (None, True)):
        full, fast, _ = _both([str(dump)], namespace, only_problems)
        _assert_same(full, fast, f"generated {form} -n {namespace} --problems {only_problems}")


@pytest.mark.parametrize("old,new", [(" . 80 comment ", " . 0 comment "), (" . 80 comment ", " . 080 comment "),
                                     (" . 80 : goto ", " . 0 : goto "), ("tcp dport 80 ", "tcp dport 0 ")])
def test_a_port_the_analysis_reads_apart_shares_no_template(tmp_path: Path, old: str, new: str) -> None:
    """Found by the one-pass campaign (tests/fuzz/onepass.py): port 0 in a Service's map element (no port to
    the analysis: PORTS "?") took its template's row with PORTS "0"; a port with a leading zero likewise
    (ns1/svc-19: no endpoints, a no-endpoint-services element; ns2/svc-17: a NodePort Service)."""
    tx = generate(_services())
    edited = "\n".join(line.replace(old, new) if "svc-19" in line or "svc-17" in line or "172.30.0.29 " in line
                        or "172.30.0.27 " in line else line for line in tx.split("\n"))
    assert edited != tx
    dump = tmp_path / "kube-proxy.text"
    dump.write_text(_listing(edited))
    full, fast, _ = _both([str(dump)])
    assert fast is not None
    _assert_same(full, fast, f"{old!r} -> {new!r}")


def test_one_pass_rows_equal_full_analysis_on_nft_a_listing(tmp_path: Path) -> None:
    """`nft -a list`: every rule and chain carries its own handle, which no analysis reads."""
    counter = iter(range(1, 1_000_000))
    text = _listing(_with_problems(generate(_services())))
    text = re.sub(r"^(\tchain \S+ \{|\t\t(?!type |elements |comment |flags |timeout )[^\n]*[^,{])$",
                  lambda m: f"{m.group(1)} # handle {next(counter)}", text, flags=re.M)
    assert text.count("# handle") > 500
    dump = tmp_path / "kube-proxy-a.txt"
    dump.write_text(text)
    full, fast, analysed = _both([str(dump)])
    assert fast is not None and analysed is not None
    _assert_same(full, fast, "nft -a")
    assert analysed < len(full.audit_rows) / 2

