"""-o wide names each path's service chain once: in SERVICE-CHAIN, with the chains before it in CHAINS.

It printed the service chain twice on every row, at the end of CHAINS and again in SERVICE-CHAIN
("KUBE-SERVICES > KUBE-SVC-R4PDB35TUPNR4CEW  KUBE-SVC-R4PDB35TUPNR4CEW"; nftables "… > service-…  service-…",
IPVS "IPVS TCP 10.0.0.10:53  TCP 10.0.0.10:53"), on the bundled example and on every shared dump.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import DUMPS, require_shared, svcpath


def _rows(out: str) -> list[list[str]]:
    """The path table's rows as cells (columns are two or more spaces apart), its header first."""
    lines = out.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("PORT "))
    table = []
    for ln in lines[start:]:
        if not ln.strip():
            break
        table.append(ln)
    header = table[0]
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    return [[ln[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)] for ln in table]


def _chain_cells(out: str) -> list[tuple[str, str]]:
    rows = _rows(out)
    chains, service = rows[0].index("CHAINS"), rows[0].index("SERVICE-CHAIN")
    return [(r[chains], r[service]) for r in rows[1:] if r[service]]


def test_the_example_reads_as_one_path_left_to_right():
    code, out, err = svcpath("--example", "-o", "wide")
    assert code == 0, err
    assert _chain_cells(out) == [
        ("KUBE-SERVICES", "KUBE-SVC-R4PDB35TUPNR4CEW"),
        ("KUBE-NODEPORTS > KUBE-EXT-R4PDB35TUPNR4CEW", "KUBE-SVC-R4PDB35TUPNR4CEW"),
        ("KUBE-SERVICES", "KUBE-SVC-P73F5K5MMQHXGZV7"),
        ("KUBE-NODEPORTS > KUBE-EXT-P73F5K5MMQHXGZV7", "KUBE-SVC-P73F5K5MMQHXGZV7"),
    ]
    assert "KUBE-NODEPORTS > KUBE-EXT-R4PDB35TUPNR4CEW  KUBE-SVC-R4PDB35TUPNR4CEW  KUBE-SEP-AA54JU3D4RO26WUA" in out


@pytest.mark.parametrize(("dump", "service"), [
    ("upstream-iptables-proxier-test-TestOverallIPTablesRules.txt", "ns5/svc5"),
    ("derived-netns-nft-list-table-ip-kube-proxy-from-upstream-TestOverallNFTablesRules.txt", "ns3/svc3"),
    ("repo-k3s-nft-list-table-ip-kube-proxy.txt", "riset/hellopod-np-svc"),
    ("upstream-ipvs-readme-ipvsadm-ln.txt", "TCP 10.0.0.10:53"),
])
def test_no_row_names_its_service_chain_twice(dump: str, service: str):
    require_shared()
    code, out, err = svcpath("--rules-file", str(DUMPS / dump), service, "-o", "wide")
    assert code in (0, 3), err
    cells = _chain_cells(out)
    assert cells
    for chains, policy in cells:
        if policy != "-":
            assert policy not in chains, (chains, policy)


def test_a_path_without_a_service_chain_keeps_its_chains():
    require_shared()
    code, out, _ = svcpath("--rules-file", str(DUMPS / "upstream-iptables-proxier-test-TestOverallIPTablesRules.txt"),
                           "ns2/svc2", "-o", "wide")
    assert ("KUBE-SERVICES > KUBE-EXT-GNZBNJ2PO5MGZ6GT", "-") in _chain_cells(out)
