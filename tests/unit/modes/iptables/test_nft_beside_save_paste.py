"""A k3s node's `nft list ruleset`, `iptables-save` and `ip6tables-save` pasted one after the other in one block
(ddanielgal/ytdl research.md, tests/corpus/ddanielgal-*), and its nft part alone, where nft cannot decode
iptables-nft's DNAT target ('# Warning: XT target DNAT not found', then 'xt target "DNAT"': no address).
Before: the block was refused at its iptables-save ("unexpected '*mangle': not nft list output", exit 8); the nft
part read every Service 'rules OK' (--all 'ok') with every endpoint '?:?', called itself `nft list chain` output,
and gave 'type ClusterIP' to a Service whose other address nft does not say the kind of."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import svcpath

CORPUS = Path(__file__).resolve().parents[3] / "corpus"
BLOCK = str(CORPUS / "ddanielgal-k3s130-pi-nft-ruleset-iptables-save-ip6tables-save.txt")
NFT = str(CORPUS / "ddanielgal-k3s130-pi-nft-ruleset-xt-target-dnat.txt")


def test_nft_and_save_in_one_paste_are_read_each_as_itself() -> None:
    code, out, err = svcpath("kube-system/traefik", "--rules-file", BLOCK, "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    paths = {(p["address"], e["ip"], e["port"]) for port in doc["ports"] for p in port["paths"] for e in p["endpoints"]}
    assert ("100.90.167.160", "192.168.1.105", 80) in paths and ("10.43.85.149", "192.168.1.105", 443) in paths, paths
    text = " ".join(svcpath("kube-system/traefik", "--rules-file", BLOCK)[1].split())
    assert "the IPv6 family's (lines 1161-1224: ip6tables output) are in the input but not analysed" in text, text
    assert "no packet counters in the iptables listing (the nft listing beside it has them" in text, text
    code, out, err = svcpath("--all", "--rules-file", BLOCK)
    assert code == 0 and "11 Services, 14 ports, 11 endpoints" in out, (err, out)


def test_a_dnat_nft_cannot_print_leaves_the_endpoint_unknown() -> None:
    code, out, err = svcpath("KUBE-SVC-CVG3OEGEH7H5P3HQ", "--rules-file", NFT)
    assert code == 0, err
    flat = " ".join(out.split())
    assert "→ 1 endpoint (state not in the input), 9 pkts — UNKNOWN (the port its endpoints' DNAT sends to is not in " \
           "the input)" in flat, out
    # (the address is the endpoint chain's hairpin rule's, 'ip saddr 192.168.1.105 … jump KUBE-MARK-MASQ': it was '?:?')
    assert ("endpoint port: not in the input (the DNAT rule of KUBE-SEP-QEVIGMRENYKM2NRG shows no destination: nft "
            "prints iptables-nft's DNAT as 'xt target \"DNAT\"' without it, or the listing was cut; the address is the "
            "source of its hairpin rule, the one jumping to KUBE-MARK-MASQ)") in flat, out
    assert "192.168.1.105:?" in out and "?:?" not in out, out
    assert "nft list chain" not in flat and "xt target \"DNAT\", …): their probabilities" in flat, out
    doc = json.loads(svcpath("KUBE-SVC-CVG3OEGEH7H5P3HQ", "--rules-file", NFT, "-o", "json")[1])
    assert doc["service"]["type"] is None, doc["service"]  # (100.90.167.160 may be a load balancer's)
    code, out, err = svcpath("--all", "--rules-file", NFT)
    rows = [r for r in out.splitlines() if r.startswith("? ")]
    assert len(rows) == 14 and all(r.endswith("?: not in the input") for r in rows), out


def test_a_client_outside_is_in_no_pods_address() -> None:
    """k3s's kube-router network policy matches each pod's address in filter ("-s 10.42.0.31/32 … -j KUBE-POD-FW-…",
    then a REJECT): a client outside the cluster, whom nat's "! -s 10.42.0.0/16" already showed outside the pod range,
    was forked on each of them: 2741 branches, 2732 'rejected', cut at 4096. Now decided: delivered, one note."""
    code, out, err = svcpath("kube-system/traefik", "--port", "web", "--rules-file", BLOCK, "--trace", "outside",
                             "--to", "100.90.167.160:80", "--node-ip", "192.168.1.105", "--node-ip", "100.90.167.160")
    assert code == 0, err
    flat = " ".join(out.split())
    assert "Verdict: delivered to 192.168.1.105:80" in flat and "rejected" not in flat, out
    assert ("a client outside the cluster is in none of 10.42.0.31/32, 10.42.0.11/32, 10.42.0.29/32 and 8 more (inside "
            "10.42.0.0/16, the pod range kube-proxy's rules give the cluster): decided, not forked") in flat, out


def test_the_rule_nft_breaks_at_its_warning_is_one_rule_with_its_counters() -> None:
    """'ip protocol tcp counter packets 81 bytes 4860 # Warning: XT target DNAT not found' then 'xt target "DNAT"' on
    the next line: read as two rules, the counters on one that does nothing (EP-PKTS '-'), and the trace forked on
    whether the DNAT rule matches at all ('depends: not-a-service in 16 branches, unknown in 22')."""
    code, out, err = svcpath("KUBE-SVC-CVG3OEGEH7H5P3HQ", "--rules-file", NFT, "-o", "json")
    assert code == 0, err
    hops = [(e["chain"], e["packets"]) for p in json.loads(out)["ports"][0]["paths"] for e in p["endpoints"]]
    assert ("KUBE-SEP-QEVIGMRENYKM2NRG", 14) in hops, hops
    code, out, err = svcpath("KUBE-SVC-ERIFXISQEP7F7OF4", "--rules-file", NFT, "--trace", "10.42.0.99")
    assert code == 0, err
    flat = " ".join(out.split())
    assert ("Verdict: unknown: where this DNAT sends the packet is not in the input: the listing does not show it (nft "
            "prints iptables-nft's DNAT as 'xt target \"DNAT\"')") in flat, out
    assert "not-a-service" not in flat and "no target (counts only)" not in flat, out
