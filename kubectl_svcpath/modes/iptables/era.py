"""Which kube-proxy release wrote these rules, as far as its layout tells (shared/docs/kube-proxy-rules.md §6).

Each marker gives a bound: KUBE-EXT/KUBE-SVL chains came in 1.24 (kubernetes#109060), KUBE-XLB
chains went then; KUBE-PROXY-FIREWALL came in 1.25; masquerade rules moved out of KUBE-SERVICES
into the service chains in 1.21 (#96959); an unnamed port's comment lost its trailing colon in
1.19. The note says the range the markers agree on, and which markers, so that an engineer
reading a 2019 paste knows why its chains look different.
"""

from __future__ import annotations

from kubectl_svcpath.modes.iptables import comments
from kubectl_svcpath.modes.iptables.model import RuleSet

def jump_tells_internal_policy(rules: RuleSet) -> bool:
    """Whether a cluster IP's jump to KUBE-SVC (not KUBE-SVL) shows internalTrafficPolicy Cluster in this layout:
    since 1.24 (KUBE-EXT/KUBE-SVL chains, KUBE-PROXY-FIREWALL) Local jumps to KUBE-SVL; up to 1.20 (masquerade
    rules in KUBE-SERVICES) there was no such policy. 1.21-1.23 wrote Local as a KUBE-SVC of the node's own
    endpoints, so there (or when the layout does not tell) the jump does not tell the policy."""
    nat, filt = rules.table("nat"), rules.table("filter")
    if filt is not None and "KUBE-PROXY-FIREWALL" in filt.chains:
        return True
    if nat is None:
        return False
    names = "\n" + "\n".join(nat.chains)
    if "\nKUBE-EXT-" in names or "\nKUBE-SVL-" in names:
        return True
    masq = rules.rules_targeting("nat", "KUBE-SERVICES", {"KUBE-MARK-MASQ"})
    return any((r.comment or "").endswith((" cluster IP", " external IP")) for r in masq)


def era_note(rules: RuleSet) -> str | None:
    low: list[tuple[int, str]] = []  # (minor version, why): written by 1.<minor> or later
    high: list[tuple[int, str]] = []  # written by 1.<minor> or earlier
    nat = rules.table("nat")
    filt = rules.table("filter")
    if nat is not None:
        names = "\n" + "\n".join(nat.chains)  # one text: str.find at C speed, not a regex call per name (10^5 of them)
        if "\nKUBE-EXT-" in names or "\nKUBE-SVL-" in names:
            low.append((24, "KUBE-EXT/KUBE-SVL chains"))
        if "\nKUBE-XLB-" in names:
            high.append((23, "KUBE-XLB chains"))
        masq = rules.rules_targeting("nat", "KUBE-SERVICES", {"KUBE-MARK-MASQ"})
        if any((r.comment or "").endswith((" cluster IP", " external IP")) for r in masq):
            high.append((20, "masquerade rules in KUBE-SERVICES"))
        entries = rules.rules_mentioning("nat", "KUBE-SERVICES", (": cluster IP", ":\" cluster IP"))
        if any((named := comments.read(r.comment)) is not None and named.legacy_colon for r in entries):
            high.append((18, 'unnamed ports named "ns/name:"'))
    if filt is not None and "KUBE-PROXY-FIREWALL" in filt.chains:
        low.append((25, "KUBE-PROXY-FIREWALL"))
    if not high:
        return None  # today's layout needs no comment; an older one explains why chains look different
    lo = max(low) if low else None
    hi = min(high) if high else None
    if lo and hi and lo[0] > hi[0]:
        return (f"layout: mixed kube-proxy releases ({lo[1]}: 1.{lo[0]}+, {hi[1]}: 1.{hi[0]} or earlier); "
                "stale chains of an older kube-proxy may be left over")
    why = ", ".join(w for _, w in sorted(low + high, reverse=True))
    if lo and hi:
        span = f"1.{lo[0]} to 1.{hi[0]}" if lo[0] != hi[0] else f"1.{lo[0]}"
    elif lo:
        span = f"1.{lo[0]} or later"
    else:
        assert hi is not None
        span = f"1.{hi[0]} or earlier"
    return f"layout: kube-proxy {span} ({why})"
