"""Listing every Service of a dump (infer._drafts for --all) takes two shortcuts that must give what the
plain definitions give:

- a dispatch rule's comment in kube-proxy's own forms is read with one match (infer._said), not through
  comments.read + comments.verify: the same service port, kind and protocol for every comment, hostile
  ones included (colons in the port, the legacy "ns/name:", a wrong hash, another form, a newline);
- the per-service chains no found port owns (infer._untied) are found from the table's sorted names: the
  chains of no found hash, neither tied nor jumped to by a found chain, in the table's order, as the
  definition reads them chain by chain (shared dumps, corpus pastes, generated dumps with problems,
  chains of an unknown hash, chains out of order);
- the endpoint chains no service chain jumps to (infer._unjumped, which reads the service chains in place
  without a set of every target) are _all_targets' answer, with some of the chains already made or not.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from kubectl_svcpath import kubeproxy, pipeline
from kubectl_svcpath.collect import files
from kubectl_svcpath.dump import Collection
from kubectl_svcpath.errors import SvcpathError
from kubectl_svcpath.modes.iptables import comments, infer
from kubectl_svcpath.modes.iptables.infer import LightRule
from tests.conftest import DUMPS
from tests.lab.kpgen import save_text
from tests.onepass_inputs import CORPUS, DUMP_FILES, PASTES, save_services, save_with_problems

SPNS = ["default/hello", "kube-system/kube-dns:dns-tcp", "ns/svc:", "ns/svc:a:b", "ns/svc:a:", "a/b:x/y", "ns/svc:"]
SAID = ["{spn} cluster IP", "{spn} external IP", "{spn} loadbalancer IP", "{spn}", "{spn} -> 10.0.0.1:80",
        "{spn} has no endpoints", "{spn}  cluster IP", "{spn} cluster IP\n", "{spn} Cluster IP", "x {spn} cluster IP",
        "{spn} cluster IP ", "{spn}:", "/{spn} cluster IP"]


def _reference(rule: LightRule) -> tuple[object, ...] | None:
    """comments.read, then comments.verify against the rule's target: what _named gives when no repair applies."""
    named = comments.read(rule.comment)
    proto = comments.verify(named, (rule.target,), rule.protocol) if named is not None else None
    if named is None or proto is None:
        return None
    return named.namespace, named.name, named.legacy_colon, named.port_name, named.kind, proto


def _targets(spn: str) -> list[str]:
    chains = kubeproxy.service_chains(spn, "tcp")
    return [chains["svc"], chains["fw"], kubeproxy.service_chains(spn, "udp")["xlb"], "KUBE-SVC-AAAAAAAAAAAAAAAA",
            kubeproxy.endpoint_chain(spn, "tcp", "10.0.0.1", 80), "KUBE-MARK-MASQ", "KUBE-SVC-"]


def test_a_dispatch_comment_read_at_once_names_what_comments_read_and_verify_name() -> None:
    fast = 0
    for spn, form, proto in itertools.product(SPNS, SAID, ("tcp", "udp", "sctp", None)):
        comment = form.format(spn=spn)
        for target in _targets(spn):
            rule = LightRule("KUBE-SERVICES", 1, "", proto, None, comment, None, target)
            want = _reference(rule)
            for addressed in (True, False):
                try:
                    got = infer._said(rule, addressed)
                except infer._NotLight:  # (a repair found: only when the comment does not read as it is)
                    assert want is None, comment
                    continue
                if want is not None and (want[4] != "name") is addressed:
                    fast += 1
                assert got == want, (comment, target, proto, addressed)
    assert fast > 100  # (the one-match reading was taken, not only the fallback)


def _parsed(path: str) -> pipeline.Parsed | None:
    try:
        parsed = pipeline.parse_collection(Collection(dumps=[files.read_dump(path)]))
    except SvcpathError:
        return None
    return parsed if parsed.rules is not None and parsed.rules.table("nat") is not None else None


