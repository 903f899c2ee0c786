"""The port's verdict reads what a finding is about from its fields, not from its words.

It said "UNKNOWN (its endpoint chains are not in the input)" when a chain-not-in-input finding's message held the
words " endpoint chain": a finding reworded (or translated, or its count spelt otherwise) would have turned that
port's verdict into another, silently. The finding now names the endpoint chains it is about in a field.
The input: a grep of a kind node's service chain by its name (tests/corpus/ericpuwang-kind123-iptables-save-full.txt),
which prints its jump to the endpoint chain but not that chain's DNAT.
"""

from __future__ import annotations

from pathlib import Path

from kubectl_svcpath import pipeline
from kubectl_svcpath.dump import Collection, RuleDump
from kubectl_svcpath.render.text import Style
from kubectl_svcpath.render.verdict import port_verdict

KIND = Path(__file__).resolve().parents[2] / "corpus" / "ericpuwang-kind123-iptables-save-full.txt"
UNSEEN = "UNKNOWN (its endpoint chains are not in the input)"


def _report():
    grep = "\n".join(line for line in KIND.read_text().splitlines() if "KUBE-SVC-NPX46M4PTMTKRN6Y" in line) + "\n"
    coll = Collection(dumps=[RuleDump(text=grep, source="grep.txt")])
    parsed = pipeline.parse_collection(coll)
    (snapshot,) = [s for s in pipeline.infer_services(parsed) if s.ref == "default/kubernetes"]
    return pipeline.analyse(snapshot, parsed, coll)


def test_the_endpoint_chains_unseen_are_a_field_of_the_finding() -> None:
    report = _report()
    (f,) = [f for f in report.findings if f.endpoint_chains_unseen]
    assert f.code == "chain-not-in-input" and f.endpoint_chains_unseen == ["KUBE-SEP-OJCTP5LCEHQJ3D72"], f
    assert "endpointChainsUnseen" not in str(report.to_dict()) and "endpoint_chains_unseen" not in str(report.to_dict())


def test_the_verdict_holds_when_the_finding_is_reworded() -> None:
    report = _report()
    (pp,) = report.ports
    assert UNSEEN in port_verdict(report, pp, Style(color=False))
    for f in report.findings:
        f.message = "reworded"
    assert UNSEEN in port_verdict(report, pp, Style(color=False))
    for f in report.findings:
        f.message, f.endpoint_chains_unseen = "2 endpoint chains the service chain jumps to are not in the input", []
    assert UNSEEN not in port_verdict(report, pp, Style(color=False))
