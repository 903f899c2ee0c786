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
