"""Map element lines and chain blocks as a grep of kube-proxy's nftables listing leaves them (tests/corpus/
test_paste_forms.py greps a real listing): the last element of a map ends with the "}" closing its elements; a
chain block of table ip6 kube-proxy pasted alone; an endpoint chain named after an IPv6 address with few groups."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kubectl_svcpath.kubeproxy import nft_endpoint_base, nft_service_chains
from tests.conftest import svcpath_on

CORPUS = Path(__file__).resolve().parents[4] / "tests" / "corpus"
K8S132_NFT = CORPUS / "k8s132-notes-nft-a-list-table-kube-proxy-elided.txt"


def test_a_maps_last_element_line_closes_its_elements(tmp_path: Path) -> None:
    """`… | grep metrics`: '10.255.0.10 . tcp . 9153 : goto service-…/metrics }', the map's last element. The braces
    put around it did not count the one it closes: refused, "unexpected '}': not nft list output"."""
    text = subprocess.run(["grep", "metrics", str(K8S132_NFT)], capture_output=True, text=True, check=True).stdout
    assert text.rstrip().endswith("/metrics }")
    code, out, err = svcpath_on(tmp_path, text, "--all")
    assert code == 0, err
    assert out.splitlines()[1].split()[:4] == ["kube-system", "kube-dns", "?", "10.255.0.10"]


def test_an_ip6_chain_block_alone_is_table_ip6_kube_proxy(tmp_path: Path) -> None:
    """An IPv6 Service's element line (read into table ip6 kube-proxy) and its service chain's block (its rules match
    'ip6 daddr'): the block was read into table ip kube-proxy, so the port's service chain was 'not in the input'. And
    its endpoints, named 'fd00..5' and '2001.db8..7' (kube-proxy writes an IPv6 address's ':' as '.'), were read
    back as IPv6 only with more than three dots: '2001.db8..7' was an endpoint of its own, '[2001.db8..7]:80'."""
    svc = nft_service_chains("ns1", "svc1", "TCP", "p80")["svc"]
    eps = [f"endpoint-{nft_endpoint_base('ns1', 'svc1', 'TCP', 'p80', ip, 80)}" for ip in ("fd00::5", "2001:db8::7")]
    assert eps[1].endswith("__2001.db8..7/80")
    text = (f"\t\telements = {{ fd00:96::10 . tcp . 80 : goto {svc} }}\n"
            f"\tchain {svc} {{\n"
            f"\t\tip6 daddr fd00:96::10 tcp dport 80 ip6 saddr != fd00:10::/64 jump mark-for-masquerade\n"
            f"\t\tnumgen random mod 2 vmap {{ 0 : goto {eps[0]}, 1 : goto {eps[1]} }}\n"
            "\t}\n")
    code, out, err = svcpath_on(tmp_path, text, "ns1/svc1", "--explain")
    assert code == 0, err
    assert f"{svc} read as table ip6 kube-proxy" in out
    # (the endpoint chains' names are in the report: their DNAT rules are not in the input)
    assert "[fd00::5]:80" in out and "[2001:db8::7]:80" in out and "[2001.db8..7]:80" not in out
    assert f"nft list chain ip6 kube-proxy '{eps[0]}'" in out


def test_a_grep_for_a_cluster_ip_keeps_a_line_of_cluster_ips(tmp_path: Path) -> None:
    """`… | grep 10.255.0.10`: its first line is cluster-ips' 'elements = { 10.255.0.1, 10.255.0.10,' (addresses alone,
    no verdict), then service-ips' three elements for kube-dns. The paste was 'not a rule dump this tool can read'."""
    text = subprocess.run(["grep", "10.255.0.10", str(K8S132_NFT)], capture_output=True, text=True, check=True).stdout
    assert text.splitlines()[0].strip() == "elements = { 10.255.0.1, 10.255.0.10,"
    code, out, err = svcpath_on(tmp_path, text, "kube-system/kube-dns")
    assert code == 0, err
    assert "Service:  kube-system/kube-dns  type ?  cluster IP 10.255.0.10" in out
    assert ("set element lines without their set (line 1: addresses alone, as a grep keeps them from cluster-ips or "
            "nodeport-ips) left out: which set they are in is not in the input") in out
