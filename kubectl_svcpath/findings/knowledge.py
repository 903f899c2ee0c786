"""Findings about what the input does not show: said once, plainly, instead of a wrong absence.

A path that jumps to a chain the input does not carry has unknown endpoints, not zero; a port
of an excerpt may have ways in that were cut out. These findings are ``info``: nothing is known
to be wrong, but the answer is partial, and the engineer needs to know which part.
"""

from __future__ import annotations

from kubectl_svcpath.analysis import Analysis
from kubectl_svcpath.path import Finding


def check_not_in_input(a: Analysis) -> list[Finding]:
    out: list[Finding] = []
    for pp in a.paths:
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
            out.append(Finding(
                "chain-not-in-input", "info",
                f"port {pp.port.label}: the {via}rule jumps to {chain}, which is not in the input: where its traffic goes is unknown",
                port=pp.port.name, evidence=[ev.line for ev in path.evidence[:2]],
                detail=["The input is a part of the rules (an excerpt, grep output, a partial restore input); the chain "
                        "may well exist on the node with endpoints. Nothing is said about them."],
                action=f"get the chain: iptables-save -c -t nat | grep -- '{chain}' (on the node or in the kube-proxy pod), "
                       "or pass the whole table"))
    return out
