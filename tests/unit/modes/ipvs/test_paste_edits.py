"""What authors do to an ipvsadm listing before they paste it, as real posts show: hide public addresses
("<ipv4-public-prefix>.20:3129"), cut another command's output above it ("ip a" then "..."), cut a real server's
line after its address. Each is read for what it shows, and says what the edit costs."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import svcpath, svcpath_on

# kube-vip/kube-vip#781 (RomLecat, 2024-03-09, kube-proxy in IPVS mode): the head of the comment's
# `ipvsadm -Ln`, public addresses replaced by the author (as the issues search index holds it)
_HIDDEN_V4 = """root@k8s-master-1:~# ipvsadm -Ln
IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  <ipv4-public-prefix>.20:3129 rr
  -> 10.8.19.203:3129             Masq    1      0          0
TCP  <ipv4-public-prefix>.23:80 rr
  -> 10.8.3.90:80                 Masq    1      0          0
  -> 10.8.19.253:80               Masq    1      0          0
TCP  10.8.9.0:30151 rr
  -> 10.8.3.90:443                Masq    1      0          0
  -> 10.8.19.253:443              Masq    1      0          0
"""

# kube-vip/kube-vip#784 (RomLecat, 2024): lines of the same cluster's IPv6 listing, prefixes hidden
_HIDDEN_V6 = """TCP  [<ipv6-public-prefix-1>:811::cafe:3]:443 rr
  -> [<ipv6-public-prefix-1>:700::66d:75b7]:443 Masq    1      0          0
  -> [<ipv6-public-prefix-1>:700::44c3:c4f1]:443 Masq    1      0          0
TCP  [fd00:10:96::a]:53 rr
  -> [<ipv6-public-prefix-1>:700::9c31:c102]:53 Masq    1      0          0
"""

# a Chinese kubeadm walk (search index id 11983616207; its repository is not exposed): CentOS prompts without a
# space before the command, `ip a` cut with "..." above the listing (trailing blanks of its lines dropped here)
_IP_A_CUT = """#每个节点都生成kube-ipvs0的虚拟网卡
[root@master1 yaml]#ip a
...
9: kube-ipvs0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN group default
    link/ether 02:01:44:76:7b:65 brd ff:ff:ff:ff:ff:ff
    inet 10.96.0.1/32 scope global kube-ipvs0
       valid_lft forever preferred_lft forever
    inet 10.96.0.10/32 scope global kube-ipvs0
       valid_lft forever preferred_lft forever

[root@master1 yaml]#ipvsadm -Ln
IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.96.0.1:443 rr
  -> 10.0.0.100:6443              Masq    1      0          0
TCP  10.96.0.10:53 rr
  -> 10.244.0.16:53               Masq    1      0          0
  -> 10.244.0.17:53               Masq    1      0          0
