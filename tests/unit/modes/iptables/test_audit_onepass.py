"""The one-pass --all table (modes/iptables/audit.py) gives the rows the full analysis gives (issue 11).

The fast audit analyses the first Service of each rule template in full and derives the others'
rows from it; these tests hold every row, the totals and the exit status to the audit that
analyses each Service in full, on the shared dumps, every corpus paste and generated dumps with
problems in them (missing endpoint chains, REJECTs of Services without endpoints, Local
policies without local endpoints, stale endpoint chains, a probability that does not add up, an
entry rule without its port, endpoints on .0 addresses, counters that moved, a service chain's jump to
another Service's endpoint chain).
"""

from __future__ import annotations

import random
import re
import string
from pathlib import Path
from typing import Any

import pytest

from kubectl_svcpath import pipeline
from kubectl_svcpath.app import _all_snapshots, audit, audit_table_lines
from kubectl_svcpath.collect import files
from kubectl_svcpath.dump import Collection
from kubectl_svcpath.errors import SvcpathError
from kubectl_svcpath.modes.iptables import audit_match
from kubectl_svcpath.render.audit import plain_table
from tests.conftest import DUMPS, ROOT, require_shared
from tests.lab.kpgen import PortSpec, ServiceSpec, save_text

CORPUS = ROOT / "tests" / "corpus"
PASTES = sorted(p.name for p in CORPUS.glob("*.txt")) + ["../fixtures/ipvs/hello-iptables-save.txt"]
DUMP_FILES = sorted(p.name for p in DUMPS.glob("*") if p.is_file() and p.name != "INDEX.md") if DUMPS.is_dir() else []


def _both(paths: list[str], namespace: str | None = None, problems: bool = False) -> tuple[Any, Any, int | None]:
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
    fast = audit(iter(()), parsed, collection, problems, notes, lines=_counting(lines, parsed, analysed))
    return full, fast, analysed[0]


def _counting(lines: Any, parsed: pipeline.Parsed, analysed: list[int]) -> Any:
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


def _assert_same(full: Any, fast: Any, what: str) -> None:
    assert fast.audit_rows == full.audit_rows, f"{what}: rows differ"
    assert fast.audit_totals == full.audit_totals, f"{what}: totals differ"
    assert fast.audit_error == full.audit_error and fast.notes == full.notes, what


@pytest.mark.parametrize("dump", DUMP_FILES)
def test_one_pass_rows_equal_full_analysis_on_shared_dumps(dump: str) -> None:
    require_shared()
    try:
        full, fast, _ = _both([str(DUMPS / dump)])
    except SvcpathError:
        pytest.skip(f"{dump} is not audited (not iptables rules)")
    if fast is not None:
        _assert_same(full, fast, dump)


@pytest.mark.parametrize("paste", PASTES)
def test_one_pass_rows_equal_full_analysis_on_corpus_pastes(paste: str) -> None:
    try:
        full, fast, _ = _both([str(CORPUS / paste)])
    except SvcpathError:
        return  # the paste cannot be audited at all: both ways say so the same (tests/corpus)
    if fast is not None:
        _assert_same(full, fast, paste)


def test_shared_iptables_save_dumps_take_the_one_pass() -> None:
    """The test above is not vacuous: whole iptables-save dumps do go through the one pass."""
    require_shared()
    taken = [d for d in DUMP_FILES if "iptables" in d and "-L-" not in d and _both([str(DUMPS / d)])[1] is not None]
    assert len(taken) >= 3, taken


def _services() -> list[ServiceSpec]:
    """Repeated shapes (so that rows are derived from a template) with problems among them."""
    out = []
    for i in range(96):
        kind = i % 8
        eps = [f"10.244.{i}.{j * 50}" for j in range(1 + kind % 3)] if kind != 3 else []  # some end in .0
        ports = [PortSpec("http", 80, 8080, node_port=30100 + i if kind in (1, 4, 5) else None)]
        if kind == 6:
            ports.append(PortSpec("dns", 53, 5353, protocol="UDP"))
        if kind == 7:
            ports = [PortSpec("", 8443, 8443)]
        out.append(ServiceSpec(
            f"ns{i % 3}", f"svc-{i:02d}", f"10.96.{i // 100}.{i % 100 + 10}", ports, endpoints=eps,
            type="LoadBalancer" if kind == 5 else "NodePort" if kind in (1, 4) else "ClusterIP",
            local_endpoints=set() if kind == 4 and i % 16 == 4 else None, external_traffic_policy="Local" if kind == 4 else "Cluster",
            lb_ips=[f"198.51.100.{i}"] if kind == 5 else [], source_ranges=["203.0.113.0/24"] if kind == 5 and i % 16 == 5 else [],
            external_ips=[f"192.0.2.{i}"] if kind == 2 and i % 4 == 2 else [],
            affinity_seconds=10800 if kind == 2 and i % 16 == 2 else None))
    return out


def _with_problems(text: str) -> str:
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


