"""Test-only generator of the `ipvsadm -Ln` listing kube-proxy's IPVS mode gives a node: one virtual server per
Service on its cluster IP (10.96.0.0/16), its endpoints' real servers under it, as ipvsadm prints them.

    text = listing(10_000, 10)   # bench/bench_ipvs.py's listing; the Service s is on service_address(s):80
"""

from __future__ import annotations

HEAD = ("IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n"
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n")


def service_address(s: int) -> str:
    return f"10.96.{s // 250}.{s % 250 + 1}"


def listing(services: int, endpoints: int) -> str:
    lines = [HEAD.rstrip("\n")]
    for s in range(services):
        lines.append(f"TCP  {service_address(s)}:80 rr")
        for e in range(endpoints):
            n = s * endpoints + e
            lines.append(f"  -> 10.{128 + n // 65536}.{n // 256 % 256}.{n % 256}:8080          Masq    1      0          0")
    return "\n".join(lines) + "\n"


# every set kube-proxy's IPVS mode creates (pkg/proxy/ipvs/proxier.go ipsetInfo), with its type
KUBE_PROXY_SETS = (
    ("KUBE-LOOP-BACK", "hash:ip,port,ip"), ("KUBE-CLUSTER-IP", "hash:ip,port"), ("KUBE-EXTERNAL-IP", "hash:ip,port"),
    ("KUBE-EXTERNAL-IP-LOCAL", "hash:ip,port"), ("KUBE-LOAD-BALANCER", "hash:ip,port"), ("KUBE-LOAD-BALANCER-FW", "hash:ip,port"),
    ("KUBE-LOAD-BALANCER-LOCAL", "hash:ip,port"), ("KUBE-LOAD-BALANCER-SOURCE-IP", "hash:ip,port,ip"),
    ("KUBE-LOAD-BALANCER-SOURCE-CIDR", "hash:ip,port,net"), ("KUBE-NODE-PORT-TCP", "bitmap:port"),
    ("KUBE-NODE-PORT-LOCAL-TCP", "bitmap:port"), ("KUBE-NODE-PORT-UDP", "bitmap:port"), ("KUBE-NODE-PORT-LOCAL-UDP", "bitmap:port"),
    ("KUBE-NODE-PORT-SCTP-HASH", "hash:ip,port"), ("KUBE-NODE-PORT-LOCAL-SCTP-HASH", "hash:ip,port"),
    ("KUBE-HEALTH-CHECK-NODE-PORT", "bitmap:port"), ("KUBE-IPVS-IPS", "hash:ip"),
)


def create_set(name: str, kind: str) -> list[str]:
    """The `ipset create` a lab runs to make one of them as kube-proxy does (createSet: family, hashsize, maxelem)."""
    extra = ["range", "0-65535"] if kind.startswith("bitmap") else ["family", "inet", "hashsize", "1024", "maxelem", "65536"]
    return ["ipset", "-exist", "create", name, kind, *extra]


# kube-proxy's filter of new connections to kube-ipvs0's addresses (writeIptablesRules), as iptables-save -c prints it
IPVS_FILTER = """\
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-IPVS-FILTER - [0:0]
[0:0] -A INPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER
[0:0] -A KUBE-IPVS-FILTER -m set --match-set KUBE-LOAD-BALANCER dst,dst -j RETURN
[0:0] -A KUBE-IPVS-FILTER -m set --match-set KUBE-CLUSTER-IP dst,dst -j RETURN
[0:0] -A KUBE-IPVS-FILTER -m set --match-set KUBE-EXTERNAL-IP dst,dst -j RETURN
[0:0] -A KUBE-IPVS-FILTER -m set --match-set KUBE-EXTERNAL-IP-LOCAL dst,dst -j RETURN
[0:0] -A KUBE-IPVS-FILTER -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j RETURN
[0:0] -A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT --reject-with icmp-port-unreachable
COMMIT
"""
