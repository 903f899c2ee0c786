"""A service chain pasted without its endpoint chains: the endpoints' DNAT rules are not in the input.

`nft list chain ip kube-proxy service-…` alone names each endpoint in its vmap (`goto endpoint-…__10.42.0.171/53`),
but the endpoint chain that does the DNAT is not in the paste. The report said "1 endpoint …, rules OK", and `--all`
"ok", from the chain's name alone. iptables mode said UNKNOWN for the same paste without comments ("?:?"), and "rules
OK" with kube-proxy's "-> 10.180.0.4:80" comments. Now both say UNKNOWN, with a chain-not-in-input finding, a
"DNAT not in the input" mark on each such endpoint row and the port's notInInput line; a listed whole table
is as before (the golden tests of the shared dumps).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import DUMPS, require_shared, svcpath_on

K3S = DUMPS / "repo-k3s-nft-list-table-ip-kube-proxy.txt"
SVC_CHAIN = "service-NWBZK7IH-kube-system/kube-dns/tcp/dns-tcp"
EP_CHAIN = "endpoint-T5HMVMWK-kube-system/kube-dns/tcp/dns-tcp__10.42.0.171/53"
IPT = Path(DUMPS / "upstream-iptables-proxier-test-TestOverallIPTablesRules.txt")


def _block(text: str, chain: str) -> str:
    """The chain's block as `nft list table` printed it (its indentation kept)."""
    start = text.index(f"        chain {chain} {{\n")
    return text[start:text.index("        }\n", start) + len("        }\n")]


def _service_chain_alone() -> str:
    require_shared()
    return (f"$ sudo nft list chain ip kube-proxy {SVC_CHAIN}\ntable ip kube-proxy {{\n"
            + _block(K3S.read_text(), SVC_CHAIN) + "}\n")


def test_an_nft_service_chain_alone_is_unknown_not_ok(tmp_path: Path) -> None:
    code, out, err = svcpath_on(tmp_path, _service_chain_alone(), "kube-system/kube-dns", "--explain")
    assert code == 0, err
    verdict = out.splitlines()[0]
    assert verdict.startswith("dns-tcp 53/TCP → 1 endpoint")
    assert verdict.endswith("— UNKNOWN (its endpoint chains are not in the input)"), verdict
    row = next(ln for ln in out.splitlines() if "10.42.0.171:53" in ln and SVC_CHAIN in ln)
    assert row.rstrip().endswith("unknown; DNAT not in the input"), row
    assert (f"INFO  chain-not-in-input: port dns-tcp 53/TCP: 1 endpoint chain the service chain jumps to is not in the "
            f"input ({EP_CHAIN}): where it sends traffic is unknown") in out
    assert f"-> get the chains: nft list chain ip kube-proxy '{EP_CHAIN}' (each of them), or pass the whole table" in out
    assert (f"Unknown:  dns-tcp: endpoint DNAT: not in the input ({EP_CHAIN} is not; the address shown is from its "
            "chain's name)") in out


def test_the_same_in_json_and_in_all(tmp_path: Path) -> None:
    code, out, err = svcpath_on(tmp_path, _service_chain_alone(), "kube-system/kube-dns", "-o", "json")
    assert code == 0, err
    (port,) = json.loads(out)["ports"]
    assert any(n.startswith("endpoint DNAT: not in the input") for n in port["notInInput"])
    code, out, err = svcpath_on(tmp_path, _service_chain_alone(), "--all")
    assert code == 0, err
    row = next(ln for ln in out.splitlines() if ln.startswith("kube-system"))
    assert row.endswith("?: not in the input"), row


def test_an_endpoint_chain_cut_before_its_dnat(tmp_path: Path) -> None:
    """The endpoint chain is in the paste, cut ('...') before its DNAT: the address is its name's, not seen."""
    alone = _service_chain_alone()
    text = (alone[:alone.rindex("}\n")] + f"        chain {EP_CHAIN} {{\n"
            "                ip saddr 10.42.0.171 jump mark-for-masquerade\n                ...\n        }\n}\n")
    code, out, err = svcpath_on(tmp_path, text, "kube-system/kube-dns")
    assert code == 0, err
    assert out.splitlines()[0].endswith("— UNKNOWN (its endpoints' DNAT rules are not in the input)"), out
    assert f"({EP_CHAIN} is in it without its DNAT rule; the address shown is from its chain's name)" in out


def test_the_whole_table_still_reads_ok(tmp_path: Path) -> None:
    require_shared()
    code, out, err = svcpath_on(tmp_path, K3S.read_text(), "kube-system/kube-dns")
    assert code == 0, err
    assert "DNAT not in the input" not in out
    assert all(ln.endswith("rules OK (not checked against the API)") for ln in out.split("\n\n")[0].splitlines()), out


def test_iptables_with_the_jumps_comments_agrees(tmp_path: Path) -> None:
    """The iptables service chain alone, its jumps commented '-> 10.180.0.4:80': UNKNOWN as in nftables mode."""
    require_shared()
    lines = [ln for ln in IPT.read_text().splitlines() if ln.startswith("-A KUBE-SVC-4SW47YFZTEDKD3PK ")]
    code, out, err = svcpath_on(tmp_path, "\n".join(lines) + "\n", "ns4/svc4")
    assert code == 0, err
    assert out.splitlines()[0].endswith("— UNKNOWN (its endpoint chains are not in the input)"), out
    rows = [ln for ln in out.splitlines() if "10.180.0.4:80" in ln or "10.180.0.5:80" in ln]
    assert len(rows) == 2 and all(r.rstrip().endswith("unknown; DNAT not in the input") for r in rows), rows
    assert ("endpoint DNAT: not in the input (KUBE-SEP-UKSFD7AGPMPPLUHC and KUBE-SEP-C6EBXVWJJZMIWKLZ are not; the "
            "addresses shown are from their jumps' comments)") in out
