"""kube-proxy's own naming: chain and object names derived from a service port.

Mirrors pkg/proxy/iptables/proxier.go (portProtoHash, servicePortEndpointChainName) and
pkg/proxy/nftables/proxier.go (hashAndTruncate); see shared/docs/kube-proxy-rules.md §1.
Correlating by these names, not by comments, is what makes the tool trust-worthy: comments
are dropped in large-cluster mode and can say anything.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress

SERVICE_CHAIN_PREFIXES = ("KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-", "KUBE-XLB-", "KUBE-SEP-")


def service_port_name(namespace: str, name: str, port_name: str, legacy_colon: bool = False) -> str:
    """``ns/name:port`` as ``proxy.ServicePortName.String``; unnamed ports have no colon (v1.19+)."""
    if port_name or legacy_colon:
        return f"{namespace}/{name}:{port_name}"
    return f"{namespace}/{name}"


# every pair of base32 characters (10 bits), for _hash16
_B32_PAIRS = [a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"]


def _hash16(text: str) -> str:
    """The first 16 characters of base32(sha256(text)): exactly the digest's first 80 bits.

    Written out 10 bits at a time: base64.b32encode is pure Python and was most of the time a
    Service with 10^5 endpoints took (2 x 10^5 chain names); tests check it against b32encode.
    """
    n = int.from_bytes(hashlib.sha256(text.encode()).digest()[:10], "big")
    p = _B32_PAIRS  # (unrolled: a live --all hashes 10^5 endpoints; the loop and join were 60% of the time)
    return (p[n >> 70] + p[n >> 60 & 1023] + p[n >> 50 & 1023] + p[n >> 40 & 1023]
            + p[n >> 30 & 1023] + p[n >> 20 & 1023] + p[n >> 10 & 1023] + p[n & 1023])


def port_proto_hash(spn: str, protocol: str) -> str:
    return _hash16(spn + protocol.lower())


def join_host_port(ip: str, port: int | str) -> str:
    """``net.JoinHostPort``: IPv6 addresses in brackets."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def service_chains(spn: str, protocol: str) -> dict[str, str]:
    """All per-service-port chain names kube-proxy may create, by role."""
    h = port_proto_hash(spn, protocol)
    return {
        "svc": f"KUBE-SVC-{h}",
        "svl": f"KUBE-SVL-{h}",
        "ext": f"KUBE-EXT-{h}",
        "fw": f"KUBE-FW-{h}",
        "xlb": f"KUBE-XLB-{h}",
    }


def endpoint_chain(spn: str, protocol: str, ip: str, port: int | str) -> str:
    return "KUBE-SEP-" + _hash16(spn + protocol.lower() + join_host_port(ip, port))


def endpoint_chains(spn: str, protocol: str, endpoints: list[tuple[str, int | str]]) -> list[str]:
    """endpoint_chain() of each (ip, port), in one call (a live --all names 10^5 endpoints' chains)."""
    head = spn + protocol.lower()
    return ["KUBE-SEP-" + _hash16(head + join_host_port(ip, port)) for ip, port in endpoints]


# --- nftables mode -------------------------------------------------------------

def _hash_and_truncate(name: str) -> str:
    b8 = base64.b32encode(hashlib.sha256(name.encode()).digest()[:5]).decode()  # 8 characters: 5 bytes
    full = f"{b8}-{name}"
    if len(full) > 240:
        full = full[:237] + "..."
    return full


def nft_service_base(namespace: str, name: str, protocol: str, port_name: str) -> str:
    return _hash_and_truncate(f"{namespace}/{name}/{protocol.lower()}/{port_name}")


def nft_endpoint_base(namespace: str, name: str, protocol: str, port_name: str, ip: str, port: int | str) -> str:
    ip_part = ip.replace(":", ".")
    return _hash_and_truncate(f"{namespace}/{name}/{protocol.lower()}/{port_name}__{ip_part}/{port}")


def nft_service_chains(namespace: str, name: str, protocol: str, port_name: str) -> dict[str, str]:
    base = nft_service_base(namespace, name, protocol, port_name)
    return {
        "svc": f"service-{base}",
        "svl": f"local-{base}",
        "ext": f"external-{base}",
        "fw": f"firewall-{base}",
    }


def ip_family(ip: str) -> int:
    try:
        return ipaddress.ip_address(ip).version
    except ValueError:
        return 4