def _found(path: str) -> tuple[set[str], set[str]] | None:
    """The found ports' own hashes and the chains their rules named, as _per_service_chains works them out."""
    parsed = _parsed(path)
    if parsed is None or parsed.rules is None:
        return None
    drafts: dict[tuple[str, str], infer._Draft] = {}

    def draft_for(namespace: str, name: str, legacy_colon: bool) -> infer._Draft:
        d = drafts.setdefault((namespace, name), infer._Draft(namespace, name))
        d.legacy_colon = d.legacy_colon or legacy_colon
        return d

    rules = parsed.rules
    infer._from_entry_rules(rules.rules_of("nat", "KUBE-SERVICES"), draft_for)
    infer._from_node_ports(rules.rules_of("nat", "KUBE-NODEPORTS"), draft_for)
    for chain in ("KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES"):
        infer._from_filter_rules(chain, rules.rules_of("filter", chain), draft_for)
    hashes = {h for d in drafts.values() for (pname, proto), pf in d.ports.items() for h in infer._own_hashes(d, pname, proto, pf)}
    return hashes, {c for d in drafts.values() for pf in d.ports.values() for c in pf.chains}


def _untied_by_definition(path: str, hashes: set[str], tied: set[str]) -> tuple[list[str], list[str]]:
    """Chain by chain: the per-service chains of no found hash, not tied, not jumped to by a found chain (a
    tied one, or one of a found hash); and the hash of each per-service chain (not KUBE-SEP) of no found hash."""
    parsed = _parsed(path)
    assert parsed is not None and parsed.rules is not None
    nat = parsed.rules.table("nat")
    assert nat is not None
    names = list(nat.chains)
    found = [n for n in names if n in tied or (n.startswith(infer._PER_SERVICE[:-1]) and infer._hash(n) in hashes)]
    jumped = {t for n in found for t in nat.chains[n].targets()}
    untied = [n for n in names if n.startswith(infer._PER_SERVICE) and n not in tied and n not in jumped
              and infer._hash(n) not in hashes]
    orphans = [h for n in names if n.startswith(infer._PER_SERVICE[:-1]) and (h := infer._hash(n)) and h not in hashes]
    return untied, orphans


def _check(path: str) -> tuple[list[str], list[str]] | None:
    found = _found(path)
    parsed = _parsed(path)
    if found is None or parsed is None or parsed.rules is None:
        return None
    hashes, tied = found
    nat = parsed.rules.table("nat")
    assert nat is not None
    untied, claims = infer._untied(parsed.rules, nat, hashes, tied, None)
    want_untied, want_orphans = _untied_by_definition(path, hashes, tied)
    assert untied == want_untied, path
    assert claims is not None and claims.hashes == hashes and sorted(claims.orphans) == sorted(want_orphans), path
    return untied, claims.orphans


@pytest.mark.parametrize("dump", DUMP_FILES)
def test_untied_chains_of_shared_dumps_are_the_definitions(dump: str) -> None:
    if not DUMPS.is_dir():
        pytest.skip("no shared dumps")
    _check(str(DUMPS / dump))


@pytest.mark.parametrize("paste", PASTES)
def test_untied_chains_of_corpus_pastes_are_the_definitions(paste: str) -> None:
    _check(str(CORPUS / paste))


