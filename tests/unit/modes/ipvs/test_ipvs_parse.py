"""ipvsadm listings -> IpvsTable: -Ln, --stats [--exact], --rate, -Sn, several merged.

Inputs: the upstream README listing (shared/dumps) and tests/fixtures/ipvs (rendered with
ipvsadm.c's printf formats: this lab kernel has no IPVS, see tests/fixtures/ipvs/README.md).
"""

from __future__ import annotations


import pytest

from kubectl_svcpath.errors import BadDump
from kubectl_svcpath.modes.ipvs.detect import looks_like_ipvsadm
from kubectl_svcpath.modes.ipvs.parse import parse_ipvsadm
from kubectl_svcpath.modes.nftables.detect import looks_like_nft_text
from tests.conftest import DUMPS, ROOT, require_shared

FIX = ROOT / "tests/fixtures/ipvs"


def _read(name: str) -> str:
    return (FIX / name).read_text()


def test_upstream_readme_listing():
    require_shared()
    name = "upstream-ipvs-readme-ipvsadm-ln.txt"
    table = parse_ipvsadm((DUMPS / name).read_text(), name)
    assert table.dumps[0].version == "1.2.1" and table.dumps[0].forms == ["list"]
    assert sorted(table.virtual_servers) == [("TCP", "10.0.0.1", 443), ("TCP", "10.0.0.10", 53), ("UDP", "10.0.0.10", 53)]
    api = table.lookup("tcp", "10.0.0.1", 443)
    assert (api.scheduler, api.persistent, api.label, api.line_no) == ("rr", 10800, "TCP 10.0.0.1:443", 4)
    (rs,) = api.real_servers
    assert (rs.address, rs.port, rs.forward, rs.weight, rs.active_conns, rs.inactive_conns) == ("192.168.0.1", 6443, "Masq", 1, 1, 0)
    assert rs.ref == f"{name}:5"
    assert table.lookup("UDP", "10.0.0.10", 53).persistent is None
    assert not table.has_stats and table.has_weights


def test_stats_exact_and_rounded():
    exact = parse_ipvsadm(_read("dns-ipvsadm-Ln-stats-exact.txt"), "exact")
    rounded = parse_ipvsadm(_read("dns-ipvsadm-Ln-stats.txt"), "rounded")
    udp_e, udp_r = exact.lookup("UDP", "10.96.0.10", 53), rounded.lookup("UDP", "10.96.0.10", 53)
    assert (udp_e.stats.conns, udp_e.stats.inbytes, udp_e.stats.outbytes) == (734211, 123456789012, 234567890123)
    assert udp_e.stats.exact and exact.dumps[0].exact
    assert (udp_r.stats.inbytes, udp_r.stats.outbytes, udp_r.stats.exact) == (123_000_000_000, 234_000_000_000, False)
    assert not rounded.dumps[0].exact
    rs = {r.address: r for r in udp_r.real_servers}
    assert (rs["10.244.1.5"].stats.inbytes, rs["10.244.2.9"].stats.outbytes) == (86_148_000_000, 70_882_000_000)
    assert rs["10.244.1.5"].weight is None  # --stats carries no weights


def test_list_stats_rate_and_rules_merge_into_one_table():
    parts = ["hello-ipvsadm-Ln.txt", "hello-ipvsadm-Ln-stats-exact.txt", "hello-ipvsadm-Ln-rate.txt"]
    combined = parse_ipvsadm("".join(_read(p) for p in parts), "all.txt")  # pasted into one file
    table = parse_ipvsadm(_read(parts[0]), parts[0])
    for p in parts[1:]:
        table.merge(parse_ipvsadm(_read(p), p))
    for t in (combined, table):
        vs = t.lookup("TCP", "10.101.173.15", 39090)
        (rs,) = vs.real_servers
        assert (vs.scheduler, vs.stats.conns, vs.stats.inpkts, vs.rate.inbps) == ("rr", 2, 12, 62)
        assert (rs.weight, rs.forward, rs.stats.outbytes, rs.rate.outpps) == (1, "Masq", 1240, 1)
        assert rs.line_no and "Masq" in rs.raw  # evidence points at the -Ln line, which has the weight
        assert len(t.on_port("tcp", 31576)) == 1
    assert combined.dumps[0].forms == ["list", "stats", "rate"]
    rules = parse_ipvsadm(_read("hello-ipvsadm-Sn.txt"), "Sn")
    assert rules.dumps[0].forms == ["rules"]
    vs = rules.lookup("TCP", "172.18.0.2", 30725)
    assert (vs.scheduler, [(r.address, r.port, r.weight, r.forward) for r in vs.real_servers]) == (
        "rr", [("192.168.189.15", 9090, 1, "Masq")])