@pytest.mark.parametrize("problems", [False, True])
def test_one_pass_rows_equal_full_analysis_on_generated_dumps(tmp_path: Path, problems: bool) -> None:
    text = save_text(_services())
    dump = tmp_path / "iptables-save.txt"
    dump.write_text(_with_problems(text) if problems else text)
    full, fast, analysed = _both([str(dump)])
    assert fast is not None and analysed is not None
    _assert_same(full, fast, "generated")
    assert len(full.audit_rows) >= 96
    assert analysed < len(full.audit_rows) / 2, "rows were not derived from templates: the test would prove nothing"
    if problems:
        health = " ".join(r["HEALTH"] for r in full.audit_rows)
        assert "error" in health and "warning" in health, health
        assert any(r["PKTS"] not in ("0", "-") for r in full.audit_rows)
    for namespace, only_problems in (("ns1", False), (None, True)):
        full, fast, _ = _both([str(dump)], namespace, only_problems)
        _assert_same(full, fast, f"generated -n {namespace} --problems {only_problems}")


def test_a_dump_holding_a_template_mark_is_analysed_in_full(tmp_path: Path) -> None:
    """A comment holding \\x01 (the mark a Service's name becomes in a template) could make another
    Service's footprint look like this one's: the one pass declines such an input; each Service is
    analysed in full."""
    text = save_text(_services())
    dump = tmp_path / "iptables-save.txt"
    dump.write_text(text.replace('"ns1/svc-01:http cluster IP"', '"\x01:http cluster IP"', 1))
    assert "\x01" in dump.read_text()
    full, fast, _ = _both([str(dump)])
    assert fast is None
    assert len(full.audit_rows) >= 96


def counting_matches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every template compiled at its first Service (audit_match.LEARN_AFTER 1), and a count of the rows
    a compiled template's match made (so that a test can show it is not vacuous)."""
    monkeypatch.setattr(audit_match, "LEARN_AFTER", 1)
    matched = [0]
    real = audit_match.Matchers.match

    def counted(self: audit_match.Matchers, shape: Any, text: str) -> Any:
        found = real(self, shape, text)
        matched[0] += found is not None
        return found

    monkeypatch.setattr(audit_match.Matchers, "match", counted)
    return matched


# a later Service's value made one the analysis reads apart, in every place of that Service (ns1/svc-49:
# a NodePort Service, port 80, node port 30149, endpoints 10.244.49.0 and .50 on 8080): port 0 is no port
# to the analysis ("?"), an address with an octet past 255 or a leading zero is not an address to it
ODD_VALUES = [("--dport 80 ", "--dport 0 "), ("--dport 30149 ", "--dport 0 "), (":8080", ":0"), (":8080", ":08080"),
              ("--dport 80 ", "--dport 65536 "), ("10.96.0.59", "10.96.0.256"), ("10.96.0.59", "10.96.0.059"),
              ("10.244.49.50", "10.244.49.256"), ("10.244.49.50", "10.244.049.50")]


@pytest.mark.parametrize("learn_after", [1, audit_match.LEARN_AFTER])
@pytest.mark.parametrize("old,new", ODD_VALUES)
def test_a_value_the_analysis_reads_apart_shares_no_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            old: str, new: str, learn_after: int) -> None:
    """Found by the one-pass campaign (tests/fuzz/onepass.py): with --dport 0 the one pass showed PORTS
    "0" where the analysis shows "?". A value a template takes out is now only one the analysis reads
    as written (a port 1-65535, an address of four octets 0-255 without leading zeros); any other stays
    in the template's text, so that Service shares no template with the others."""
    monkeypatch.setattr(audit_match, "LEARN_AFTER", learn_after)
    text = save_text(_services())
    edited = "\n".join(line.replace(old, new) if "svc-49" in line or old.startswith("10.") else line for line in text.split("\n"))
    assert edited != text
    dump = tmp_path / "iptables-save.txt"
    dump.write_text(edited)
    full, fast, _ = _both([str(dump)])
    assert fast is not None
    _assert_same(full, fast, f"{old!r} -> {new!r}")


@pytest.mark.parametrize("problems", [False, True])
def test_compiled_templates_give_the_rows_of_the_full_analysis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              problems: bool) -> None:
    """The rows a compiled template's match makes (audit_match) are the full analysis' too, on the
    generated dumps with and without problems; a third of the rows or more here come from a match."""
    matched = counting_matches(monkeypatch)
    text = save_text(_services())
    dump = tmp_path / "iptables-save.txt"
    dump.write_text(_with_problems(text) if problems else text)
    full, fast, _ = _both([str(dump)])
    assert fast is not None
    _assert_same(full, fast, "generated, compiled templates")
    assert matched[0] > len(full.audit_rows) / 3, matched


def test_plain_table_is_tabulates_plain_format() -> None:
    import tabulate

    random.seed(11)
    alphabet = string.ascii_letters + string.digits + " ?-:/,.+"
    assert tabulate.MIN_PADDING == 0  # (render/audit.py sets it)
    for _ in range(2000):
        cols, rows = random.randint(1, 5), random.randint(0, 5)
        heads = ["".join(random.choice(string.ascii_uppercase + "-") for _ in range(random.randint(1, 8))) for _ in range(cols)]
        cells = [["".join(random.choice(alphabet) for _ in range(random.randint(0, 10))) for _ in range(cols)] for _ in range(rows)]
        assert plain_table(cells, heads) == tabulate.tabulate(cells, headers=heads, tablefmt="plain", disable_numparse=True)
