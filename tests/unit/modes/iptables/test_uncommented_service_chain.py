"""A service chain no comment names (iptables-nft's tables as `nft list ruleset` prints them, a k3s node's):
its cluster IP and port are in its masquerade rule, and it can be asked for as --all lists it."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import svcpath_on

# projectcalico/calico#8025 (bchappat, a k3s node with flannel): chain blocks of the `nft list ruleset` pasted in a
# comment, as the issues search index holds that window (the CNI-DN chain's two 127.0.0.1 rules left out)
_NFT_CHAINS = """\tchain CNI-DN-52884ef77991f54199eaa {
\t\tip saddr 10.42.0.13 tcp dport 80 counter packets 0 bytes 0 jump CNI-HOSTPORT-SETMARK
\t\ttcp dport 80 counter packets 0 bytes 0 dnat to 10.42.0.13:80
\t}

\tchain KUBE-SVC-JOQCPDX2ATLAF3TL {
\t\tmeta l4proto tcp ip saddr != 10.42.0.0/16 ip daddr 10.43.23.129  tcp dport 443 counter packets 0 bytes 0 jump KUBE-MARK-MASQ
\t\t counter packets 0 bytes 0 jump KUBE-SEP-CVFYIOPWUU23HGF5
\t}

\tchain KUBE-SEP-CVFYIOPWUU23HGF5 {
\t\tip saddr 10.42.0.10  counter packets 0 bytes 0 jump KUBE-MARK-MASQ
\t\tmeta l4proto tcp   counter packets 0 bytes 0 dnat to 10.42.0.10:10250
\t}
"""


def test_the_cluster_ip_of_an_uncommented_service_chain_is_its_masquerade_rules(tmp_path: Path) -> None:
    code, out, err = svcpath_on(tmp_path, _NFT_CHAINS, "--all")
    assert code == 0, err
    row = next(line for line in out.splitlines() if "KUBE-SVC-JOQCPDX2ATLAF3TL" in line)
    assert row.split()[4:7] == ["10.43.23.129", "443", "1"], row  # was "?  ?  1"


def test_it_is_asked_for_as_all_lists_it_and_the_hint_names_it_so(tmp_path: Path) -> None:
    code, out, err = svcpath_on(tmp_path, _NFT_CHAINS, "KUBE-SVC-JOQCPDX2ATLAF3TL")  # was: exit 4, not found
    assert code == 0, err
    assert "cluster IP 10.43.23.129" in out and "10.42.0.10:10250" in out
    assert "kubectl get svc -A -o wide | grep -w 10.43.23.129 names it" in out
    code, out, err = svcpath_on(tmp_path, _NFT_CHAINS, "10.43.23.129")
    assert code == 0 and "KUBE-SVC-JOQCPDX2ATLAF3TL" in out
    code, out, err = svcpath_on(tmp_path, _NFT_CHAINS, "web")
    assert code == 4
    assert "it shows 1 Service: KUBE-SVC-JOQCPDX2ATLAF3TL;" in err and "/#" not in err  # was "/#JOQCPDX2ATLAF3TL"


def test_an_external_ip_masquerade_rule_is_not_taken_for_the_cluster_ip(tmp_path: Path) -> None:
    # 1.21-1.23 put an external IP's masquerade rule in the service chain too, without "! -s": no cluster IP from it
    save = ("-A KUBE-SVC-JOQCPDX2ATLAF3TL -d 203.0.113.7/32 -p tcp -m tcp --dport 443 -j KUBE-MARK-MASQ\n"
            "-A KUBE-SVC-JOQCPDX2ATLAF3TL -j KUBE-SEP-CVFYIOPWUU23HGF5\n"
            "-A KUBE-SEP-CVFYIOPWUU23HGF5 -p tcp -m tcp -j DNAT --to-destination 10.42.0.10:10250\n")
    code, out, err = svcpath_on(tmp_path, save, "--all")
    assert code == 0, err
    assert "203.0.113.7" not in out