def test_ipv6_firewall_mark_and_flags():
    text = "\n".join([
        "IP Virtual Server version 1.2.1 (size=4096)",
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
        "TCP  [fd00:10:96::a]:53 rr persistent 300 mask 128",
        "  -> [fd00:10:244:1::5]:53        Masq    1      0          0",
        "FWM  7 wrr",
        "  -> 10.0.0.7:80                  Route   3      0          0",
        "SCTP  10.0.0.9:3868 sh ops",
        "",
    ])
    t = parse_ipvsadm(text, "x")
    v6 = t.lookup("TCP", "fd00:10:96:0::a", 53)
    assert (v6.persistent, v6.netmask, v6.label) == (300, "128", "TCP [fd00:10:96::a]:53")
    assert v6.real_servers[0].address == "fd00:10:244:1::5"
    fwm = t.virtual_servers[("FWM", "", 7)]
    assert (fwm.fwmark, fwm.scheduler, fwm.real_servers[0].forward) == (7, "wrr", "Route")
    assert t.lookup("SCTP", "10.0.0.9", 3868).flags == ["ops"]


@pytest.mark.parametrize("text,reason,line", [
    ("IP Virtual Server version 1.2.1 (size=4096)\n  -> 10.0.0.1:80  Masq 1 0 0\n", "before any virtual server", 2),
    ("Prot LocalAddress:Port Scheduler Flags\nTCP  kubernetes.default:https rr\n", "printed by a host name", 2),
    ("Prot LocalAddress:Port Scheduler Flags\nTCP  10.96.0.1:nosuchsvc rr\n", "service name ('nosuchsvc')", 2),
    ("Prot LocalAddress:Port Scheduler Flags\nTCP  10.0.0.1:443 rr\n  -> 10.0.0.2:6443 Masq one 0 0\n", "not a number", 3),
    ("Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\nTCP  10.0.0.1:443  1 2 3\n", "expected 5 counters", 2),
    ("Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\nTCP  10.0.0.1:443  1 2 3 4 5x\n", "not a counter", 2),
    ("IP Virtual Server version 1.2.1 (size=4096)\nhello\n", "not an ipvsadm line", 2),
])
def test_bad_ipvsadm(text, reason, line):
    with pytest.raises(BadDump) as e:
        parse_ipvsadm(text, "ipvs.txt")
    assert reason in e.value.reason and e.value.line_no == line


def test_detection():
    for name in ("hello-ipvsadm-Ln.txt", "hello-ipvsadm-Ln-stats-exact.txt", "hello-ipvsadm-Sn.txt", "dns-ipvsadm-Ln-stats.txt"):
        assert looks_like_ipvsadm(_read(name)) and not looks_like_nft_text(_read(name))
    assert not looks_like_ipvsadm(_read("hello-iptables-save.txt"))
    assert not looks_like_ipvsadm("-A KUBE-SERVICES -j KUBE-NODEPORTS\n")
    assert looks_like_ipvsadm("Prot LocalAddress:Port Scheduler Flags\n")  # an empty table is still a listing
    assert parse_ipvsadm("Prot LocalAddress:Port Scheduler Flags\n", "empty").virtual_servers == {}


_LISTING = """IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.96.0.1:443 rr
  -> 172.18.0.2:6443              Masq    1      0          0
"""


