"""An AKS engineer's notes (VijayRod/demo, kept in tests/corpus): `kubectl get` tables pasted without their commands,
`iptables-save | grep nginx` of two nodes each under a note naming the node, and a one-rule grep of a KUBE-FW chain
followed by the author's `az` script. Checked as users run the plugin: table, --all, --node and JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

from kubectl_svcpath.parse.hosts import host_parts
from tests.conftest import svcpath

CORPUS = Path(__file__).resolve().parents[3] / "corpus"
TWO_NODES = str(CORPUS / "vijayrod-aks-grep-two-nodes-local-notes-get-tables.txt")
FW = str(CORPUS / "vijayrod-aks-grep-fw-source-range-az-script.txt")
LOCAL, REMOTE = "aks-npuser-11270689-vmss000000", "aks-npuser-11270689-vmss000002"


def _run(*args: str) -> str:
    code, out, err = svcpath(*args)
    assert code in (0, 3), err
    return out


def test_kubectl_get_tables_without_their_commands_are_left_out() -> None:
    """'NAME    TYPE           CLUSTER-IP …' and 'NAME  READY  STATUS …' above the rules: refused as 'line 1: not an
    iptables-save line'. (The Service's row is read as what it shows: tests/unit/parse/test_get_svc_and_words.py.)"""
    out = _run("default/nginx", "--rules-file", TWO_NODES, "--node", LOCAL)
    assert "not rule output, left out: lines 4-5 (a kubectl get table)" in out
    assert "line 2 is `kubectl get service` output (nginx): read as what the Service shows" in out


def test_two_nodes_under_the_authors_notes_are_two_reports() -> None:
    """Each node's copy of one grep under '# <node> - …': read as one node, every entry was listed twice, with no
    share, and the second node's 'has no local endpoints' DROPs were not shown at all."""
    rows = _run("--all", "--rules-file", TWO_NODES).splitlines()
    assert rows[0].split()[0] == "NODE"
    assert sorted(r.split()[0] for r in rows[1:3]) == [LOCAL, REMOTE]
    assert "told apart by the author's notes naming each host" in "\n".join(rows)
    local = _run("default/nginx", "--rules-file", TWO_NODES, "--node", LOCAL)
    assert sum(1 for line in local.splitlines() if "20.91.172.24:80" in line) == 1  # (was twice)
    assert "10.244.2.5:80                                    100%" in local
    remote = _run("default/nginx", "--rules-file", TWO_NODES, "--node", REMOTE)
    rows = [line.split() for line in remote.splitlines() if "DROP (no local endpoints)" in line]
    assert [r[0] for r in rows] == ["loadBalancer", "nodePort"], remote
    assert "WARNING  no-local-endpoints" in remote


def test_a_chain_the_grep_shows_in_part_is_not_said_absent() -> None:
    """KUBE-EXT's three commented rules are in the grep, its uncommented jump to KUBE-SVL is not: it was
    'KUBE-EXT-…: not in the input' (twice) and 'jumps to KUBE-EXT-…, which is not in the input'."""
    out = _run("default/nginx", "--rules-file", TWO_NODES, "--node", LOCAL)
    assert "KUBE-EXT-2CMXP7HKUVJN7L6M: not in the input" not in out and "which is not in the input" not in out
    after = ("the rule after its 'route LOCAL traffic' one (a jump to KUBE-SVL-2CMXP7HKUVJN7L6M when the node has local "
             "endpoints; none when it has none, and the filter table drops the rest) is not")
    flat = " ".join(out.split())
    assert flat.count(f"KUBE-EXT-2CMXP7HKUVJN7L6M: in the input in part, {after}") == 1, out
    assert f"KUBE-EXT-2CMXP7HKUVJN7L6M is in the input, {after}" in flat, out
    assert "KUBE-EXT-2CMXP7HKUVJN7L6M: in the input in part" in _run("default/nginx", "--rules-file", TWO_NODES, "--node",
                                                                     LOCAL, "-o", "tree")


def test_the_authors_script_after_a_grep_and_a_fw_chain_make_a_load_balancer() -> None:
    """'noderg=$(az aks show …)' and 'az network nsg rule list …' after the grep: refused at line 4. Read, the
    Service of a KUBE-FW chain (written only for a load-balancer IP) was 'type ?'."""
    out = _run("default/nginx", "--rules-file", FW)
    assert "type LoadBalancer" in out
    doc = json.loads(_run("default/nginx", "--rules-file", FW, "-o", "json"))
    assert doc["service"]["type"] == "LoadBalancer"
    assert doc["ports"][0]["paths"][0]["sourceRanges"] == ["1.2.3.4/32"]


def test_notes_that_name_no_host_split_nothing() -> None:
    """A chain's name or iptables' warning in a comment is no host; nor are notes over rules that no two of them print."""
    rules = "-A KUBE-SVC-X -j KUBE-SEP-A\n"
    assert host_parts(f"# KUBE-SERVICES:\n{rules}# Warning: x\n{rules}", save_lines=True) == []
    assert host_parts(f"# node-1 - one\n{rules}# node-2 - two\n-A KUBE-SVC-Y -j KUBE-SEP-B\n", save_lines=True) == []
    parts = host_parts(f"# node-1 - one\n{rules}# node-2 - two\n{rules}", save_lines=True)
    assert [p.host for p in parts] == ["node-1", "node-2"]
    # a whole dump (table headers) is never looked at so, whatever its comments
    assert host_parts(f"*nat\n# node-1\n{rules}# node-2\n{rules}COMMIT\n", save_lines=True) == []
