"""Everything one Service's checks may look at, gathered once by the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubectl_svcpath.dump import Collection
from kubectl_svcpath.path import PortPath
from kubectl_svcpath.snapshot import ServiceSnapshot

if TYPE_CHECKING:
    from kubectl_svcpath.modes.base import Mode
    from kubectl_svcpath.modes.iptables.model import RuleSet
    from kubectl_svcpath.modes.ipvs.model import IpvsTable
    from kubectl_svcpath.modes.nftables.model import NftRuleset


@dataclass(slots=True)
class Analysis:
    snapshot: ServiceSnapshot
    collection: Collection
    mode: Mode
    paths: list[PortPath]
    rules: RuleSet | None = None  # iptables rules (iptables mode, or the iptables side of IPVS mode)
    nft: list[NftRuleset] = field(default_factory=list)  # kube-proxy's table, or iptables-nft's kernel view
    ipvs: IpvsTable | None = None
    # what kube-proxy should program here, per IP family (expected.Expectation); empty in dump-only mode
    expectations: dict[int, Any] = field(default_factory=dict)
    # the input is kube-proxy's logged restore input, and its log says that restore failed: those log lines
    restore_failed: list[str] = field(default_factory=list)
