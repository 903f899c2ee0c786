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

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DUMPS, ROOT, require_shared
from tests.lab.nftgen import NftPort, NftService, generate
from tests.onepass_inputs import assert_same, both, nft_json, nft_listing, nft_services, nft_with_problems

CORPUS = ROOT / "tests" / "corpus"
PASTES = sorted(p.name for p in CORPUS.glob("*nft*.txt"))
DUMP_FILES = sorted(p.name for p in DUMPS.glob("*nft*") if p.is_file() and "iptables" not in p.name) if DUMPS.is_dir() else []


@pytest.mark.parametrize("dump", DUMP_FILES)
def test_one_pass_rows_equal_full_analysis_on_shared_dumps(dump: str) -> None:
    require_shared()
    full, fast, _ = both([str(DUMPS / dump)])
    if fast is not None:
        assert_same(full, fast, dump)


def test_shared_nft_listings_take_the_one_pass() -> None:
    """The test above is not vacuous: whole `nft list` / `nft -j` listings go through the one pass."""
    require_shared()
    taken = [d for d in DUMP_FILES if both([str(DUMPS / d)])[1] is not None]
    assert len(taken) >= 3, taken


@pytest.mark.parametrize("paste", PASTES)
def test_one_pass_rows_equal_full_analysis_on_corpus_pastes(paste: str) -> None:
    from kubectl_svcpath.errors import SvcpathError

    try:
        full, fast, _ = both([str(CORPUS / paste)])
    except SvcpathError:
        return  # the paste cannot be audited at all: both ways say so the same (tests/corpus)
    if fast is not None:
        assert_same(full, fast, paste)


# --- generated tables ------------------------------------------------------------------------------


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
    v4 = nft_services()
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
    dump.write_text(nft_listing(tx) if form == "text" else nft_json(tx))
    full, fast, analysed = both([str(dump)])
    assert fast is not None and analysed is not None
    assert_same(full, fast, f"dual-stack {form}")
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
    tx = generate(nft_services())
    tx = nft_with_problems(tx) if problems else tx
    dump = tmp_path / f"kube-proxy.{form}"
    dump.write_text(nft_listing(tx) if form == "text" else nft_json(tx))
    full, fast, analysed = both([str(dump)])
    assert fast is not None and analysed is not None
    assert_same(full, fast, f"generated {form}")
    assert len(full.audit_rows) >= 95  # (one Service is only seen through a map element that leads to another's chain)
    assert analysed < len(full.audit_rows) / 2, "rows were not derived from templates: the test would prove nothing"
    health = " ".join(r["HEALTH"] for r in full.audit_rows)
    assert "error" in health and "warning" in health, health
    if problems:
        assert "service-not-programmed" in health, health
    for namespace, only_problems in (("ns1", False), (None, True)):
        full, fast, _ = both([str(dump)], namespace, only_problems)
        assert_same(full, fast, f"generated {form} -n {namespace} --problems {only_problems}")


@pytest.mark.parametrize("old,new", [(" . 80 comment ", " . 0 comment "), (" . 80 comment ", " . 080 comment "),
                                     (" . 80 : goto ", " . 0 : goto "), ("tcp dport 80 ", "tcp dport 0 ")])
def test_a_port_the_analysis_reads_apart_shares_no_template(tmp_path: Path, old: str, new: str) -> None:
    """Found by the one-pass campaign (tests/fuzz/onepass.py): port 0 in a Service's map element (no port to
    the analysis: PORTS "?") took its template's row with PORTS "0"; a port with a leading zero likewise
    (ns1/svc-19: no endpoints, a no-endpoint-services element; ns2/svc-17: a NodePort Service)."""
    tx = generate(nft_services())
    edited = "\n".join(line.replace(old, new) if "svc-19" in line or "svc-17" in line or "172.30.0.29 " in line
                        or "172.30.0.27 " in line else line for line in tx.split("\n"))
    assert edited != tx
    dump = tmp_path / "kube-proxy.text"
    dump.write_text(nft_listing(edited))
    full, fast, _ = both([str(dump)])
    assert fast is not None
    assert_same(full, fast, f"{old!r} -> {new!r}")


def test_one_pass_rows_equal_full_analysis_on_nft_a_listing(tmp_path: Path) -> None:
    """`nft -a list`: every rule and chain carries its own handle, which no analysis reads."""
    counter = iter(range(1, 1_000_000))
    text = nft_listing(nft_with_problems(generate(nft_services())))
    text = re.sub(r"^(\tchain \S+ \{|\t\t(?!type |elements |comment |flags |timeout )[^\n]*[^,{])$",
                  lambda m: f"{m.group(1)} # handle {next(counter)}", text, flags=re.M)
    assert text.count("# handle") > 500
    dump = tmp_path / "kube-proxy-a.txt"
    dump.write_text(text)
    full, fast, analysed = both([str(dump)])
    assert fast is not None and analysed is not None
    assert_same(full, fast, "nft -a")
    assert analysed < len(full.audit_rows) / 2

