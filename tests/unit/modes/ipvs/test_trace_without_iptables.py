"""--trace in IPVS mode with no iptables-save beside ipvsadm: one note says the iptables half was not evaluated.

The iptables tracer noted "no filter table in the input" and "no nat table in the input", and the IPVS tracer took
those two notes out again by their first words: a reworded note would have stood beside its own, saying the same
thing twice. The iptables tracer is now told that no iptables dump was given (``dump_given``), and writes neither.
"""

from __future__ import annotations

from kubectl_svcpath.modes.iptables.model import RuleSet
from kubectl_svcpath.modes.iptables.trace import trace_iptables
from kubectl_svcpath.trace.model import Node, Packet
from tests.conftest import ROOT, svcpath

IPVS = ROOT / "tests" / "fixtures" / "ipvs"


def _notes(*files: str) -> list[str]:
    args = [a for f in files for a in ("--rules-file", str(IPVS / f))]
    code, out, err = svcpath("TCP 10.101.173.15:39090", *args, "--trace", "node")
    assert code == 0, err
    return [line.removeprefix("Note:").strip() for line in out.splitlines() if line.startswith("Note:")]


def test_ipvsadm_alone_says_once_that_the_iptables_half_was_not_evaluated() -> None:
    notes = _notes("hello-ipvsadm-Ln.txt")
    assert notes[0].startswith("no iptables-save dump: the iptables half of IPVS mode"), notes
    assert not any("filter table" in n or "nat table" in n for n in notes), notes


def test_with_the_iptables_dump_that_note_is_not_written() -> None:
    notes = _notes("hello-ipvsadm-Ln.txt", "hello-iptables-save.txt")
    assert not any("no iptables-save dump" in n for n in notes), notes


def test_the_iptables_tracer_notes_missing_tables_only_of_a_dump_given() -> None:
    packet, node = Packet("node", "10.101.173.15", 39090), Node((), False)
    given = trace_iptables(RuleSet(), packet, node).notes
    assert any("no filter table" in n for n in given) and any("no nat table" in n for n in given), given
    assert not any("filter table" in n or "nat table" in n for n in trace_iptables(RuleSet(), packet, node, dump_given=False).notes)
