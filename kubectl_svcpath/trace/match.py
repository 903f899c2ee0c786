"""Match semantics shared by the evaluators: addresses and prefixes, ports, marks.

Every function answers True, False, or None when the packet field is not known (a source
``outside`` the cluster, the node's address without --node-ip): the evaluator turns None
into a stated "unknown" fork, never into a guess.
"""

from __future__ import annotations

import ipaddress

PROTO_NAMES = {"6": "tcp", "17": "udp", "132": "sctp", "1": "icmp", "58": "ipv6-icmp"}


def in_prefix(addr: str | None, spec: str) -> bool | None:
    """``addr`` in ``spec`` (an address, ``a/len`` or ``a/netmask``); None when ``addr`` is unknown or unreadable."""
    if addr is None:
        return None
    try:
        net = ipaddress.ip_network(spec.strip(), strict=False)
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return None
    if ip.version != net.version:
        return False
    return ip in net


def outside_excludes(role: str, spec: str) -> str | None:
    """Why a client outside the cluster (``--trace outside``, no address) is surely not in ``spec``,
    given the role kube-proxy gave the rule that tests it; None when its address decides (then the trace forks).

    ``role``: "pod-range" (kube-proxy's local-traffic match: ``! -s CLUSTER-CIDR -j KUBE-MARK-MASQ`` on a
    cluster IP, ``-s CLUSTER-CIDR -j KUBE-SVC-`` for pod traffic to an external address, and nftables'
    ``ip saddr != CIDR jump mark-for-masquerade`` / ``short-circuit pod traffic``), "endpoint" (an endpoint
    chain's hairpin ``-s ENDPOINT -j KUBE-MARK-MASQ``), "" (any other rule: a loadBalancerSourceRanges
    allow-list, a user's rule: the client's address decides)."""
    try:
        net = ipaddress.ip_network(spec.strip(), strict=False)
    except ValueError:
        return None
    if net.subnet_of(_LOOPBACK[net.version]):  # type: ignore[arg-type]
        return "loopback"
    if role == "pod-range":
        return "the pod range kube-proxy's rules give the cluster"
    if role == "endpoint" and net.num_addresses == 1:
        return ENDPOINT_ADDRESS
    return None


ENDPOINT_ADDRESS = "the endpoint's own address"


_LOOPBACK = {4: ipaddress.ip_network("127.0.0.0/8"), 6: ipaddress.ip_network("::1/128")}


def negatable(value: str) -> tuple[bool, str]:
    """``"!10.0.0.0/8"`` -> (True, "10.0.0.0/8")."""
    v = value.strip()
    if v.startswith("!"):
        return True, v[1:].strip()
    return False, v


def apply_negation(result: bool | None, negated: bool) -> bool | None:
    if result is None:
        return None
    return not result if negated else result


def port_in(port: int | None, spec: str) -> bool | None:
    """iptables port specs: ``80``, ``80:90``, ``80,443,8000:8080`` (multiport); nft ``80-90``."""
    if port is None:
        return None
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        sep = ":" if ":" in part else ("-" if "-" in part else None)
        if sep:
            lo, _, hi = part.partition(sep)
            try:
                if int(lo or 0) <= port <= int(hi or 65535):
                    return True
            except ValueError:
                return None
        else:
            try:
                if int(part) == port:
                    return True
            except ValueError:
                return None  # a service name (http): not decidable here
    return False


def protocol_name(value: str | int | None) -> str | None:
    if value is None:
        return None
    s = str(value).strip().lower()
    return PROTO_NAMES.get(s, s)


def parse_int(text: str) -> int | None:
    try:
        return int(text, 0)
    except (TypeError, ValueError):
        return None


def mark_value_mask(spec: str) -> tuple[int, int] | None:
    """``0x4000/0x4000`` -> (0x4000, 0x4000); ``0x4000`` -> (0x4000, 0xffffffff)."""
    value, _, mask = spec.partition("/")
    v = parse_int(value)
    m = parse_int(mask) if mask else 0xFFFFFFFF
    if v is None or m is None:
        return None
    return v, m
