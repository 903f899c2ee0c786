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
import string
from pathlib import Path

import pytest

from kubectl_svcpath.errors import SvcpathError
from kubectl_svcpath.modes.iptables import audit_match
from kubectl_svcpath.render.plain import plain_table
from tests.conftest import DUMPS, require_shared
from tests.lab.kpgen import save_text
from tests.onepass_inputs import CORPUS, DUMP_FILES, PASTES, assert_same, both, counting_matches, save_services, save_with_problems

@pytest.mark.parametrize("dump", DUMP_FILES)
def test_one_pass_rows_equal_full_analysis_on_shared_dumps(dump: str) -> None:
    require_shared()
    try:
        full, fast, _ = both([str(DUMPS / dump)])
    except SvcpathError:
        pytest.skip(f"{dump} is not audited (not iptables rules)")
    if fast is not None:
        assert_same(full, fast, dump)


@pytest.mark.parametrize("paste", PASTES)
def test_one_pass_rows_equal_full_analysis_on_corpus_pastes(paste: str) -> None:
    try:
        full, fast, _ = both([str(CORPUS / paste)])
    except SvcpathError:
        return  # the paste cannot be audited at all: both ways say so the same (tests/corpus)
    if fast is not None:
        assert_same(full, fast, paste)


def test_shared_iptables_save_dumps_take_the_one_pass() -> None:
    """The test above is not vacuous: whole iptables-save dumps do go through the one pass."""
    require_shared()
    taken = [d for d in DUMP_FILES if "iptables" in d and "-L-" not in d and both([str(DUMPS / d)])[1] is not None]
    assert len(taken) >= 3, taken


@pytest.mark.parametrize("problems", [False, True])
def test_one_pass_rows_equal_full_analysis_on_generated_dumps(tmp_path: Path, problems: bool) -> None:
    text = save_text(save_services())
    dump = tmp_path / "iptables-save.txt"
    dump.write_text(save_with_problems(text) if problems else text)
    full, fast, analysed = both([str(dump)])
    assert fast is not None and analysed is not None
    assert_same(full, fast, "generated")
    assert len(full.audit_rows) >= 96
    assert analysed < len(full.audit_rows) / 2, "rows were not derived from templates: the test would prove nothing"
    if problems:
        health = " ".join(r["HEALTH"] for r in full.audit_rows)
        assert "error" in health and "warning" in health, health
        assert any(r["PKTS"] not in ("0", "-") for r in full.audit_rows)
    for namespace, only_problems in (("ns1", False), (None, True)):
        full, fast, _ = both([str(dump)], namespace, only_problems)
        assert_same(full, fast, f"generated -n {namespace} --problems {only_problems}")


def test_a_dump_holding_a_template_mark_is_analysed_in_full(tmp_path: Path) -> None:
    """A comment holding \\x01 (the mark a Service's name becomes in a template) could make another
    Service's footprint look like this one's: the one pass declines such an input; each Service is
    analysed in full."""
    text = save_text(save_services())
    dump = tmp_path / "iptables-save.txt"
    dump.write_text(text.replace('"ns1/svc-01:http cluster IP"', '"\x01:http cluster IP"', 1))
    assert "\x01" in dump.read_text()
    full, fast, _ = both([str(dump)])
    assert fast is None
    assert len(full.audit_rows) >= 96


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
    text = save_text(save_services())
    edited = "\n".join(line.replace(old, new) if "svc-49" in line or old.startswith("10.") else line for line in text.split("\n"))
    assert edited != text
    dump = tmp_path / "iptables-save.txt"
    dump.write_text(edited)
    full, fast, _ = both([str(dump)])
    assert fast is not None
    assert_same(full, fast, f"{old!r} -> {new!r}")


@pytest.mark.parametrize("problems", [False, True])
def test_compiled_templates_give_the_rows_of_the_full_analysis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              problems: bool) -> None:
    """The rows a compiled template's match makes (audit_match) are the full analysis' too, on the
    generated dumps with and without problems; a third of the rows or more here come from a match."""
    matched = counting_matches(monkeypatch)
    text = save_text(save_services())
    dump = tmp_path / "iptables-save.txt"
    dump.write_text(save_with_problems(text) if problems else text)
    full, fast, _ = both([str(dump)])
    assert fast is not None
    assert_same(full, fast, "generated, compiled templates")
    assert matched[0] > len(full.audit_rows) / 3, matched


def test_plain_table_is_tabulates_plain_format() -> None:
    import tabulate

    random.seed(11)
    alphabet = string.ascii_letters + string.digits + " ?-:/,.+"
    plain_table([["é"]], ["A"])  # (a cell outside ASCII: tabulate's own table, which sets MIN_PADDING)
    assert tabulate.MIN_PADDING == 0
    for _ in range(2000):
        cols, rows = random.randint(1, 5), random.randint(0, 5)
        heads = ["".join(random.choice(string.ascii_uppercase + "-") for _ in range(random.randint(1, 8))) for _ in range(cols)]
        cells = [["".join(random.choice(alphabet) for _ in range(random.randint(0, 10))) for _ in range(cols)] for _ in range(rows)]
        assert plain_table(cells, heads) == tabulate.tabulate(cells, headers=heads, tablefmt="plain", disable_numparse=True)
    tabulate.MIN_PADDING = 2  # (tabulate's own: the trace's branch table)
    try:
        for _ in range(500):
            cols, rows = random.randint(1, 5), random.randint(0, 5)
            heads = ["".join(random.choice(string.ascii_uppercase + "-") for _ in range(random.randint(1, 8))) for _ in range(cols)]
            cells = [["".join(random.choice(alphabet) for _ in range(random.randint(0, 10))) for _ in range(cols)] for _ in range(rows)]
            assert plain_table(cells, heads, 2) == tabulate.tabulate(cells, headers=heads, tablefmt="plain", disable_numparse=True)
    finally:
        tabulate.MIN_PADDING = 0
