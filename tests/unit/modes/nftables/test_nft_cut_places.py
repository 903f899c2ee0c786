"""A cut ("...") in an `nft list table ip kube-proxy` paste leaves only the part of the listing it falls in unknown.

Every chain of a paste with one "..." was read as from an excerpt: default/kubernetes, listed whole above the cut
of a real `nft -a list table kube-proxy` (tests/corpus/k8s132-…), read 'type ?' and 'sessionAffinity: not in the
input'; a cut in one Service's external chain made another Service's report say its type and policies were not
in the input; and a cut where an external chain's goto was read as 'DROP (no local endpoints)', a warning
no-local-endpoints. nft lists kube-proxy's maps whole (each element under its map) and each chain between its
`chain … {` and `}`: a block the cut is not in is whole, as in an iptables paste (parse/excerpt.py) a chain shown
whole before or after a cut is.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import DUMPS, ROOT, require_shared, svcpath

NFT = DUMPS / "derived-netns-nft-list-table-ip-kube-proxy-from-upstream-TestOverallNFTablesRules.txt"
K8S132 = ROOT / "tests" / "corpus" / "k8s132-notes-nft-a-list-table-kube-proxy-elided.txt"


def _cut(tmp_path: Path, first: int, last: int, mark: str = "\t...") -> str:
    """The shared listing with its lines first..last (1-based) replaced by one cut mark, as an author cuts."""
    lines = NFT.read_text().splitlines()
    out = tmp_path / "cut.txt"
    out.write_text("\n".join(lines[:first - 1] + [mark] + lines[last:]) + "\n")
    return str(out)


def _line(text: str) -> int:
    return next(i for i, ln in enumerate(NFT.read_text().splitlines(), 1) if ln.strip() == text)


def _report(path: str, service: str) -> dict:
    code, out, err = svcpath("--rules-file", path, service, "-o", "json")
    assert code in (0, 3), err
    return json.loads(out)


def test_a_cut_inside_one_chain_leaves_the_others_whole(tmp_path: Path) -> None:
    require_shared()
    start = _line("chain external-4AT6LBPK-ns3/svc3/tcp/p80 {")
    path = _cut(tmp_path, start + 2, start + 2, "\t\t...")  # (its "goto service-…" cut)
    whole = _report(path, "ns1/svc1")
    assert whole["service"]["type"] == "ClusterIP" and whole["service"]["sessionAffinity"] == "None"
    assert "excerpt" not in whole and not whole.get("unknown")
    assert any(n.startswith(f"{path} is cut at line {start + 2}, inside chain external-4AT6LBPK-ns3/svc3/tcp/p80: that "
                            "chain is in the input in part (ns3/svc3: read as from an excerpt); the maps and the other "
                            "chains of table ip kube-proxy are listed whole") for n in whole["notes"])
    cut = _report(path, "ns3/svc3")
    assert cut["excerpt"] is True and cut["service"]["type"] == "NodePort"  # (its map elements are whole)
    assert cut["service"]["externalTrafficPolicy"] is None
    (node_port,) = [p for p in cut["ports"][0]["paths"] if p["entry"] == "nodePort"]
    assert node_port["verdict"] == "not-in-input"  # (was "drop": DROP (no local endpoints))
    assert not [f for f in cut["findings"] if f["code"] == "no-local-endpoints"]


def test_a_cut_between_blocks_touches_the_services_whose_chains_it_took(tmp_path: Path) -> None:
    require_shared()
    start = _line("chain endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80 {")
    path = _cut(tmp_path, start, start + 4)  # (the chain block and the blank line after it)
    assert not _report(path, "ns5/svc5").get("excerpt")
    assert _report(path, "ns5/svc5")["service"]["sessionAffinity"] == "ClientIP"
    touched = _report(path, "ns4/svc4")
    assert touched["excerpt"] is True and touched["service"]["sessionAffinity"] is None
    code, out, err = svcpath("--rules-file", path, "--all")
    assert code == 3, err
    assert "ns1        svc1  ClusterIP" in out and "Services it does not show may exist" not in out


def test_a_cut_in_a_map_leaves_every_service_an_excerpt(tmp_path: Path) -> None:
    require_shared()
    start = _line("map service-ips {")
    path = _cut(tmp_path, start + 4, start + 4, "\t\t\t     ...")  # (an element of service-ips)
    assert _report(path, "ns1/svc1")["excerpt"] is True
    assert _report(path, "ns1/svc1")["service"]["type"] is None


def test_the_real_paste_cut_after_its_fourth_chain() -> None:
    doc = _report(str(K8S132), "default/kubernetes")
    assert doc["service"]["type"] == "ClusterIP" and doc["service"]["sessionAffinity"] == "None"
    assert "excerpt" not in doc
    dns = _report(str(K8S132), "kube-system/kube-dns")  # (its chains are after the cut)
    assert dns["excerpt"] is True and dns["service"]["type"] == "ClusterIP" and dns["service"]["sessionAffinity"] is None


def test_where_each_cut_is() -> None:
    from kubectl_svcpath.modes.nftables.cuts import cut_places

    text = "table ip kube-proxy {\n\tmap m {\n\t\telements = { 1,\n\n 2 }\n\t}\n\n\tchain c {\n\n\t}\n}\n\n"
    assert cut_places(text, [4, 7, 9, 12]) == [(4, ("ip", "kube-proxy"), "map", "m"), (7, ("ip", "kube-proxy"), None, None),
                                               (9, ("ip", "kube-proxy"), "chain", "c"), (12, None, None, None)]


def test_a_cut_that_took_a_map_leaves_every_service_an_excerpt(tmp_path: Path) -> None:
    """Cut between blocks from service-nodeports' map down past chain services (which names it): nothing names the
    map any more, yet its elements (ns3/svc3's node port) were in what was cut."""
    require_shared()
    path = _cut(tmp_path, _line("map service-nodeports {"), _line("chain service-endpoints-check {") - 1)
    doc = _report(path, "ns3/svc3")
    assert doc["excerpt"] is True and doc["service"]["type"] is None  # (not "ClusterIP": its node port was cut)


def test_a_cut_in_a_table_of_nothing_of_kube_proxys_touches_no_service(tmp_path: Path) -> None:
    """`nft list ruleset` with firewalld's table cut short above kube-proxy's."""
    require_shared()
    firewalld = ("table inet firewalld {\n\tchain filter_INPUT {\n\t\ttype filter hook input priority filter + 10; "
                 "policy accept;\n\t\tct state established,related accept\n\t\t...\n\t}\n}\n")
    (tmp_path / "ruleset.txt").write_text(firewalld + NFT.read_text())
    doc = _report(str(tmp_path / "ruleset.txt"), "ns1/svc1")
    assert "excerpt" not in doc and doc["service"]["type"] == "ClusterIP"
    assert (f"{tmp_path / 'ruleset.txt'} is cut at line 5 (table inet firewalld), in tables that hold none of "
            "kube-proxy's chains: no Service is read from them, and kube-proxy's table is read as the listing shows it"
            ) in doc["notes"]
