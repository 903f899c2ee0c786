"""Every finding code the tool can report: its severities and its one-line meaning.

The codes are a contract (scripts match on them): add freely, never rename. README.md's findings
table lists the same codes and severities; tests/unit/findings/test_findings_registry.py checks both that
table and every ``Finding(...)`` in the package against this one.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubectl_svcpath.findings.model import Severity

ERR, WARN, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    severities: tuple[Severity, ...]
    meaning: str
    where: str  # the module that reports it


_ALL = (
    # generic: any proxy mode (findings/generic.py, findings/knowledge.py)
    Code("no-endpoints", (ERR,), "no ready (or serving-terminating) endpoint: new connections are rejected", "findings/generic.py"),
    Code("no-local-endpoints", (WARN,), "traffic policy Local and no endpoint on this node: dropped here", "findings/generic.py"),
    Code("stale-endpoint", (ERR,), "rules send traffic to an address no EndpointSlice lists", "findings/generic.py"),
    Code("endpoint-not-programmed", (ERR,), "an endpoint kube-proxy should program on this node has no rule", "findings/generic.py"),
    # expected before observed: what kube-proxy should program here (findings/expected.py)
    Code("topology-hints-ignored", (ERR,), "the rules send traffic to endpoints hinted for another zone (or node) although kube-proxy would use the hints", "findings/expected.py"),
    Code("topology-hints-misapplied", (ERR,), "the rules hold only one zone's hinted endpoints although kube-proxy ignores the hints on this node", "findings/expected.py"),
    Code("endpoint-not-expected", (ERR,), "the rules send traffic to an endpoint kube-proxy would not program here", "findings/expected.py"),
    Code("rules-for-ignored-service", (WARN,), "rules for a Service kube-proxy is told to ignore (service-proxy-name label, headless)", "findings/expected.py"),
    Code("verdict-not-expected", (ERR,), "the rules drop or reject traffic kube-proxy would forward from this node", "findings/expected.py"),
    Code("service-not-programmed", (ERR,), "no entry rule (map element, virtual server) at all for a port, or a way in leading to an empty or absent chain", "findings/generic.py"),
    Code("target-port-mismatch", (ERR, WARN), "DNAT port differs from the EndpointSlice's port / the Service's targetPort", "findings/generic.py"),
    Code("terminating-fallback", (WARN,), "no ready endpoint; kube-proxy falls back to serving terminating ones", "findings/generic.py"),
    Code("probability-mismatch", (WARN,), "endpoint shares do not add up to 1", "findings/generic.py"),
    Code("dump-only", (INFO,), "no API objects: readiness, stale and missing endpoints cannot be judged", "findings/generic.py"),
    Code("headless-service", (INFO,), "clusterIP None: kube-proxy writes no rules; clients use DNS", "findings/generic.py"),
    # between two samples (traffic.py: --watch, --since)
    Code("counters-reset", (WARN,), "a counter went backwards between two samples: kube-proxy rewrote the chain", "traffic.py"),
    Code("split-departs", (WARN,), "the observed split of new connections departs from the programmed probabilities beyond chance (chi-square, p < 0.001)", "traffic.py"),
    Code("chain-not-in-input", (INFO,), "a rule jumps to a chain the input does not hold: where it leads is unknown", "findings/knowledge.py"),
    Code("restore-failed", (WARN,), "the input is kube-proxy's logged restore input and kube-proxy logged that the restore failed: the node may not hold these rules", "findings/knowledge.py"),
    # iptables backends, any mode (findings/backends.py)
    Code("mixed-backends", (ERR,), "kube-proxy rules in both iptables backends; the kernel applies both", "findings/backends.py"),
    Code("legacy-tables-present", (INFO, WARN), "legacy tables beside nf_tables (info when --local saw they hold no kube-proxy rules)", "findings/backends.py"),
    # across nodes (findings/drift.py)
    Code("node-drift", (ERR,), "(--all-nodes) nodes disagree on a Service's endpoints", "findings/drift.py"),
    # iptables mode: version skew (modes/iptables/checks.py)
    Code("hidden-port-match", (WARN,), "entry rules printed without their --dport by an iptables older than the writer; counters or the kernel view prove the match", "modes/iptables/checks.py"),
    Code("port-match-missing", (ERR,), "the kernel rule has no port either (a save/restore round trip with an old iptables)", "modes/iptables/checks.py"),
    Code("hidden-mark-match", (WARN,), "a RETURN/ACCEPT rule printed without its -m mark", "modes/iptables/checks.py"),
    Code("prefix-shown-as-host", (WARN,), "/8-/24 prefixes printed as /32 by iptables < 1.8.7", "modes/iptables/checks.py"),
    Code("table-incompatible", (WARN, INFO), "the reader could not list a table or a chain, or stopped at a rule it cannot parse (info: a nat chain asked for in the filter table)", "modes/iptables/checks.py"),
    # nftables mode (modes/nftables/checks.py)
    Code("no-endpoint-map-but-ready", (ERR,), "kube-proxy rejects a port (no-endpoint-services) while its slices have ready endpoints", "modes/nftables/checks.py"),
    Code("no-counters-nftables", (INFO,), "nftables mode has no counters; conntrack -L gives connection counts instead", "modes/nftables/checks.py"),
    Code("statement-not-read", (WARN,), "a rule on the path holds words the reader does not take for nft statements: what it does is not in the report", "modes/nftables/checks.py"),
    # IPVS mode (modes/ipvs/checks.py)
    Code("ipvs-weight-zero", (INFO, ERR), "real servers with weight 0 (terminating); an error when every one has", "modes/ipvs/checks.py"),
    Code("ipvs-deprecated", (INFO,), "IPVS mode is deprecated upstream", "modes/ipvs/checks.py"),
    Code("ipset-member-missing", (WARN, ERR), "kube-proxy's ipset (KUBE-CLUSTER-IP, KUBE-NODE-PORT-TCP, …) lacks a way in IPVS serves, or what the Service's policies put in one (…-LOCAL, KUBE-LOAD-BALANCER-FW/-SOURCE-CIDR, KUBE-HEALTH-CHECK-NODE-PORT); an error where KUBE-IPVS-FILTER rejects it, or where loadBalancerSourceRanges is only 0.0.0.0/0 (ipset holds no /0: every outside source dropped)", "modes/ipvs/checks.py"),
)

CODES: dict[str, Code] = {c.code: c for c in _ALL}
