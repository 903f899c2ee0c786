"""An `ipvsadm -ln --stats` listing alone (DesistDaydream/notes-learning, tests/corpus/desist-node1-ipvsadm-ln-stats-
indented.txt): counters, but no scheduler, flags or weights. What those would tell stays unknown."""

from __future__ import annotations

import json
import re

from pathlib import Path

from tests.conftest import ROOT, svcpath, svcpath_on

PASTE = str(ROOT / "tests/corpus/desist-node1-ipvsadm-ln-stats-indented.txt")
CONNECTIONS = str(ROOT / "tests/corpus/desist-node1-ipvsadm-list-nc-connections.txt")


def test_one_real_server_of_unknown_weight_gets_no_share() -> None:
    # was 'delivered  10.244.5.86:80  100%' and 'IPVS weight ? of 0': of weight 0 it takes no new connection
    code, out, err = svcpath("TCP 172.38.40.216:30080", "--rules-file", PASTE, "--trace", "outside")
    assert code == 0, err
    assert "100%" not in out
    assert re.search(r"\n +1 +delivered +10\.244\.5\.86:80 +\? ", out), out
    code, out, err = svcpath("TCP 172.38.40.216:30080", "--rules-file", PASTE, "--trace", "outside", "-o", "json")
    choice = json.loads(out)["traces"][0]["branches"][0]["choices"][0]
    assert choice["probability"] is None and choice["why"] == "IPVS weight ? of ?"


def test_persistence_a_stats_line_does_not_print_is_not_said_none() -> None:
    # was sessionAffinity "None": a --stats line has no 'persistent N' column to show it either way
    code, out, err = svcpath("--rules-file", PASTE, "--all", "-o", "json")
    assert code == 0, err
    assert [i["service"]["sessionAffinity"] for i in json.loads(out)["items"]] == [None, None]
    code, out, err = svcpath("TCP 10.96.0.1:443", "--rules-file", PASTE)
    assert "Unknown:  sessionAffinity: not in the input" in out


def test_an_ln_listing_still_says_none_and_clientip(tmp_path: Path) -> None:
    listing = ("IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n"
               "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
               "TCP  10.96.0.1:443 rr\n  -> 172.38.40.212:6443            Masq    1      0          0\n"
               "TCP  10.96.0.20:80 rr persistent 10800\n  -> 10.244.5.86:80                Masq    1      0          0\n")
    code, out, err = svcpath_on(tmp_path, listing, "--all", "-o", "json")
    assert code == 0, err
    assert sorted(i["service"]["sessionAffinity"] for i in json.loads(out)["items"]) == ["ClientIP", "None"]


def test_connection_entries_beside_the_stats_listing_are_set_aside() -> None:
    # the same node's `ipvsadm --list -nc` as a second file refused the whole run (exit 8), its hint asking for the
    # -Ln output the first file held
    code, out, err = svcpath("--rules-file", PASTE, "--rules-file", CONNECTIONS, "--all")
    assert code == 0, err
    assert "? (TCP 10.96.0.1:443)" in out and "? (TCP 172.38.40.216:30080)" in out
    assert (f"{CONNECTIONS}: `ipvsadm -Lnc` connection entries only (the connections open now), not read: each real "
            "server's ActiveConn/InActConn (ipvsadm -Ln) counts them") in out
    code, out, err = svcpath("--rules-file", CONNECTIONS, "--rules-file", CONNECTIONS, "--all")
    assert code == 8 and "`ipvsadm -Lnc` connection entries only" in err  # nothing else to read: refused as alone
