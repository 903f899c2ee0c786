"""Where connections went: ipvsadm's ActiveConn/InActConn per real server, on each endpoint hop.

The reader always read them (``ipvsadm -Ln``, ``--persistent-conn``) but no view showed them: a
weight-0 real server still draining 329 connections (kubernetes/kubernetes#99162, in tests/corpus)
looked the same as an idle one. ``--stats``/``--rate`` listings have no such columns: the hop says
"not in the input" (JSON null, "-" in the table) instead of a number.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT, svcpath

PASTE = str(ROOT / "tests" / "corpus" / "k8s-99162-ipvsadm-Ln-t-weight-zero-inactconn.txt")
STATS = str(ROOT / "tests" / "fixtures" / "ipvs" / "hello-ipvsadm-Ln-stats-exact.txt")
# ipvsadm.c print_title/print_service_entry for --thresholds: no Forward/Weight, the two thresholds first
THRESHOLDS = """\
IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn
  -> RemoteAddress:Port
TCP  10.96.0.10:53 rr
  -> 10.244.0.5:53                0          0          2          7
"""


def _hops(doc: dict) -> dict[str, dict]:
    return {f"{e['ip']}:{e['port']}": e for p in doc["ports"] for path in p["paths"] for e in path["endpoints"]}


def test_each_real_server_carries_its_active_and_inactive_connections() -> None:
    code, out, err = svcpath("192.168.1.2:30232", "--rules-file", PASTE, "-o", "json")
    assert code == 0, err
    hops = _hops(json.loads(out))
    assert (hops["11.0.4.9:80"]["weight"], hops["11.0.4.9:80"]["activeConns"], hops["11.0.4.9:80"]["inactiveConns"]) == (0, 0, 329)
    assert (hops["11.0.1.9:80"]["activeConns"], hops["11.0.1.9:80"]["inactiveConns"]) == (1, 671)
    code, out, err = svcpath("192.168.1.2:30232", "--rules-file", PASTE)
    assert "ACT/INACT" in out
    row = next(line for line in out.splitlines() if "11.0.4.9:80 w0" in line)
    assert row.split()[-2] == "0/329"
    code, out, err = svcpath("192.168.1.2:30232", "--rules-file", PASTE, "-o", "tree")
    assert "11.0.4.9:80 weight 0  0 active, 329 inactive" in out
    code, out, err = svcpath("192.168.1.2:30232", "--rules-file", PASTE, "--explain")
    assert "Still open (ipvsadm -Ln): 11.0.4.9:80 0 active, 329 inactive" in out


def test_a_stats_listing_has_no_connection_columns_so_they_are_not_in_the_input() -> None:
    code, out, err = svcpath("10.101.173.15:39090", "--rules-file", STATS, "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    for hop in _hops(doc).values():
        assert hop["activeConns"] is None and hop["inactiveConns"] is None
        assert hop["connections"] is not None  # --stats' Conns (a total since creation) is a different number
    assert any("active and inactive connections are unknown (ipvsadm -Ln)" in n for n in doc["notes"])
    code, out, err = svcpath("10.101.173.15:39090", "--rules-file", STATS, "-o", "tree")
    assert "connections not in the input" in out


def test_a_thresholds_listing_gives_the_connections_too(tmp_path: Path) -> None:
    f = tmp_path / "thresholds.txt"
    f.write_text(THRESHOLDS)
    code, out, err = svcpath("10.96.0.10:53", "--rules-file", str(f), "-o", "json")
    assert code == 0, err
    hop = _hops(json.loads(out))["10.244.0.5:53"]
    assert (hop["activeConns"], hop["inactiveConns"]) == (2, 7)


def test_other_modes_carry_no_ipvs_connection_fields() -> None:
    code, out, err = svcpath("ns1/svc1", "--rules-file", str(ROOT / "tests" / "corpus" / "knftables-fake-test-kube-proxy-ip6-add-commands.txt"), "-o", "json")
    assert code == 0, err
    assert all("activeConns" not in hop for hop in _hops(json.loads(out)).values())
    code, out, err = svcpath("ns1/svc1", "--rules-file", str(ROOT / "tests" / "corpus" / "knftables-fake-test-kube-proxy-ip6-add-commands.txt"))
    assert "ACT/INACT" not in out


# `ipvsadm -Lnc` as people paste it after the table (the shape of aledbf/kube-keepalived-vip#117's paste):
# each entry is one connection, "TCP 14:59  ESTABLISHED client virtual real-server"
LNC = """\
# ipvsadm -Ln
IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.96.0.1:443 rr
  -> 192.168.0.1:6443             Masq    1      1          1
{between}IPVS connection entries
pro expire state       source             virtual            destination
TCP 14:59  ESTABLISHED 10.244.1.1:51234   10.96.0.1:443      192.168.0.1:6443
TCP 01:10  TIME_WAIT   10.244.1.1:51230   10.96.0.1:443      192.168.0.1:6443
"""


def test_connection_entries_are_not_virtual_servers(tmp_path: Path) -> None:
    """They were read as virtual servers "TCP 14:59" and "TCP 01:10" without real servers: two no-endpoints errors."""
    for between in ("# ipvsadm -Lnc\n", ""):  # under its own prompt, or printed right after the table
        f = tmp_path / "lnc.txt"
        f.write_text(LNC.format(between=between))
        code, out, err = svcpath("--rules-file", str(f), "--all")
        assert code == 0, err
        rows = [line for line in out.splitlines() if line.startswith("?")]
        assert len(rows) == 1 and "TCP 10.96.0.1:443" in rows[0], out
        assert "14:59" not in out and "no-endpoints" not in out
        assert "`ipvsadm -Lnc` connection entries" in out
