"""Pastes that are not the node's kube-proxy rules: Cilium's own Service table (`cilium-dbg service list`, `cilium bpf
lb list`), kube-proxy's log of the nftables input nft refused. Said so, and what to pass instead (exit 8, one error
line and its hint), not 'not a rule dump this tool can read'."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubectl_svcpath.errors import ExitCode
from tests.conftest import svcpath
from tests.unit.test_bad_input import assert_clean_failure

# cilium/cilium#44301's description (2026-02-11), its first lines as the issues index holds them
SERVICE_LIST = """\
\u276f kubectl -n kube-system exec -it cilium-rdcmj -- bash
root@kind-control-plane:/home/cilium# cilium-dbg service list
ID   Frontend                    Service Type   Backend
1    10.96.62.28:80/TCP          ClusterIP      1 => 10.244.1.149:4245/TCP (active)
2    10.96.0.10:53/TCP           ClusterIP      1 => 10.244.1.69:53/TCP (active)
                                                2 => 10.244.1.109:53/TCP (active)
5    10.96.0.1:443/TCP           ClusterIP      1 => 172.19.0.2:6443/TCP (active)
"""
# cilium/cilium#29055 (1.15: no ID column), under its prompt
SERVICE_LIST_NO_ID = """\
        root@838eb2c16285:/home/cilium# cilium service list
        Frontend          Service Type   Backend
        10.0.0.2:80:TCP   NodePort       1 => 172.29.0.3:80 (active)
"""
# cilium/cilium#31503's `cilium-dbg bpf lb list`
BPF_LB_LIST = """\
> cilium-dbg bpf lb list
SERVICE ADDRESS     BACKEND ADDRESS (REVNAT_ID) (SLOT)
10.96.0.1:443       172.18.0.3:6443 (1) (1)
                    0.0.0.0:0 (1) (0) [ClusterIP, non-routable]
"""


@pytest.mark.parametrize("paste,command", [
    (SERVICE_LIST, "cilium service list"), (SERVICE_LIST_NO_ID, "cilium service list"), (BPF_LB_LIST, "cilium bpf lb list"),
])
def test_a_cilium_listing_is_called_so(paste: str, command: str, tmp_path: Path) -> None:
    f = tmp_path / "svc.txt"
    f.write_text(paste)
    code, out, err = svcpath("--all", "--rules-file", str(f))
    assert_clean_failure(code, out, err, {ExitCode.BAD_DUMP})
    assert f"`{command}` output: Cilium's own load-balancing table (eBPF maps), not kube-proxy's rules" in err
    assert "where kube-proxy runs beside Cilium, pass its rules from the node: sudo iptables-save -c" in err
    assert "not a rule dump this tool can read" not in err


# siderolabs/pkgs#951 (2024-05-04): kube-proxy's log as Talos' dashboard shows it ('│' before each line)
TALOS_LOG = """\
\u2502     /dev/stdin:892:87-100: Error: Could not process rule: No such file or directory
\u2502     add rule ip kube-proxy external-3BXM2ZZ4-haproxy/external-kubernetes-ingress/tcp/http fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"<SP>
\u2502                                                                                           ^^^^^^^^^^^^^^<SP>
\u2502     /dev/stdin:893:87-100: Error: Could not process rule: No such file or directory<SP><SP>
""".replace("<SP>", " ")  # (the log's trailing blanks)
# kubernetes/kubernetes#134024 (2025-09-11): klog's multi-line err=< … >
KLOG = """\
E0911 16:35:49.547707       1 proxier.go:1851] "nftables sync failed" err=<
\t/dev/stdin:72:109-112: Error: Interface does not exist
\tadd rule ip kube-proxy service-2QRHZV4L-default/kubernetes/tcp/https ip daddr 10.0.0.1 tcp dport 443 iif != azv* jump mark-for-masquerade
\t                                                                                                            ^^^^
"""


@pytest.mark.parametrize("paste,line,said", [
    (TALOS_LOG, 892, "Could not process rule: No such file or directory"), (KLOG, 72, "Interface does not exist"),
])
def test_nfts_errors_for_kube_proxys_input_are_called_so(paste: str, line: int, said: str, tmp_path: Path) -> None:
    f = tmp_path / "log.txt"
    f.write_text(paste)
    code, out, err = svcpath("--all", "--rules-file", str(f))
    assert_clean_failure(code, out, err, {ExitCode.BAD_DUMP})
    assert f"nft's errors for the input kube-proxy gave it (its line {line}: '{said}'): the rules nft refused to add" in err
    assert "to see what the node holds, pass: sudo nft list table ip kube-proxy" in err


def test_nft_rule_lines_without_their_chain_are_called_so() -> None:
    """Notes of a k3s node (kept in tests/corpus): two rule lines of a service chain from `nft list ruleset`, no chain
    header, an endpoint name cut with '...': 'not a rule dump this tool can read', the hint naming nft list."""
    paste = Path(__file__).resolve().parents[2] / "corpus" / "tailscale-notes-k3s-cilium-nft-two-rule-lines-elided-endpoint.txt"
    code, out, err = svcpath("--all", "--rules-file", str(paste))
    assert_clean_failure(code, out, err, {ExitCode.BAD_DUMP})
    assert "nft rule lines of kube-proxy's without the chain block they are in (its 'chain … {' line)" in err
    assert "pass the chain with its header, e.g. sudo nft list chain ip kube-proxy service-…" in err
