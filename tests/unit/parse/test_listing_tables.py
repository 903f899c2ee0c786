"""`iptables -S` lists the filter table, `iptables -S -t nat` (or `-t nat -S CHAIN`) the nat table: kube-proxy declares
KUBE-SERVICES and KUBE-NODEPORTS in both, so a paste of both listings holds `-N KUBE-SERVICES` twice, and that is no
chain listed again at a later moment. Before, the filter table's listing was dropped as the earlier one (an EKS
node's notes, tests/corpus/anngdinh-*: 'chain KUBE-SERVICES is listed twice … several moments pasted together'), and
with it the filter table's REJECT of a Service without endpoints ('no filter table in the input'). The same notes'
`ip netns exec cni-… arp -n` (a pod's namespace) was no command whose output is left out: the paste was refused."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import svcpath, svcpath_on

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
EKS = str(CORPUS / "anngdinh-eks-aws-network-md-iptables-S-filter-nat-netns.txt")

TWO_TABLES = """\
$ sudo iptables -S KUBE-SERVICES
-N KUBE-SERVICES
-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns has no endpoints" -m udp --dport 53 -j REJECT --reject-with icmp-port-unreachable
$ sudo iptables -t nat -S KUBE-SERVICES
-N KUBE-SERVICES
-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y
"""


def test_a_chain_of_one_name_in_two_tables_is_listed_once_in_each(tmp_path: Path) -> None:
    code, out, err = svcpath_on(tmp_path, TWO_TABLES, "--all")
    assert code == 3, err  # (the REJECT: kube-dns has no endpoints, as the filter table says)
    rows = {r.split()[1]: r for r in out.splitlines()[1:3]}
    assert rows["kube-dns"].endswith("error: no-endpoints") and "kubernetes" in rows, out
    assert "listed twice" not in out and "no filter table" not in out, out


def test_an_eks_nodes_notes_are_read() -> None:
    code, out, err = svcpath("--all", "--rules-file", EKS)
    assert code == 0, err
    flat = " ".join(out.split())
    assert "listed twice" not in flat, out
    assert "(`arp -n` output)" in flat and "(`ip netns exec cni-b2df6e62-aa23-bb52-1b65-83e0198e3396 ip a` output)" in flat
    code, out, err = svcpath("kube-system/kube-dns", "--port", "dns", "--rules-file", EKS)
    assert code == 0 and "dns 53/UDP → 2 endpoints" in out, (err, out)
    # (they are `iptables -S` lines, with their -N and -P lines: not "bare -A lines" nor lines "without chain headers")
    assert "holds iptables -S lines (chains declared, no table headers)" in out, out
    assert "no table headers (iptables -S lines): tables were guessed" in out and "bare -A lines" not in out, out
