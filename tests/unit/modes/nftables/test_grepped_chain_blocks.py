"""kube-proxy's nftables chains as a grep of `nft list table ip kube-proxy` prints them (notes run
`nft list table ip kube-proxy | grep -A2 "chain service-.*httpd"`, `… | grep -A6 "$SVCIP"`: search index ids
61449618298, 63416584506), or one chain's block pasted alone: each chain's lines without its closing brace, no
table around them. The chain names are kube-proxy's own (kubeproxy.nft_service_chains) for default/nginx."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import svcpath_on

_GREP = """$ sudo nft list table ip kube-proxy | grep nginx
\t\t\t     10.96.146.231 . tcp . 80 : goto service-ECO34HEO-default/nginx/tcp/,
\tchain service-ECO34HEO-default/nginx/tcp/ {
\t\tip daddr 10.96.146.231 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade
\t\tnumgen random mod 2 vmap { 0 : goto endpoint-3MZMKJW3-default/nginx/tcp/__10.244.1.2/80, 1 : goto endpoint-ZUTRA3QS-default/nginx/tcp/__10.244.2.3/80 }
\tchain endpoint-3MZMKJW3-default/nginx/tcp/__10.244.1.2/80 {
\tchain endpoint-ZUTRA3QS-default/nginx/tcp/__10.244.2.3/80 {
"""

_ALONE = """\tchain service-ECO34HEO-default/nginx/tcp/ {
\t\tip daddr 10.96.146.231 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade
\t\tnumgen random mod 2 vmap { 0 : goto endpoint-3MZMKJW3-default/nginx/tcp/__10.244.1.2/80, 1 : goto endpoint-ZUTRA3QS-default/nginx/tcp/__10.244.2.3/80 }
\t}
"""


def test_grepped_chain_lines_without_closing_braces_are_read(tmp_path: Path) -> None:
    # was: exit 8, "chain service-ECO34HEO-default/nginx/tcp/ is not closed (truncated dump?)"
    code, out, err = svcpath_on(tmp_path, _GREP, "default/nginx")
    assert code == 0, err
    assert "cluster IP 10.96.146.231" in out and "10.244.1.2:80" in out and "10.244.2.3:80" in out
    assert ("end without a closing brace (lines picked by grep, or cut): the rules not shown are not in the input") in out
    code, out, err = svcpath_on(tmp_path, _GREP, "default/nginx", "--trace", "10.244.9.9")
    assert code == 0 and "Verdict:  unknown" in out  # nat-prerouting is not in the input: no guess


def test_a_service_chain_block_pasted_alone_is_kube_proxys_not_iptables_nft(tmp_path: Path) -> None:
    # was: exit 8, "nftables listing without kube-proxy's table (table ip kube-proxy) or iptables rules to follow":
    # the chain was put in table ip nat (its name is not all lower case)
    code, out, err = svcpath_on(tmp_path, _ALONE, "--all")
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.startswith("default "))
    assert row.split()[:5] == ["default", "nginx", "?", "10.96.146.231", "80"], row
    code, out, err = svcpath_on(tmp_path, _ALONE, "default/nginx")
    assert code == 0 and "service-ECO34HEO-default/nginx/tcp/" in out and "10.244.2.3:80" in out, out + err
    assert "read as table ip kube-proxy" in out
