"""One paste of several nodes' ipvsadm listings that differ: each node's own report, named as the paste names it.

The layout is that of a real paste (tests/corpus/opsnull-ipvsadm-three-nodes.txt: ``>>> NODE_IP`` before
each node's `ipvsadm -ln`), with the second node's table changed so that the nodes differ.
"""

from __future__ import annotations

import json
from pathlib import Path

from kubectl_svcpath.modes.ipvs.parse import parse_ipvsadm, split_nodes
from tests.conftest import svcpath

_HEAD = """IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
"""
NODES = (">>> 172.27.138.251\n" + _HEAD + "TCP  10.96.0.1:443 rr\n  -> 172.18.0.2:6443              Masq    1      0          0\n"
         "TCP  10.96.0.10:53 rr\n  -> 10.244.0.5:53                Masq    1      0          0\n"
         ">>> 172.27.137.229\n" + _HEAD + "TCP  10.96.0.1:443 rr\n  -> 172.18.0.3:6443              Masq    1      0          0\n")
SAME = "".join(f">>> 172.27.138.{n}\n" + _HEAD + "TCP  10.96.0.1:443 rr\n  -> 172.18.0.2:6443              Masq    1      0          0\n"
               for n in (251, 239))


def _paste(tmp_path: Path, text: str) -> str:
    p = tmp_path / "nodes.txt"
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_split_keeps_each_nodes_lines_where_they_were() -> None:
    (a, text_a), (b, text_b) = split_nodes(NODES, "n")
    assert (a, b) == ("172.27.138.251", "172.27.137.229")
    lines_b = text_b.splitlines()
    assert lines_b[:8] == [""] * 8 and lines_b[8] == ">>> 172.27.137.229" and lines_b[12] == "TCP  10.96.0.1:443 rr"
    assert parse_ipvsadm(text_a, "n").lookup("TCP", "10.96.0.1", 443).real_servers[0].line_no == 6
    assert parse_ipvsadm(text_b, "n").lookup("TCP", "10.96.0.1", 443).real_servers[0].address == "172.18.0.3"
    assert split_nodes(SAME, "n") == []  # nodes that agree are read as one table


def test_each_node_gets_its_own_report(tmp_path: Path) -> None:
    paste = _paste(tmp_path, NODES)
    code, out, err = svcpath("10.96.0.1:443", "--rules-file", paste)
    assert code == 0, err
    first, second = out.split("=== node 172.27.137.229 ===")
    assert first.startswith("=== node 172.27.138.251 ===") and "172.18.0.2:6443" in first and "172.18.0.3" not in first
    assert "172.18.0.3:6443" in second and "172.18.0.2" not in second
    code, out, _ = svcpath("10.96.0.1:443", "--rules-file", paste, "-o", "json")
    doc = json.loads(out)
    assert [(i["node"], i["ports"][0]["paths"][0]["endpoints"][0]["ip"]) for i in doc["items"]] == [
        ("172.27.138.251", "172.18.0.2"), ("172.27.137.229", "172.18.0.3")]
    # a virtual server only one node has: that node's report, and the other node's listing says it has none
    code, out, _ = svcpath("10.96.0.10:53", "--rules-file", paste, "-o", "json")
    doc = json.loads(out)
    assert doc["node"] == "172.27.138.251"
    assert 'node 172.27.137.229: service "10.96.0.10:53" not found in the rules' in doc["notes"]


def test_all_lists_each_nodes_rows_with_its_node(tmp_path: Path) -> None:
    paste = _paste(tmp_path, NODES)
    code, out, err = svcpath("--all", "--rules-file", paste)
    assert code == 0, err
    rows = out.splitlines()
    assert rows[0].split()[:2] == ["NODE", "NAMESPACE"]
    assert sorted((r.split()[0], r.split()[-4]) for r in rows[1:4]) == [
        ("172.27.137.229", "443"), ("172.27.138.251", "443"), ("172.27.138.251", "53")]
    assert "holds 2 nodes' tables that differ (172.27.138.251, 172.27.137.229)" in out
    code, out, _ = svcpath("--all", "--rules-file", _paste(tmp_path, SAME))
    assert out.splitlines()[0].split()[0] == "NAMESPACE" and "read as one" in out


def test_node_reads_one_nodes_listing(tmp_path: Path) -> None:
    """--node NAME reads that node's listing (it was refused: the whole paste read, "… and they differ")."""
    paste = _paste(tmp_path, NODES)
    code, out, err = svcpath("10.96.0.1:443", "--rules-file", paste, "--node", "172.27.137.229", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert "items" not in doc and doc["node"] == "172.27.137.229", out
    assert [e["ip"] for p in doc["ports"] for path in p["paths"] for e in path["endpoints"]] == ["172.18.0.3"], out
    code, out, err = svcpath("10.96.0.1:443", "--rules-file", paste, "--node", "10.0.0.9")
    assert code == 8 and "node 10.0.0.9 is none of the 2 nodes whose listings it holds (172.27.138.251 and 172.27.137.229)" in err, err
