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


_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_B32_PAIRS = [a + b for a in _B32 for b in _B32]  # 10 bits -> 2 characters


def _hash16(text: str) -> str:
    """base32(sha256(text))[:16]: exactly the digest's first 80 bits, read 10 bits at a time.

    (An audit hashes every port and endpoint of the table: this takes half the time of
    base64.b32encode of those 10 bytes, which is written in Python.)
    """
    n = int.from_bytes(hashlib.sha256(text.encode()).digest()[:10], "big")
    t = _B32_PAIRS
    return (t[n >> 70] + t[(n >> 60) & 1023] + t[(n >> 50) & 1023] + t[(n >> 40) & 1023]
            + t[(n >> 30) & 1023] + t[(n >> 20) & 1023] + t[(n >> 10) & 1023] + t[n & 1023])


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


# --- nftables mode -------------------------------------------------------------

def _hash_and_truncate(name: str) -> str:
    b8 = base64.b32encode(hashlib.sha256(name.encode()).digest()).decode()[:8]
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
