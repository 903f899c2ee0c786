"""Findings that only nftables mode has. Pure.

The generic checks (diagnose.py) already read every mode's PortPaths for no-endpoints,
no-local-endpoints, stale-endpoint, endpoint-not-programmed, target-port-mismatch and a port
with no entry at all; this module adds what needs kube-proxy's nftables objects:

- ``no-endpoint-map-but-ready``: the port sits in no-endpoint-services/-nodeports (reject)
  while its EndpointSlices have usable endpoints: kube-proxy has not synced.
- ``service-not-programmed`` for one way in only (a cluster IP mapped, a node port not), and
  for a map element that leads to another service port's chain.
- ``no-counters-nftables`` (info): kube-proxy writes no counters in this mode.
- ``statement-not-read``: a rule on a port's path holds words the reader did not take for a statement.
"""

from __future__ import annotations

from kubectl_svcpath.endpoints import usable_endpoints
from kubectl_svcpath.modes.nftables.correlate import SERVICE_IPS, SERVICE_NODEPORTS, evidence_of, is_ipv6, parse_chain_name
from kubectl_svcpath.modes.nftables.model import NftRule, NftRuleset
from kubectl_svcpath.path import EntryPath, Finding, PortPath, host_port
from kubectl_svcpath.snapshot import ServiceSnapshot
from kubectl_svcpath.wording import counted, numbered, times


def _refs(path: EntryPath) -> list[str]:
    return [ev.line for ev in path.evidence]


def _where(path: EntryPath) -> str:
    if path.entry == "nodePort":
        return f"node port {path.port}"
    return f"{path.entry} {host_port(path.address or '?', path.port)}"


def check_nftables(snapshot: ServiceSnapshot, paths: list[PortPath], nft: NftRuleset) -> list[Finding]:
    out: list[Finding] = []
    for pp in paths:
        out.extend(_check_no_endpoint_map(snapshot, pp))
        out.extend(_check_partial(snapshot, pp, nft))
        out.extend(_check_foreign_chain(snapshot, pp))
        out.extend(_check_unread(pp, nft))
    out.extend(_check_counters(paths, nft))
    return out


def _check_no_endpoint_map(snapshot: ServiceSnapshot, pp: PortPath) -> list[Finding]:
    if not snapshot.from_api:
        return []
    usable = usable_endpoints(snapshot.port_endpoints(pp.port))
    if not usable:
        return []
    rejects = [p for p in pp.paths if p.verdict == "reject"]
    if not rejects:
        return []
    where = ", ".join(_where(p) for p in rejects)
    return [Finding(
        "no-endpoint-map-but-ready", "error",
        f"port {pp.port.label}: kube-proxy's table rejects {where} as having no endpoints, "
        f"but the EndpointSlices list {counted(len(usable), 'usable endpoint')}",
        port=pp.port.name,
        evidence=[r for p in rejects for r in _refs(p)],
        detail=["The port is an element of no-endpoint-services / no-endpoint-nodeports (goto reject-chain): "
                "kube-proxy on this node wrote its rules before the endpoints became ready and has not synced since.",
                "Ready endpoints: " + ", ".join(host_port(e.ip, e.port) for e in usable[:5])],
        action="check kube-proxy on this node (kubectl -n kube-system logs <kube-proxy pod>) for sync errors; "
               "restarting the kube-proxy pod rewrites the table",
    )]


def _expected_entries(snapshot: ServiceSnapshot, pp: PortPath, nft: NftRuleset) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    families = {t.family for t in nft.kube_proxy_tables()}

    def have_family(ip: str) -> bool:
        return ("ip6" if is_ipv6(ip) else "ip") in families

    out += [(kind, ip) for kind, ip in snapshot.entry_addresses() if have_family(ip)]
    if pp.port.node_port and families:
        out.append(("nodePort", None))
    return out


