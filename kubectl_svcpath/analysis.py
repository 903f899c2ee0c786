"""Everything one Service's checks may look at, gathered once by the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubectl_svcpath.dump import Collection
from kubectl_svcpath.path import PortPath
from kubectl_svcpath.modes.iptables.model import RuleSet
from kubectl_svcpath.snapshot import ServiceSnapshot


@dataclass(slots=True)
class Analysis:
    snapshot: ServiceSnapshot
    collection: Collection
    mode: str  # "iptables" | "nftables" | "ipvs"
    paths: list[PortPath]
    rules: RuleSet | None = None  # iptables rules (iptables mode, or the iptables side of IPVS mode)
    nft: list[Any] = field(default_factory=list)  # nftrules.NftRuleset: kube-proxy's table, or iptables-nft's kernel view
    ipvs: Any = None  # ipvsmodel.IpvsTable
    # what kube-proxy should program here, per IP family (expected.Expectation); empty in dump-only mode
    expectations: dict[int, Any] = field(default_factory=dict)
