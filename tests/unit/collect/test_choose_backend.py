"""Which iptables backend --local reads (collect/local.py choose_backend): the wrapper's order, checked against the rules."""

from __future__ import annotations

import pytest

from kubectl_svcpath.collect.local import LegacySide, NftSide, Probe, choose_backend

NFT_HINT = "KUBE-IPTABLES-HINT in iptables-nft (ip mangle)"
LEGACY_HINT = "KUBE-IPTABLES-HINT in iptables-legacy (mangle)"


def probe(nft_hint: bool = False, legacy_hint: bool = False, nft_chains: int = 0, legacy_rules: int = 0) -> Probe:
    nft = NftSide(available=True, via_nft=True, hints=[NFT_HINT] if nft_hint else [],
                  kube_chains={"ip nat": nft_chains})
    legacy = LegacySide(hints=[LEGACY_HINT] if legacy_hint else [],
                        kube_rules={"iptables-legacy nat KUBE-SERVICES": legacy_rules})
    return Probe(nft, legacy, [])


@pytest.mark.parametrize("p, backend, why", [
    (probe(nft_hint=True, nft_chains=8), "nf_tables", NFT_HINT),
    (probe(legacy_hint=True, legacy_rules=3), "legacy", LEGACY_HINT),
    # both hold rules (mixed): the hint decides, nft first as in iptables-wrapper
    (probe(nft_hint=True, legacy_hint=True, nft_chains=8, legacy_rules=3), "nf_tables", NFT_HINT),
    (probe(legacy_hint=True, nft_chains=8, legacy_rules=3), "legacy", LEGACY_HINT),
    # no hint: whichever holds kube-proxy's chains; nft when both do
    (probe(legacy_rules=3), "legacy", "no KUBE-IPTABLES-HINT chain anywhere"),
    (probe(nft_chains=8, legacy_rules=3), "nf_tables", "no KUBE-IPTABLES-HINT chain anywhere"),
    # a hint in a backend without any kube-proxy chain loses to the rules
    (probe(legacy_hint=True, nft_chains=8), "nf_tables", f"although {LEGACY_HINT}"),
])
def test_choose_backend(p: Probe, backend: str, why: str) -> None:
    chosen, evidence = choose_backend(p)
    assert chosen == backend
    assert evidence[0].startswith(f"backend {backend}: ") and why in evidence[0]


def test_no_backend_without_kube_proxy_rules() -> None:
    assert choose_backend(probe(nft_hint=True, legacy_hint=True)) == (None, [])