"""


def test_hidden_virtual_server_addresses_are_left_out_not_called_host_names(tmp_path: Path) -> None:
    # was: exit 8, "virtual server '<ipv4-public-prefix>.20:3129' is printed by a host name (ipvsadm -l without -n)",
    # hint "ipvsadm -Ln" - of a listing made with -Ln
    code, out, err = svcpath_on(tmp_path, _HIDDEN_V4, "--all")
    assert code == 0, err
    assert "? (TCP 10.8.9.0:30151)" in out and "host name" not in out + err
    assert ("virtual servers '<ipv4-public-prefix>.20:3129' (line 5) and '<ipv4-public-prefix>.23:80' (line 7): the address "
            "is hidden in the paste, so they and their real servers are left out and the table is read as a part: nothing "
            "is said to be absent") in out
    assert "Services it does not show may exist" in out


def test_hidden_ipv6_real_server_is_read_without_its_address(tmp_path: Path) -> None:
    code, out, err = svcpath_on(tmp_path, _HIDDEN_V6, "fd00:10:96::a")
    assert code == 0, err
    assert "?:53 w1" in out and "100%" in out
    assert "real server '[<ipv6-public-prefix-1>:700::9c31:c102]:53' (line 5): the address is hidden in the paste" in out
    assert "not ipvsadm output" not in out  # (lines 1-3, the hidden virtual server's, were "not ipvsadm output")
    assert "virtual server '[<ipv6-public-prefix-1>:811::cafe:3]:443' (line 1)" in out


def test_a_cut_in_another_commands_output_does_not_make_the_listing_a_part(tmp_path: Path) -> None:
    # was: "paste.txt is an excerpt (cut at line 3)" and "the input is a part of the rules": the "..." is the `ip a`
    # output's, and "[root@master1 yaml]#ip a" was no prompt (line 3 not left out with that output)
    code, out, err = svcpath_on(tmp_path, _IP_A_CUT, "--all")
    assert code == 0, err
    assert "not rule output, left out: lines 3-9 (`ip a` output)" in out
    assert "excerpt" not in out and "a part of the rules" not in out


def test_a_real_server_line_cut_after_its_address_is_read_and_leaves_every_share_unknown() -> None:
    """kubernetes#68437's listing (tests/corpus): '  -> [fd00:3000:2::2]:5001  ' then the author's '...'. It was
    refused (exit 8); read, the other real server of that virtual server must not get 100% of the traffic."""
    paste = str(Path(__file__).parents[3] / "corpus/k8s-68437-ipvsadm-ipv6-only-nodeport-ipv4-cut-real-server.txt")
    code, out, err = svcpath("--rules-file", paste, "fd00:4000::c698")
    assert code == 0, err
    assert "line 15: the real server line ends after its address: its weight and connections are not in the input" in out
    row = next(line for line in out.splitlines() if "[fd00:3000:1::2]:5001 w1" in line)
    assert "100%" not in row and "  -  " in row
    code, out, err = svcpath("--rules-file", paste, "fd00:4000::c698", "--trace", "fd00:3000:9::5")
    assert code == 0, err
    assert "Verdict:  delivered to [fd00:3000:1::2]:5001, [fd00:3000:2::2]:5001" in out and "100%" not in out
    assert "real server [fd00:3000:2::2]:5001 weight ? (not in the input)" in out and "weight None" not in out


def test_connection_entries_alone_are_refused_naming_them(tmp_path: Path) -> None:
    # a real `sudo ipvsadm -Ln -c` in IBM Cloud's notes (index id 35412160111): was "not a rule dump this tool can read"
    lnc = ("sudo ipvsadm -Ln -c\nIPVS connection entries\npro expire state       source             virtual            destination\n"
           "TCP 00:07  CLOSE       169.48.169.137:50176 169.46.7.238:28372 169.48.180.191:28372\n"
           "TCP 14:59  ESTABLISHED 169.60.24.86:52470 169.46.7.238:27234 169.48.180.244:27234\n")
    code, out, err = svcpath_on(tmp_path, lnc, "--all")
    assert code == 8 and not out
    assert "`ipvsadm -Lnc` connection entries only: they are the connections open now, not the virtual server table" in err
    assert "hint: pass `ipvsadm -Ln` output from the node" in err


def test_a_stats_listing_alone_gives_no_share_to_a_trace(tmp_path: Path) -> None:
    # ipvsadm -Ln --stats prints no weights: the trace said 50% each (the report's table already said '-')
    stats = ("$ sudo ipvsadm -Ln --stats\nIP Virtual Server version 1.2.1 (size=4096)\n"
             "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port\n"
             "TCP  10.96.0.10:53                      3       40       30     4000    50000\n"
             "  -> 10.244.0.2:53                      3       40       30     4000    50000\n"
             "  -> 10.244.0.3:53                      0        0        0        0        0\n$ \n")
    code, out, err = svcpath_on(tmp_path, stats, "10.96.0.10", "--trace", "10.244.0.9")
    assert code == 0, err
    assert "50%" not in out and "real server 10.244.0.3:53 weight ? (not in the input)" in out
    assert "IPVS TCP 10.96.0.10:53: real server weights not in the input (ipvsadm -Ln prints them)" in out


def test_a_bare_command_opening_a_code_block_owns_its_output_and_its_cut(tmp_path: Path) -> None:
    # otus-kuber-2019-12/DoublleW_platform (tests/corpus): the listing's ``` block, a line of prose, then a block
    # opening with `ip addr show kube-ipvs0` typed without a prompt, its output cut with '...'. The '...' was taken
    # for a cut of the rules ('is an excerpt (cut at line 16)') and the fence for a command ('(````` output)')
    paste = str(Path(__file__).parents[3] / "corpus/doublew-minikube-ipvs-md-ipvsadm-excerpt-ip-addr.txt")
    code, out, err = svcpath("TCP 10.96.13.17:80", "--rules-file", paste)
    assert code == 0, err
    assert "not rule output, left out: lines 14-18 (`ip addr show kube-ipvs0` output)" in out
    assert "cut at line" not in out and "```" not in out


def test_a_markdown_fence_is_no_command(tmp_path: Path) -> None:
    # the cleaner sets a fence aside as '# ```', which the reader took for root's prompt and a command: '(````` output)'
    paste = ("Here it is:\n```\n[root@minikube ~]# ipvsadm --list -n\nTCP  10.96.13.17:80 rr\n"
             "  -> 172.17.0.4:8000              Masq    1      0          0\n```\nAnd the rest\n```\nfoo bar baz\nqux quux\n```\n")
    code, out, err = svcpath_on(tmp_path, paste, "--all")
    assert code == 0, err
    assert "not ipvsadm output, left out: lines 9-10\n" in out


_DW = Path(__file__).parents[3] / "corpus"


def test_kube_ipvs0_addresses_say_a_virtual_server_is_no_node_address() -> None:
    # an address `ip addr` lists on kube-ipvs0 is one kube-proxy bound for a Service: it was 'may be a cluster IP,
    # an external or load-balancer IP or a node address'; a file of `ip addr` output beside the listing refused the run
    listing, ip_addr = str(_DW / "doublew-minikube-ipvsadm-list-n-block.txt"), str(_DW / "doublew-minikube-ip-addr-kube-ipvs0-block.txt")
    code, out, err = svcpath("TCP 10.96.13.17:80", "--rules-file", listing, "--rules-file", ip_addr)
    assert code == 0, err
    assert (f"IPVS names no Service: TCP 10.96.13.17:80's address is on kube-ipvs0 ({ip_addr} line 5), where kube-proxy "
            "binds Service addresses: a cluster, external or load-balancer IP, not a node address") in out
    assert f"{ip_addr}: `ip addr` output, no rules: read for the addresses kube-proxy bound to kube-ipvs0" in out
    assert "not rule output, left out" not in out
    code, out, err = svcpath("TCP 10.96.13.17:80", "--rules-file", str(_DW / "doublew-minikube-ipvs-md-ipvsadm-excerpt-ip-addr.txt"))
    assert code == 0, err
    assert "'s address is on kube-ipvs0 (" in out and "line 17), where kube-proxy binds Service addresses" in out


def test_ip_addr_output_alone_says_what_it_is() -> None:
    ip_addr = str(_DW / "doublew-minikube-ip-addr-kube-ipvs0-block.txt")
    code, out, err = svcpath("--rules-file", ip_addr, "--all")
    assert code == 8 and not out
    assert f"{ip_addr}: `ip addr` output only: the addresses on kube-ipvs0, not the rules" in err
    assert "hint: pass it beside `ipvsadm -Ln` output from the node" in err
