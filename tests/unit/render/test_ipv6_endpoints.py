"""An IPv6 endpoint is written [address]:port, as kube-proxy's dnat statement and curl write it.

On knftables' copy of kube-proxy's ip6 table (tests/corpus) the table and tree views printed
``fd00:10:180::1:80``: address fd00:10:180::1:80 with no port, or fd00:10:180::1 port 80?
"""

from __future__ import annotations

from tests.conftest import ROOT, svcpath

PASTE = str(ROOT / "tests" / "corpus" / "knftables-fake-test-kube-proxy-ip6-add-commands.txt")


def test_the_table_and_the_tree_bracket_an_ipv6_endpoint() -> None:
    for view in ("table", "tree", "wide"):
        code, out, err = svcpath("ns1/svc1", "--rules-file", PASTE, "-o", view)
        assert code == 0, err
        assert "[fd00:10:180::1]:80" in out and "[fd00:10:180::2:1]:80" in out, out
        assert "fd00:10:180::1:80" not in out.replace("[fd00:10:180::1]:80", ""), out
