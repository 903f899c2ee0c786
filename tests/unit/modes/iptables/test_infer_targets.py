"""The chains a Service listing finds jumped to (infer._all_targets): a plain dump's found chains are read
in place, as ranges of the text where their runs touch (iptables-save prints the chains sorted, so a
table's service chains come one after another), and must give what each chain's lines jump to (Chain.targets()), in
every layout: runs apart, a chain without rules, a ``-g``, a comment holding `` -j ``."""

from __future__ import annotations

import pytest

from kubectl_svcpath.modes.iptables import infer, parse_save
from kubectl_svcpath.modes.iptables.infer import infer_services_iptables
from kubectl_svcpath.modes.iptables.model import LazyChains
from tests.lab.kpgen import ProxyConfig, cluster_services, save_text


def _dump(edit: str) -> str:
    text = save_text(cluster_services(30, 3), ProxyConfig(jumps=True), tables=("nat",))
    lines = text.split("\n")
    svc = sorted({ln.split()[2] for ln in lines if " -A KUBE-SVC-" in ln})
    if edit == "goto":  # a rule of the 6th service chain that goes to a chain instead of jumping
        i = next(i for i, ln in enumerate(lines) if f"-A {svc[5]} " in ln and " -j KUBE-SEP-" in ln)
        lines[i] = lines[i].replace(" -j KUBE-SEP-", " -g KUBE-SEP-")
    elif edit == "comment":  # a comment that holds " -j ": the line's first jump is the comment's
        i = next(i for i, ln in enumerate(lines) if f"-A {svc[7]} " in ln and "--comment" in ln)
        lines[i] = lines[i].replace('--comment "', '--comment "x -j KUBE-SEP-NOTTHISONE ', 1)
    elif edit == "empty":  # a service chain declared, its rules gone
        lines = [ln for ln in lines if f"-A {svc[3]} " not in ln]
    return "\n".join(lines)


@pytest.mark.parametrize("edit", ["none", "goto", "comment", "empty"])
@pytest.mark.parametrize("pick", ["all", "every other", "one"])
def test_found_chains_read_in_place_jump_where_their_rules_jump(edit: str, pick: str) -> None:
    text = _dump(edit)
    plain = parse_save._Parser(text, "d", False)
    assert plain._plain_scan()
    general = parse_save._Parser(text, "d", False)
    assert general._fast_scan()
    p_nat, g_nat = plain.rules.tables["nat"], general.rules.tables["nat"]
    assert isinstance(p_nat.chains, LazyChains)
    p_nat.chains.locate_all()
    names = sorted(n for n in g_nat.chains if n.startswith(("KUBE-SVC-", "KUBE-EXT-")))
    names = {"all": names, "every other": names[::2], "one": names[4:5]}[pick]
    assert p_nat.chains.blocks_of(names, 512) is not None  # (read in place, not through texts_of)
    # what each chain's lines jump to, read as Chain.targets() reads them (a line's first -j/-g)
    expected = {t for n in names for t in g_nat.chains[n].targets()}
    assert infer._all_targets(p_nat, names) == expected
    if edit == "comment" and pick == "all":
        assert "KUBE-SEP-NOTTHISONE" in expected


@pytest.mark.parametrize("edit", ["none", "goto", "comment", "empty"])
def test_services_listed_from_a_plain_dump_are_those_of_the_line_by_line_read(edit: str) -> None:
    text = _dump(edit)
    fast = parse_save.parse_iptables_save(text, "d", check_all=False)
    slow_parser = parse_save._Parser(text, "d", False)
    slow_parser.scan()
    slow = slow_parser.finish()
    assert infer_services_iptables(fast) == infer_services_iptables(slow)
    assert len(infer_services_iptables(fast)) == 30
