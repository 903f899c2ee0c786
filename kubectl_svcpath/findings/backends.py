"""Findings about the iptables backends (legacy, nf_tables) themselves, in any proxy mode.

Stale KUBE-* rules in either backend still apply whatever mode kube-proxy runs in, so these
read only Collection facts and the iptables dumps' notices.
"""

from __future__ import annotations

import re

from kubectl_svcpath.analysis import Analysis
from kubectl_svcpath.path import Finding

_LEGACY_PRESENT = re.compile(r"Warning: ip6?tables-legacy tables present")


def check_backends(a: Analysis) -> list[Finding]:
    """S9: rules in both iptables backends, or legacy tables beside nf_tables (any proxy mode: pure Collection facts)."""
    c = a.collection
    backend = c.backend or (a.rules.backend if a.rules is not None else None)
    if c.other_backend_rules:
        other = "iptables-legacy" if backend == "nf_tables" else "iptables-nft"
        mine = "iptables-nft" if backend == "nf_tables" else "iptables-legacy"
        return [Finding(
            "mixed-backends", "error",
            "kube-proxy rules exist in both iptables-nft and iptables-legacy: the kernel applies both",
            evidence=list(c.backend_evidence),
            detail=[f"kube-proxy uses {backend} ({mine}); the rules shown are read from there.",
                    f"The KUBE-* rules in {other} are stale or foreign, and the kernel still runs them: both nat "
                    "tables see every new connection, so stale KUBE-SERVICES rules can send it to pods that no "
                    "longer exist (kubernetes#109811).",
                    *[f"  {e}" for e in c.backend_evidence]],
            action=f"look at them: {'iptables-legacy-save' if other == 'iptables-legacy' else 'iptables-nft-save'} | grep KUBE- ; "
                   f"find out what wrote them (an old kube-proxy, a host tool using the other iptables), then delete "
                   f"the KUBE-* chains in {other} once nothing uses them")]
    present = [e for e in c.backend_evidence if "legacy tables present" in e]
    warned = [(d.source, line.strip()) for d in c.dumps for line in d.stderr.splitlines() if _LEGACY_PRESENT.search(line)]
    if a.rules is not None:
        warned += [(info.source, n) for info in a.rules.dumps for n in info.notices if _LEGACY_PRESENT.search(n)]
    if backend == "legacy" or not (present or warned):
        return []
    known_empty = bool(present) and c.backend == "nf_tables"  # --local looked: no kube-proxy chains there
    evidence = [f"{s}  {line}" for s, line in warned] + present
    if known_empty:
        return [Finding(
            "legacy-tables-present", "info",
            "iptables-legacy tables exist here but hold no kube-proxy rules; that is what iptables-nft's warning is about",
            evidence=evidence,
            detail=["iptables-nft prints \"# Warning: iptables-legacy tables present\" whenever /proc/net/ip_tables_names "
                    "lists a table. Rules in those tables, if any, are still applied by the kernel.",
                    "They are often created by a tool that merely looked (iptables-legacy -t nat -L, python-iptables)."],
            action="see what they hold: iptables-legacy-save (plain: with -t it would create more tables)")]
    return [Finding(
        "legacy-tables-present", "warning",
        "iptables warned that iptables-legacy tables exist too: rules there are applied by the kernel but are not in this dump",
        evidence=evidence,
        detail=["Rules in both backends run: if the legacy tables hold KUBE-* rules (an old kube-proxy, a host "
                "tool using iptables-legacy), connections may take paths this listing does not show."],
        action="check on the node: iptables-legacy-save | grep KUBE- ; or run kubectl svcpath --local there, "
               "which reads both backends")]
