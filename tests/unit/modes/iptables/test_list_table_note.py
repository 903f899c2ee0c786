"""Which table an `iptables -L` listing is: said as the pasted command says it, not "assumed".

tests/corpus/hfrog-minikube-L-nv-grep-cluster-ip pastes `$ sudo iptables --list -nv -t nat | grep 10.108`: the report
said "table assumed to be nat" though the command names it. Without a command the listing's table is still assumed.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ROOT, svcpath

PASTE = ROOT / "tests" / "corpus" / "hfrog-minikube-L-nv-grep-cluster-ip.txt"


def test_the_commands_table_is_no_assumption() -> None:
    code, out, err = svcpath("default/web-svc-cip", "--rules-file", str(PASTE))
    assert code == 0, err
    assert "Note:     iptables -L listing: the nat table (as the pasted command says); counters as printed" in out
    assert "assumed" not in out


def test_without_the_command_the_table_is_assumed(tmp_path: Path) -> None:
    rows = tmp_path / "rows.txt"
    rows.write_text("".join(PASTE.read_text().splitlines(keepends=True)[1:]))
    code, out, err = svcpath("default/web-svc-cip", "--rules-file", str(rows))
    assert code == 0, err
    assert "Note:     iptables -L listing: table assumed to be nat; counters as printed" in out
