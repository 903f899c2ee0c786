"""kube-proxy's rule comments, in every form it has written since ~1.10, and the name they carry.

A comment names a service port (``ns/name:port``; ``ns/name:`` for an unnamed port before
1.19, ``ns/name`` since). Comments are untrusted text, so a name read from one is believed only
when the chain the rule jumps to (or the rule's own chain) is the one kube-proxy derives from
that name (kubeproxy.service_chains / endpoint_chain): a wrong or foreign comment cannot invent
a Service.

Forms (pkg/proxy/iptables/proxier.go over the releases):
  "SPN cluster IP" | "SPN external IP" | "SPN loadbalancer IP"        KUBE-SERVICES, KUBE-SVC masquerade, KUBE-FW
  "SPN"                                                               KUBE-NODEPORTS, KUBE-SEP, SVC -> SEP before 1.24
  "SPN -> IP:PORT"                                                    SVC/SVL -> SEP since 1.24
  "SPN has no endpoints" | "SPN has no local endpoints"               filter REJECT/DROP; KUBE-XLB -> KUBE-MARK-DROP before 1.24
  "Balancing rule N for SPN"                                          KUBE-XLB -> SEP before 1.24
  "masquerade LOCAL traffic for SPN LB IP", "route LOCAL traffic for SPN LB IP to service chain"   KUBE-XLB before 1.24
  "masquerade traffic for SPN external destinations", "pod traffic for …", "masquerade LOCAL traffic for …",
  "route LOCAL traffic for …"                                        KUBE-EXT since 1.24
  "other traffic to SPN will be dropped by KUBE-PROXY-FIREWALL"        KUBE-FW since 1.27
  "SPN health check node port"                                        filter KUBE-NODEPORTS
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kubectl_svcpath import kubeproxy

_SPN = r"(?P<spn>[^\s/:]+/[^\s/:]+(?::[^\s]*)?)"
_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((kind, re.compile(rx)) for kind, rx in (
    ("cluster IP", rf"^{_SPN} cluster IP$"),
    ("external IP", rf"^{_SPN} external IP$"),
    ("loadbalancer IP", rf"^{_SPN} loadbalancer IP$"),
    ("endpoint", rf"^{_SPN} -> (?P<ep>\S+)$"),
    ("no endpoints", rf"^{_SPN} has no endpoints$"),
    ("no local endpoints", rf"^{_SPN} has no local endpoints$"),
    ("balancing", rf"^Balancing rule (?P<n>\d+) for {_SPN}$"),
    ("lb local", rf"^(?:masquerade|route) LOCAL traffic for {_SPN} LB IP(?: to service chain)?$"),
    ("external", rf"^(?:masquerade|pod|masquerade LOCAL|route LOCAL) traffic for {_SPN} external destinations$"),
    ("firewall", rf"^other traffic to {_SPN} will be dropped by KUBE-PROXY-FIREWALL$"),
    ("health check", rf"^{_SPN} health check node port$"),
    ("name", rf"^{_SPN}$"),
))
_PROTOCOLS = ("tcp", "udp", "sctp")


@dataclass(frozen=True, slots=True)
class Named:
    """What a comment says: the service port it names and in which form."""

    spn: str
    kind: str  # one of the _FORMS kinds
    endpoint: str | None = None  # "IP:PORT" of an "SPN -> IP:PORT" comment

    @property
    def namespace(self) -> str:
        return self.spn.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.spn.split("/", 1)[1].split(":", 1)[0]

    @property
    def port_name(self) -> str:
        rest = self.spn.split("/", 1)[1]
        return rest.split(":", 1)[1] if ":" in rest else ""

    @property
    def legacy_colon(self) -> bool:
        """``ns/name:`` (an unnamed port as kube-proxy before 1.19 wrote it)."""
        return self.spn.endswith(":")


def read(comment: str | None) -> Named | None:
    """The service port a kube-proxy comment names, or None for any other comment."""
    if not comment or len(comment) > 600:
        return None
    for kind, rx in _FORMS:
        m = rx.match(comment)
        if m:
            return Named(m.group("spn"), kind, m.groupdict().get("ep"))
    return None


def protocols(protocol: str | None) -> tuple[str, ...]:
    """Protocols to try when hashing: the rule's own first (``-p tcp``), then the others."""
    got = _ORDERS.get(protocol)  # (asked for every rule of a 10^4-Service table: a few values, worked out once)
    if got is None:
        p = (protocol or "").lstrip("!").lower()
        got = ((p,) if p in _PROTOCOLS else ()) + tuple(x for x in _PROTOCOLS if x != p)
        if len(_ORDERS) < 64:  # (a rule's protocol is untrusted text: the memo stays small)
            _ORDERS[protocol] = got
    return got


_ORDERS: dict[str | None, tuple[str, ...]] = {}


def service_chain_of(spn: str, chain: str, protocol: str | None) -> str | None:
    """The protocol for which ``chain`` is one of kube-proxy's chains of ``spn`` (None: it is not)."""
    if not chain.startswith(("KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-", "KUBE-XLB-")):
        return None
    suffix = chain[8:] if chain.startswith("KUBE-FW-") else chain[9:]  # (the hash service_chains() appends)
    for p in protocols(protocol):
        if suffix == kubeproxy.port_proto_hash(spn, p):
            return p
    return None


def endpoint_chain_of(spn: str, chain: str, protocol: str | None, endpoint: str | None) -> str | None:
    """The protocol for which ``chain`` is the KUBE-SEP chain of ``spn`` and ``endpoint`` (IP:PORT)."""
    if not endpoint or not chain.startswith("KUBE-SEP-"):
        return None
    host, _, port = endpoint.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        return None
    for p in protocols(protocol):
        if kubeproxy.endpoint_chain(spn, p, host, port) == chain:
            return p
    return None


def verify(named: Named, chains: tuple[str | None, ...], protocol: str | None, endpoint: str | None = None) -> str | None:
    """The protocol for which one of ``chains`` (the rule's target, its own chain) derives from the named port."""
    for chain in chains:
        if not chain:
            continue
        p = service_chain_of(named.spn, chain, protocol) or endpoint_chain_of(named.spn, chain, protocol, endpoint or named.endpoint)
        if p:
            return p
    return None


def unwrap(comment: str, chains: tuple[str | None, ...], protocol: str | None, endpoint: str | None = None) -> str | None:
    """A comment a terminal soft-wrapped when it was copied (``defau lt/hello-service:port-v1 cluster IP``).

    Spaces are taken out one at a time (then two at a time) until the comment names a port
    whose chain is one of ``chains``; None when no such reading exists. The hash check is what
    makes this safe: a repaired name must be the one kube-proxy hashed into the chain name.
    """
    if " " not in comment or len(comment) > 200:
        return None
    named = read(comment)
    if named is not None and verify(named, chains, protocol, endpoint):
        return None  # already reads
    spaces = [i for i, ch in enumerate(comment) if ch == " "]
    candidates = [comment[:i] + comment[i + 1:] for i in spaces]
    candidates += [comment[:i] + comment[i + 1:j] + comment[j + 1:] for k, i in enumerate(spaces) for j in spaces[k + 1:]][:400]
    for text in candidates:
        named = read(text)
        if named is not None and verify(named, chains, protocol, endpoint):
            return text
    return None