def test_other_commands_output_is_left_out_with_a_note():
    text = "# kubectl describe svc web\nName:\t\tweb\nIP:\t\t10.96.0.1\n\n# ip addr\n7: kube-ipvs0: <BROADCAST,NOARP>\n\n# ipvsadm -ln\n" + _LISTING
    assert looks_like_ipvsadm(text)
    t = parse_ipvsadm(text, "mixed.txt")
    assert t.lookup("TCP", "10.96.0.1", 443).real_servers[0].address == "172.18.0.2"
    (note,) = t.dumps[0].notices
    assert note == ("mixed.txt: not ipvsadm output, left out: lines 2-3 (`kubectl describe svc web` output), "
                    "line 6 (`ip addr` output)")
    assert not t.excerpt  # the listing itself is whole
    # lines before a listing's first line (sudo's password prompt) are not part of it either
    t = parse_ipvsadm("sudo ipvsadm -L -n\n[sudo] password for d:\n" + _LISTING, "sudo.txt")
    assert t.dumps[0].notices == ["sudo.txt: not ipvsadm output, left out: line 2 (`sudo ipvsadm -L -n` output)"]
    # inside a listing a stranger line stops the read, unless --lenient
    with pytest.raises(BadDump) as e:
        parse_ipvsadm(_LISTING + "hello\n", "x")
    assert e.value.line_no == 6 and "--lenient" in (e.value.hint or "")
    assert "x: --lenient left out 1 line that is not ipvsadm's (line 6)" in parse_ipvsadm(_LISTING + "hello\n", "x", lenient=True).dumps[0].notices[0]
    notes = parse_ipvsadm(_LISTING + "hello\nworld\n", "x", lenient=True).dumps[0].notices
    assert "x: --lenient left out 2 lines that are not ipvsadm's (lines 6, 7)" in notes, notes


def test_header_less_lines_are_an_excerpt():
    text = "TCP  10.102.128.4:3080 rr\n  -> 10.244.0.235:8080            Masq    1      0          0\n  -> 10.244.1.237:8080            Masq    1      0\n"
    assert looks_like_ipvsadm(text)
    t = parse_ipvsadm(text, "cut.txt")
    vs = t.lookup("TCP", "10.102.128.4", 3080)
    assert vs.scheduler == "rr" and [(r.weight, r.active_conns, r.inactive_conns) for r in vs.real_servers] == [(1, 0, 0), (1, 0, None)]
    assert t.excerpt
    assert any("line 3: the real server line ends before its InActConn column" in n for n in t.dumps[0].notices)
    # numbers without their column heads: --stats and --rate look alike, so the reader says so
    with pytest.raises(BadDump) as e:
        parse_ipvsadm("TCP  10.0.0.1:443   3 20 15 1200 3000\n", "n.txt")
    assert "column heads" in e.value.reason


def test_several_nodes_in_one_paste():
    same = "".join(f">>> 172.27.138.{n}\n{_LISTING}" for n in (251, 239))
    t = parse_ipvsadm(same, "nodes.txt")
    assert t.dumps[0].nodes == ["172.27.138.251", "172.27.138.239"]
    assert "2 nodes' listings (node 172.27.138.251, node 172.27.138.239) with the same virtual servers" in t.dumps[0].notices[0]
    other = same + ">>> 172.27.137.229\n" + _LISTING.replace("172.18.0.2:6443", "172.18.0.3:6443")
    with pytest.raises(BadDump) as e:
        parse_ipvsadm(other, "nodes.txt")
    assert e.value.reason == ("3 nodes' IPVS tables in one paste, and they differ: TCP 10.96.0.1:443 -> 172.18.0.2:6443 "
                              "is on node 172.27.138.251, not on node 172.27.137.229")
    assert e.value.hint.startswith("split it where each node's listing starts (lines 1, 7, 13)")
    # prompts of two hosts, and a loop printing one listing after another without naming the node
    hosts = "[root@node1 ~]# ipvsadm -Ln\n" + _LISTING + "[root@node2 ~]# ipvsadm -Ln\n" + _LISTING.replace(" rr", " wrr")
    with pytest.raises(BadDump, match="rr on node node1, wrr on node node2"):
        parse_ipvsadm(hosts, "h.txt")
    loop = _LISTING + _LISTING + "UDP  10.96.0.10:53 rr\n"
    with pytest.raises(BadDump, match=r"2 ipvsadm listings of the same kind \(several nodes\?\) in one paste, and they differ: "
                                      "UDP 10.96.0.10:53 is on listing 2, not on listing 1"):
        parse_ipvsadm(loop, "loop.txt")
    # -Ln and --stats of one node pasted together are still one listing
    assert parse_ipvsadm(_read("hello-ipvsadm-Ln.txt") + _read("hello-ipvsadm-Ln-stats-exact.txt"), "two").has_stats