def _edited(text: str, edit: str) -> str:
    lines = text.split("\n")
    commit = next(i for i, ln in enumerate(lines) if ln == "COMMIT" and any(x.startswith(":KUBE-SEP-") for x in lines[:i]))
    if edit == "orphan":  # a service chain of a hash no port has, with an endpoint chain nothing else jumps to
        at = next(i for i, ln in enumerate(lines) if ln.startswith(":KUBE-SVC-"))
        lines[at:at] = [":KUBE-SVC-ORPHANORPHANORPH - [0:0]", ":KUBE-SEP-ORPHANORPHANORPH - [0:0]", ":KUBE-FW- - [0:0]"]
        lines[commit + 3:commit + 3] = [
            '[0:0] -A KUBE-SVC-ORPHANORPHANORPH -m comment --comment "ns9/gone:http" -j KUBE-SEP-ORPHANORPHANORPH',
            "[0:0] -A KUBE-SEP-ORPHANORPHANORPH -p tcp -m tcp -j DNAT --to-destination 10.244.99.1:80"]
    elif edit == "unsorted":  # the nat table's chains' rules in reverse order (each chain's rules together), with
        # two endpoint chains nothing jumps to
        at = next(i for i, ln in enumerate(lines) if ln.startswith(":KUBE-SEP-"))
        lines[at:at] = [":KUBE-SEP-AAAASTALEAAAAAAA - [0:0]", ":KUBE-SEP-ZZZZSTALEZZZZZZZ - [0:0]"]
        lines[commit + 2:commit + 2] = [
            f"[0:0] -A KUBE-SEP-{x * 4}STALE{x * 7} -p tcp -m tcp -j DNAT --to-destination 10.244.98.1:80" for x in "AZ"]
        commit += 4
        start = max(i for i, ln in enumerate(lines[:commit]) if not ln.startswith("["))
        runs = [list(run) for _, run in itertools.groupby(lines[start + 1:commit], key=lambda ln: ln.split()[2])]
        lines[start + 1:commit] = [ln for run in runs[::-1] for ln in run]
    return "\n".join(lines)


@pytest.mark.parametrize("edit", ["none", "orphan", "unsorted"])
@pytest.mark.parametrize("problems", [False, True])
def test_untied_chains_of_generated_dumps_are_the_definitions(tmp_path: Path, problems: bool, edit: str) -> None:
    text = save_text(save_services())
    dump = tmp_path / "iptables-save.txt"
    dump.write_text(_edited(save_with_problems(text) if problems else text, edit))
    got = _check(str(dump))
    assert got is not None
    untied, orphans = got
    if problems:
        assert "KUBE-SEP-STALESTALESTALE" in untied  # (not vacuous: the stale endpoint chain is untied)
    if edit == "orphan":
        assert "KUBE-SVC-ORPHANORPHANORPH" in untied and "KUBE-SEP-ORPHANORPHANORPH" in untied and "KUBE-FW-" in untied
        assert "ORPHANORPHANORPH" in orphans
    if edit == "unsorted":  # (in the table's order: the chains' rules reversed)
        assert untied.index("KUBE-SEP-ZZZZSTALEZZZZZZZ") < untied.index("KUBE-SEP-AAAASTALEAAAAAAA")


@pytest.mark.parametrize("made", [0, 3])
def test_unjumped_endpoint_chains_are_those_no_chain_jumps_to(tmp_path: Path, made: int) -> None:
    dump = tmp_path / "iptables-save.txt"
    dump.write_text(_edited(save_with_problems(save_text(save_services())), "unsorted"))
    parsed = _parsed(str(dump))
    assert parsed is not None and parsed.rules is not None
    nat = parsed.rules.table("nat")
    assert nat is not None
    names = list(nat.chains)
    services = [n for n in names if n.startswith("KUBE-SVC-")]
    endpoints = [n for n in names if n.startswith("KUBE-SEP-")]
    for name in services[:made]:  # (a Chain made: read from its own rules, not the text in place)
        assert len(nat.chains[name]) > 0
    jumped = infer._all_targets(nat, services)
    want = [n for n in endpoints if n not in jumped]
    assert infer._unjumped(nat, services, endpoints) == want
    assert {"KUBE-SEP-STALESTALESTALE", "KUBE-SEP-AAAASTALEAAAAAAA", "KUBE-SEP-ZZZZSTALEZZZZZZZ"} <= set(want)
    assert len(want) < len(endpoints) // 2  # (not vacuous: most endpoint chains are jumped to)
