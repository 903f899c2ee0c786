"""`ipvsadm -L -n --rate` alone, kept from `watch`'s screen (tigera-cs/Calico-Foundation, tests/corpus/tigera-aws-calico-
watch-ipvsadm-l-n-rate.txt): rates per second, no counters, no scheduler or weights. A report said "each hop's traffic
is not known" beside a listing that shows 1 conn/s and 6 packets/s to service-nginx, and showed no rate; it now gives
the rates of the Service's virtual servers and says that no total is known."""

from __future__ import annotations

import json

from pathlib import Path

from tests.conftest import ROOT, svcpath, svcpath_on

PASTE = str(ROOT / "tests/corpus/tigera-aws-calico-watch-ipvsadm-l-n-rate.txt")


def test_the_rates_of_the_service_are_said_and_no_total() -> None:
    code, out, err = svcpath("TCP 10.49.120.28:80", "--rules-file", PASTE)
    assert code == 0, err
    assert "each hop's traffic is not known" not in out
    assert "no hop's totals are known, only the --rate listing's rates per second" in out
    assert (f"ipvsadm --rate ({PASTE} line 27), rates per second (the kernel's running estimate, not counters): "
            "TCP 10.49.120.28:80 1 conn/s, 6 pkt/s in, 4 out, 399 B/s in, 995 out; "
            "-> 10.48.0.18:80 0 conn/s, 2 pkt/s in, 1 out, 133 B/s in, 332 out;") in " ".join(out.split())
    assert "-> 10.48.0.202:80 0 conn/s, 2 pkt/s in, 1 out, 133 B/s in, 332 out" in " ".join(out.split())
    # rates are no counters: the path's packets stay unknown
    code, out, err = svcpath("TCP 10.49.120.28:80", "--rules-file", PASTE, "-o", "json")
    report = json.loads(out)
    (path,) = report["ports"][0]["paths"]
    assert path["packets"] is None and all(e["packets"] is None for e in path["endpoints"])
    assert any(n.startswith("ipvsadm --rate (") for n in report["notes"])


def test_a_node_port_gives_the_rates_of_each_address() -> None:
    code, out, err = svcpath("TCP 10.0.1.30:30180", "--rules-file", PASTE)
    assert code == 0, err
    flat = " ".join(out.split())
    for vs in ("TCP 10.0.1.30:30180", "TCP 127.0.0.1:30180", "TCP 172.17.0.1:30180"):
        assert f"not counters): {vs} 0 conn/s" in flat


def test_a_stats_listing_keeps_its_words(tmp_path: Path) -> None:
    # no --rate in the input: the note is the one it was
    stats = ("IP Virtual Server version 1.2.1 (size=4096)\n"
             "Prot LocalAddress:Port Scheduler Flags\n"
             "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
             "TCP  10.96.0.10:53 rr\n"
             "  -> 10.244.0.2:53                Masq    1      0          0\n")
    code, out, err = svcpath_on(tmp_path, stats, "TCP 10.96.0.10:53")
    assert code == 0, err
    assert "no ipvsadm --stats listing: each hop's traffic is not known" in out
    assert "ipvsadm --rate" not in out


def test_a_node_port_gives_the_rates_of_its_own_virtual_servers_only(tmp_path: Path) -> None:
    # another Service's cluster IP whose port is the node port's number (other real servers): not this node port's
    rates = ("IP Virtual Server version 1.2.1 (size=4096)\n"
             "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n"
             "  -> RemoteAddress:Port\n"
             "TCP  10.0.1.30:30180                    1        2        3        4        5\n"
             "  -> 10.48.0.14:80                       1        2        3        4        5\n"
             "TCP  10.49.7.7:30180                    9        9        9        9        9\n"
             "  -> 10.48.0.99:8080                     9        9        9        9        9\n"
             "TCP  127.0.0.1:30180                     0        0        0        0        0\n"
             "  -> 10.48.0.14:80                       0        0        0        0        0\n")
    code, out, err = svcpath_on(tmp_path, rates, "TCP 10.0.1.30:30180")
    assert code == 0, err
    flat = " ".join(out.split())
    for vs in ("TCP 10.0.1.30:30180 1 conn/s", "TCP 127.0.0.1:30180 0 conn/s"):
        assert f"not counters): {vs}" in flat
    assert "10.49.7.7" not in flat  # (read from the paths the correlator found: the node port's own virtual servers)