def test_a_service_an_ipvsadm_excerpt_does_not_hold_gets_the_ipvsadm_hint() -> None:
    """ericpuwang's post: a described nginx (10.102.128.4:3080) above a listing of another address. The
    Service is not found; the hint names the IPVS listing to pass (it said iptables-save -c)."""
    from tests.conftest import svcpath

    code, out, err = svcpath("nginx", "--rules-file", str(ROOT / "tests/corpus/ericpuwang-ipvs-describe-other-ip-persistent.txt"))
    assert code == 4 and not out
    assert "pass the whole table (ipvsadm -Ln --stats --exact)" in err and "iptables-save" not in err


def _servers(table) -> dict:
    return {key: (vs.scheduler, vs.persistent, vs.netmask, vs.fwmark,
                  sorted((rs.address, rs.port, rs.forward, rs.weight, rs.active_conns, rs.inactive_conns) for rs in vs.real_servers))
            for key, vs in table.virtual_servers.items()}


def test_proc_net_ip_vs_reads_as_the_same_table_as_ipvsadm():
    """`cat /proc/net/ip_vs` (what a kube-proxy image without ipvsadm shows): the kernel's hex, decoded."""
    text = _read("hello-proc-net-ip_vs.txt")
    assert looks_like_ipvsadm(text)
    proc = parse_ipvsadm(text, "proc")
    assert _servers(proc) == _servers(parse_ipvsadm(_read("hello-ipvsadm-Ln.txt"), "ipvsadm"))
    assert proc.lookup("TCP", "10.101.173.15", 39090).raw == "TCP  0A65AD0F:98B2 rr"  # (the evidence is the input's line)
    assert proc.dumps[0].forms == ["list", "procfs"] and not proc.has_stats
    assert any("/proc/net/ip_vs listing (addresses and ports in hex)" in n for n in proc.dumps[0].notices)


def test_proc_net_ip_vs_ipv6_firewall_mark_and_persistence():
    # the kernel's formats (ip_vs_info_seq_show): "%s  [%pI6]:%04X %s ", "FWM  %08X %s %s",
    # "persistent %d %08X", "  -> [%pI6]:%04X      %-7s %-6d %-10d %-10d"
    text = ("IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n"
            "TCP  0A600001:01BB rr  persistent 10800 FFFFFFFF\n"
            "  -> AC120002:192B      Masq    1      3          1         \n"
            "UDP  0A60000A:0035 rr  persistent 300 FFFFFF00\n"
            "  -> 0AF40002:0035      Masq    0      0          0         \n"
            "TCP  [fd00:0010:0096:0000:0000:0000:0000:0001]:01BB rr \n"
            "  -> [fd00:0010:0244:0000:0000:0000:0000:0005]:1F90      Masq    1      0          0         \n"
            "FWM  0000000A rr \n"
            "  -> 0AF40003:0050      Masq    1      0          0         \n")
    table = parse_ipvsadm(text, "proc")
    assert _servers(table) == {
        ("TCP", "10.96.0.1", 443): ("rr", 10800, None, None, [("172.18.0.2", 6443, "Masq", 1, 3, 1)]),
        ("UDP", "10.96.0.10", 53): ("rr", 300, "255.255.255.0", None, [("10.244.0.2", 53, "Masq", 0, 0, 0)]),
        ("TCP", "fd00:10:96::1", 443): ("rr", None, None, None, [("fd00:10:244::5", 8080, "Masq", 1, 0, 0)]),
        ("FWM", "", 10): ("rr", None, None, 10, [("10.244.0.3", 80, "Masq", 1, 0, 0)]),
    }
    assert all(not vs.flags for vs in table.virtual_servers.values())