def _check_partial(snapshot: ServiceSnapshot, pp: PortPath, nft: NftRuleset) -> list[Finding]:
    """One way in is programmed, another is not (the port as a whole is the generic check's)."""
    if not pp.paths or not pp.entries_complete:
        return []  # an excerpt: the map elements it does not show may hold the other ways in
    # a "missing" path still counts as mapped when a dispatch map holds it (its chain is what is missing);
    # only one known from firewall-ips alone is in neither map
    found = {(p.entry, p.address) for p in pp.paths
             if p.verdict != "missing" or SERVICE_IPS in p.chains or SERVICE_NODEPORTS in p.chains}
    out: list[Finding] = []
    for entry, address in _expected_entries(snapshot, pp, nft):
        if (entry, address) in found:
            continue
        if entry == "nodePort":
            what = f"node port {pp.port.node_port}/{pp.port.protocol}"
            where = "service-nodeports or no-endpoint-nodeports"
        else:
            what = f"{entry} {host_port(address or '?', pp.port.port)}/{pp.port.protocol}"
            where = "service-ips or no-endpoint-services"
        out.append(Finding(
            "service-not-programmed", "error",
            f"port {pp.port.label}: {what} is in neither {where}: traffic to it is not handled by kube-proxy on this node",
            port=pp.port.name,
            detail=["Other ways in to this port are programmed, so kube-proxy is running; it has not synced this "
                    "change of the Service (or the address belongs to another IP family than the table listed)."],
            action="check kube-proxy's logs on this node; list the ip6 table too if the address is IPv6",
        ))
    for p in pp.paths:
        if p.verdict == "missing":
            out.append(Finding(
                "service-not-programmed", "error",
                f"port {pp.port.label}: {_where(p)} leads to {p.chains[-1] if p.chains else 'a chain'}, which the dump does not hold "
                f"or which picks no endpoint",
                port=pp.port.name, evidence=_refs(p),
                action="pass the complete table (nft -j list table ip kube-proxy); if it is complete, kube-proxy's sync failed half-way",
            ))
    return out


def _check_foreign_chain(snapshot: ServiceSnapshot, pp: PortPath) -> list[Finding]:
    """A map element for this port's address leads to another service port's chains."""
    if not snapshot.from_api:
        return []
    me = (snapshot.namespace, snapshot.name, pp.port.protocol.lower(), pp.port.name)
    out: list[Finding] = []
    for p in pp.paths:
        for chain in p.chains:
            parsed = parse_chain_name(chain)
            if parsed is None or parsed[0] not in ("service", "local", "external"):
                continue
            if parsed[1:] != me:
                out.append(Finding(
                    "service-not-programmed", "error",
                    f"port {pp.port.label}: {_where(p)} leads to {chain}, which belongs to service port "
                    f"{parsed[1]}/{parsed[2]}:{parsed[4] or '(unnamed)'} ({parsed[3]})",
                    port=pp.port.name, evidence=_refs(p),
                    detail=["The address was reused (a Service deleted and re-created, or a port renamed) and kube-proxy "
                            "on this node still holds the old mapping."],
                    action="check kube-proxy's logs on this node; restarting the kube-proxy pod rewrites the table",
                ))
                break
    return out


def _check_unread(pp: PortPath, nft: NftRuleset) -> list[Finding]:
    """A rule of a chain on the port's path holding words the reader kept as ``{"unknown": …}`` (text_statements): what
    that rule does to a packet is not known, and neither is the path past it. (No real listing has shown one: a
    hand-edited paste, or an nft newer than this reader.)"""
    names = dict.fromkeys(c for p in pp.paths for c in (*p.chains, *(h.chain for h in p.endpoints if h.chain)))
    unread: list[tuple[NftRule, str]] = []
    for table in nft.kube_proxy_tables():
        for name in names:
            chain = table.chains.get(name)
            for rule in chain.rules if chain is not None else ():
                words = next((e["unknown"] for e in rule.exprs if isinstance(e, dict) and isinstance(e.get("unknown"), str)), None)
                if words is not None:
                    unread.append((rule, words))
    if not unread:
        return []
    rule, words = unread[0]
    shown = words if len(words) <= 40 else words[:40] + "…"
    return [Finding(
        "statement-not-read", "warning",
        f"port {pp.port.label}: {counted(len(unread), 'rule')} on its path {'holds' if len(unread) == 1 else 'hold'} words this "
        f"reader does not take for nft statements (\"{shown}\" in {rule.chain}): what {'it does' if len(unread) == 1 else 'they do'} "
        "to a packet is not in this report",
        port=pp.port.name, evidence=[evidence_of(r).line for r, _ in unread[:5]],
        detail=["kube-proxy writes no such statement: the listing was edited, or printed by an nft newer than this reader. "
                "The report reads the rule's other statements; the path past it may differ from what it shows."],
        action="pass the listing as nft printed it (nft list table ip kube-proxy, or nft -j list table ip kube-proxy)",
    )]


