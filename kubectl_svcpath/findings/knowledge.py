"""Findings about what the input does not show: said once, plainly, instead of a wrong absence.

A path that jumps to a chain the input does not carry has unknown endpoints, not zero; a port
of an excerpt may have ways in that were cut out. These findings are ``info``: nothing is known
to be wrong, but the answer is partial, and the engineer needs to know which part.
"""

from __future__ import annotations

from kubectl_svcpath.analysis import Analysis
from kubectl_svcpath.path import EndpointHop, Finding, PortPath
from kubectl_svcpath.wording import agrees, counted, listed


def check_restore_failed(a: Analysis) -> list[Finding]:
    """The rules read are kube-proxy's logged restore input, and kube-proxy logged right after it that the restore
    failed: what the rules say is what kube-proxy asked for, which the node may not hold."""
    return [Finding(
        "restore-failed", "warning",
        "kube-proxy logged that iptables-restore failed right after the input read: the node may hold none of these "
        "rules (an earlier sync's, or none), so the paths shown are what kube-proxy asked for, not what traffic meets",
        evidence=[line],
        detail=["The input is kube-proxy's log of the iptables-restore input it wrote (-v=5), not the node's tables. "
                "iptables-restore applies a table at its COMMIT line, and a table with a line it cannot apply not at "
                "all: that table keeps what it held before (kube-proxy retries at its next sync)."],
        action="read the node's tables themselves (iptables-save -c on the node, or kubectl svcpath SERVICE live), and "
               "the error kube-proxy logged with the failure (the line it names in the input)") for line in a.restore_failed]


def check_not_in_input(a: Analysis) -> list[Finding]:
    out: list[Finding] = []
    for pp in a.paths:
        out.extend(_endpoint_chains_unseen(a, pp))
        for path in pp.paths:
            if path.verdict != "not-in-input":
                continue
            chain = path.chains[-1]
            via = f"{path.entry} " if path.entry else ""
            if path.unseen:
                out.append(Finding(
                    "chain-not-in-input", "info",
                    f"port {pp.port.label}: {chain} is in the input, {path.unseen} not: where its traffic goes is unknown",
                    port=pp.port.name, evidence=[ev.line for ev in path.evidence[:2]],
                    detail=["The input is a part of a listing; what it leaves out may well exist on the node. "
                            "Nothing is said about it."]))
                continue
            said = (f"the {via}rule jumps to {chain}, which is not in the input" if not path.jump_unseen else
                    f"only the {via}rule's masquerade twin is in the input; the jump to {chain} and the chain are not")
            out.append(Finding(
                "chain-not-in-input", "info",
                f"port {pp.port.label}: {said}: where its traffic goes is unknown",
                port=pp.port.name, evidence=[ev.line for ev in path.evidence[:2]],
                detail=["The input is a part of the rules (an excerpt, grep output, a partial restore input); the chain "
                        "may well exist on the node with endpoints. Nothing is said about them."],
                action=f"get the chain: iptables-save -c -t nat | grep -- '{chain}' (on the node or in the kube-proxy pod), "
                       "or pass the whole table"))
    return out


def _endpoint_chains_unseen(a: Analysis, pp: PortPath) -> list[Finding]:
    """The endpoint chains a service chain shown jumps to, which the input does not hold (a grep or listing of the
    service chain alone): the endpoints' DNAT targets are unknown, not "OK", even where the jump's comment (iptables)
    or the chain's name (nftables) names an address: what the chain does with the packet is not in the input."""
    hops: dict[str, EndpointHop] = {}
    for path in pp.paths:
        for h in path.endpoints:
            if h.chain and h.dnat_unseen == "chain":
                hops.setdefault(h.chain, h)  # (the first path's jump cites it: the service chain's before KUBE-SVL's)
    if not hops:
        return []
    names = list(hops)
    cited = [ev.line for path in pp.paths for ev in path.evidence[:1]][:2] or list(dict.fromkeys(
        ev.line for h in hops.values() for ev in h.evidence[:1]))[:2]
    named = any(h.ip not in (None, "?") for h in hops.values())
    return [Finding(
        "chain-not-in-input", "info",
        f"port {pp.port.label}: {counted(len(names), 'endpoint chain')} the service chain jumps to "
        f"{agrees(len(names), 'is', 'are')} not in the input ({listed(names)}): where {agrees(len(names), 'it sends', 'they send')} "
        "traffic is unknown",
        port=pp.port.name, evidence=cited,
        detail=["The input shows the service chain's jumps but not the endpoint chains' DNAT rules (a grep or a "
                "listing of the service chain alone): " + (
                    "the addresses shown are the ones kube-proxy named them by (the jump's comment, the chain's name); "
                    "what their chains do with the packet is not known." if named else
                    "the endpoints' addresses and what their chains do are not known.") + " Nothing is said about them."],
        action=f"get the chains: {_chain_listing(names[0], hops[names[0]])} (each of them), or pass the whole table",
        endpoint_chains_unseen=names)]


def _chain_listing(name: str, hop: EndpointHop) -> str:
    """The read-only command that lists one endpoint chain: kube-proxy's iptables chains are KUBE-SEP-…, its nftables
    chains endpoint-… in table ip (ip6 for an IPv6 endpoint) kube-proxy."""
    if name.startswith("KUBE-"):
        return f"iptables-save -c -t nat | grep -- '{name}'"
    return f"nft list chain {'ip6' if ':' in hop.ip else 'ip'} kube-proxy '{name}'"
