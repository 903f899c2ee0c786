"""The note on a missing filter table agrees with the DROP the report shows (qa9).

It said 'Local-policy DROPs cannot be seen' right above a path table whose rows read 'DROP (no local endpoints)':
that DROP was read from the nat table, by the rule kube-proxy (before 1.24) wrote in KUBE-XLB-…, or from KUBE-EXT-…
ending where kube-proxy ends it when the node has no local endpoint. The note now says so; without a DROP shown it is
as before.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import DUMPS, EXAMPLE, ROOT, require_shared, svcpath


def _notes(out: str) -> list[str]:
    notes: list[str] = []
    for line in out.splitlines():
        if line.startswith("Note:"):
            notes.append(line[5:].strip())
    return notes  # (not a terminal: each note on one line)


def test_a_kube_xlb_drop_is_said_to_be_the_nat_tables_own_rule() -> None:
    paste = str(ROOT / "tests/corpus/website-2499-L-xlb-onlylocal-k8s15.txt")  # iptables -t nat -L of a 1.5 node
    code, out, err = svcpath("--rules-file", paste, "default/nodeport")
    assert code == 0, err
    assert "DROP (no local endpoints)" in out
    assert ("no filter table: its REJECTs (Services without endpoints) and DROPs cannot be seen (dump all tables: "
            "iptables-save -c); the DROP shown is read from the nat table: KUBE-XLB-XP7QDA4CRQ2QA33W's own rule "
            "('has no local endpoints')") in _notes(out)
    assert "Local-policy DROPs cannot be seen" not in out


def test_a_kube_ext_chain_ending_is_said_to_be_read_from_the_nat_table(tmp_path: Path) -> None:
    require_shared()  # kube-proxy's own test rules, their filter table left out: ns2/svc2 is Local, its endpoint elsewhere
    lines = (DUMPS / "derived-netns-iptables-nft-save-from-upstream-TestOverallIPTablesRules.txt").read_text().splitlines()
    nat = tmp_path / "nat.txt"
    nat.write_text("\n".join(lines[:1] + lines[lines.index("*nat") - 1:]) + "\n")
    code, out, err = svcpath("--rules-file", str(nat), "ns2/svc2")
    assert code == 0, err
    assert out.count("DROP (no local endpoints)") == 3
    assert ("no filter table: its REJECTs (Services without endpoints) and DROPs cannot be seen (dump all tables: "
            "iptables-save -c); the DROP shown is read from the nat table: KUBE-EXT-GNZBNJ2PO5MGZ6GT ends where "
            "kube-proxy ends it when the node has no local endpoint") in _notes(out)
    code, out, err = svcpath("--rules-file", str(nat), "ns1/svc1")  # (no DROP shown: the note as it was)
    assert ("no filter table: REJECT for services without endpoints and Local-policy DROPs cannot be seen (dump all "
            "tables: iptables-save -c)") in _notes(out)


def test_without_a_drop_shown_the_note_is_as_before() -> None:
    code, out, err = svcpath("--rules-file", str(EXAMPLE / "iptables-save-on-node-host.txt"), "hello-service")
    assert ("no filter table: REJECT for services without endpoints and Local-policy DROPs cannot be seen (dump all "
            "tables: iptables-save -c)") in _notes(out)


def test_no_nat_table_beside_a_filter_drop_or_reject_says_what_is_shown(tmp_path: Path) -> None:
    """A filter table alone (a real paste in tests/corpus, and kube-proxy's own rules cut to their filter table): 'no nat
    table: no service path can be followed' sat above paths the filter table's DROP (no local endpoints) or REJECT (no
    endpoints) ends. The note now says the paths shown end there and that any path through the nat table is not in the
    input."""
    said = ("no nat table: the paths shown end at the filter table's own DROP or REJECT; any path through the nat table "
            "is not in the input (dump it: iptables-save -c -t nat)")
    paste = str(ROOT / "tests/corpus/matrixzj-ext-services-drop-L-and-grep.txt")
    code, out, err = svcpath("--rules-file", paste, "default/nginx")
    assert code == 0 and "DROP (no local endpoints)" in out and said in _notes(out), out
    assert "no service path can be followed" not in out
    require_shared()
    lines = (DUMPS / "derived-netns-iptables-nft-save-from-upstream-TestOverallIPTablesRules.txt").read_text().splitlines()
    filt = tmp_path / "filter.txt"
    filt.write_text("\n".join(lines[: lines.index("COMMIT") + 1]) + "\n")
    code, out, err = svcpath("--rules-file", str(filt), "ns6/svc6")
    assert code == 3 and "REJECT (no endpoints)" in out and said in _notes(out), out