def _check_counters(paths: list[PortPath], nft: NftRuleset) -> list[Finding]:
    if _table_has_counters(nft):
        return []  # someone added counters to kube-proxy's table
    with_conntrack = any(p.connections is not None for pp in paths for p in pp.paths)
    if with_conntrack:
        msg = ("kube-proxy's nftables rules carry no counters: the counts shown are connections conntrack tracks now "
               "(their packets and bytes only with nf_conntrack_acct=1)")
        action = None
    else:
        msg = "kube-proxy's nftables rules carry no counters: no per-hop traffic can be shown"
        action = ("to count connections per endpoint, list conntrack on the node and pass it as a dump: "
                  "conntrack -L -p tcp > conntrack.txt (read-only)")
    return [Finding(
        "no-counters-nftables", "info", msg,
        detail=["kube-proxy adds no `counter` statements in nftables mode. conntrack shows the flows open now: "
                "original destination = the service address, reply source = the endpoint the packet was DNAT'ed to."],
        action=action,
    )]


def _table_has_counters(nft: NftRuleset) -> bool:
    """Someone added counters to kube-proxy's table (a scan of every rule: once per input, not per Service)."""
    return nft.once("kube-proxy-counters",
                    lambda n: any(t.has_counted_rules for t in n.kube_proxy_tables()))


def notes_nftables(nft: NftRuleset, conntrack: object | None = None,
                   snapshot: ServiceSnapshot | None = None) -> list[str]:
    """Report.notes for nftables mode: what the input lacks and what that costs."""
    notes: list[str] = [n for d in nft.dumps if d.form == "nft-chains" for n in d.notices]  # what the reader guessed
    for d in nft.dumps:
        for ref, chain, lines in d.relisted:
            block = chain.startswith(("set ", "map "))
            what, other = (chain, "elements") if block else (f"chain {chain}", "rules")
            notes.append(f"{d.source}: {what} (table {ref}) is listed {times(len(lines))} with other {other} "
                         f"({numbered('line', lines)}): several moments pasted together; its last listing is read "
                         f"(line {lines[-1]}), as the later state")
    source = next((d.source for d in nft.dumps if d.form == "nft-text"), nft.dumps[0].source if nft.dumps else "input")
    for table in nft.kube_proxy_tables():
        if table.cut_chains or table.cut_between:
            from kubectl_svcpath.modes.nftables.cuts import cut_note

            notes.append(cut_note(source, table))
    if nft.cut_elsewhere:
        from kubectl_svcpath.modes.nftables.cuts import elsewhere_note

        notes.append(elsewhere_note(source, nft.cut_elsewhere))
    cut = nft.dangling()
    if cut:
        shown = "; ".join(cut[:4]) + (f"; and {len(cut) - 4} more" if len(cut) > 4 else "")
        notes.append(f"the nftables listing was cut ({shown}): what it does not show is not in the input, "
                     "not absent; pass the whole table (nft -j list table ip kube-proxy)")
    # (no counters: the no-counters-nftables finding says so, with what to pass; said here too, each report said it twice)
    if snapshot is not None:
        families = {t.family for t in nft.kube_proxy_tables()}
        addrs = list(snapshot.cluster_ips) + list(snapshot.external_ips) + list(snapshot.load_balancer_ips)
        for family, version in (("ip", 4), ("ip6", 6)):
            missing = [a for a in addrs if a != "None" and (6 if is_ipv6(a) else 4) == version and family not in families]
            if missing:
                notes.append(f"no table {family} kube-proxy in the input: {', '.join(missing)} cannot be followed "
                             f"(nft -j list table {family} kube-proxy)")
    return notes
