"""--all reads KUBE-SERVICES / KUBE-NODEPORTS lines of kube-proxy's own shape with one regex each
(infer.dispatch_rules, LightRule) instead of the tokeniser: every field the listing of Services and the
--all templates read must be the tokenised Rule's, on every shared dump, corpus paste and generated
dump; anything else falls back to the tokenised rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubectl_svcpath import pipeline
from kubectl_svcpath.collect import files
from kubectl_svcpath.dump import Collection
from kubectl_svcpath.errors import SvcpathError
from kubectl_svcpath.modes.iptables import infer, parse_save
from kubectl_svcpath.modes.iptables.infer import LightRule
from tests.conftest import DUMPS, require_shared
from tests.lab.kpgen import save_text
from tests.onepass_inputs import CORPUS, DUMP_FILES, PASTES, assert_same, both, save_services

@pytest.fixture(autouse=True)
def _lazy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every dump read as a big one is (its rules tokenised when first read, not checked whole at once):
    else a small dump's dispatch chains are tokenised before anyone lists the Services."""
    monkeypatch.setattr(parse_save, "EAGER_BYTES", 0)


FIELDS = ("chain", "position", "raw", "protocol", "dest_addr", "comment", "dport", "dport_number", "target")


def _parsed(path: str) -> pipeline.Parsed:
    return pipeline.parse_collection(Collection(dumps=[files.read_dump(path)]))


def _fields(rule: object) -> tuple[object, ...]:
    return tuple(getattr(rule, f) for f in FIELDS)


def _light_equals_tokenised(path: str) -> int:
    """How many light rules the dump's dispatch chains gave; each checked against the tokeniser's."""
    try:
        light_parse, tokenised = _parsed(path), _parsed(path)
    except SvcpathError:
        return 0
    if light_parse.rules is None or light_parse.rules.table("nat") is None:
        return 0
    light = 0
    for chain in ("KUBE-SERVICES", "KUBE-NODEPORTS"):
        got = infer.dispatch_rules(light_parse.rules, chain)
        want = tokenised.rules.rules_of("nat", chain)  # type: ignore[union-attr]
        assert [_fields(r) for r in got] == [_fields(r) for r in want], f"{path} {chain}"
        light += sum(isinstance(r, LightRule) for r in got)
    return light


@pytest.mark.parametrize("dump", DUMP_FILES)
def test_light_dispatch_rules_equal_tokenised_on_shared_dumps(dump: str) -> None:
    require_shared()
    _light_equals_tokenised(str(DUMPS / dump))


@pytest.mark.parametrize("paste", PASTES)
def test_light_dispatch_rules_equal_tokenised_on_corpus_pastes(paste: str) -> None:
    _light_equals_tokenised(str(CORPUS / paste))


def test_generated_dump_is_read_light(tmp_path: Path) -> None:
    """Not vacuous: kube-proxy's own lines (cluster, external, load-balancer IPs, node ports) are read light."""
    dump = tmp_path / "iptables-save.txt"
    dump.write_text(save_text(save_services()))
    assert _light_equals_tokenised(str(dump)) >= 96


@pytest.mark.parametrize("edit", [
    ("-m tcp --dport 80 -j KUBE-SVC-", "-m tcp --dport 80 -m mark --mark 0x1 -j KUBE-SVC-"),  # an option kube-proxy never writes
    ('--comment "ns0/svc-00:http cluster IP"', "--comment ns0/svc-00:http"),  # an unquoted comment (older iptables)
    ('--comment "ns0/svc-00:http cluster IP"', '--comment "ns0/svc-00:http \\"cluster\\" IP"'),  # escaped quotes
])
def test_other_lines_fall_back_to_the_tokeniser(tmp_path: Path, edit: tuple[str, str]) -> None:
    text = save_text(save_services())
    assert edit[0] in text
    dump = tmp_path / "iptables-save.txt"
    dump.write_text(text.replace(edit[0], edit[1], 1))
    parsed = _parsed(str(dump))
    assert parsed.rules is not None
    assert not any(isinstance(r, LightRule) for r in infer.dispatch_rules(parsed.rules, "KUBE-SERVICES"))
    _light_equals_tokenised(str(dump))
    full, fast, _ = both([str(dump)])
    assert fast is not None
    assert_same(full, fast, edit[1])


def test_a_comment_only_a_repair_reads_lists_the_same_services(tmp_path: Path) -> None:
    """A comment with a stray space (as a soft-wrapped copy shows it) is repaired on the tokenised Rule
    (comments.unwrap edits it): a light rule cannot be, so the listing starts again from the tokenised rules."""
    text = save_text(save_services())
    wrapped = text.replace('--comment "ns0/svc-00:http cluster IP"', '--comment "ns0/s vc-00:http cluster IP"', 1)
    assert wrapped != text
    dump = tmp_path / "iptables-save.txt"
    dump.write_text(wrapped)
    parsed = _parsed(str(dump))
    assert parsed.rules is not None
    assert any(isinstance(r, LightRule) for r in infer.dispatch_rules(parsed.rules, "KUBE-SERVICES"))
    listed = {(s.namespace, s.name) for s in infer.infer_services_iptables(parsed.rules)}
    assert ("ns0", "svc-00") in listed and ("ns0", "s vc-00") not in listed
    full, fast, _ = both([str(dump)])
    assert fast is not None
    assert_same(full, fast, "wrapped comment")
