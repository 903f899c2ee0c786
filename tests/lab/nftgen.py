"""Test-only generator of kube-proxy's nftables-mode table, as kube-proxy writes it (nft transaction).

Follows pkg/proxy/nftables/proxier.go (``setupNFTables``, ``syncProxyRules``,
``writeServiceToEndpointRules``; shared/docs/kube-proxy-rules.md §3) and the expected text of
kube-proxy's own TestOverallNFTablesRules: the same chain, map and set names
(``kubectl_svcpath.kubeproxy``), map elements, numgen vmaps and the newer base chains
(``filter-*-pre-dnat``). ``old_base_chains=True`` writes the v1.31/32 ones (``filter-prerouting``,
``filter-output-post-dnat``) instead. Checked against the upstream text by test_nft_lab.py.
``direct_dnat=True`` writes the v1.36 layout seen in users' listings (kube-proxy v1.36.2 on a
Raspberry Pi; tests/unit/modes/nftables/test_nft_direct_dnat.py): no endpoint chains for a Service
without affinity, its policy chain DNATs itself (``dnat ip addr . port to numgen random mod N map
{ i : ip . port }``), hairpin traffic masqueraded through the ``hairpin-connections`` set and
traffic to a cluster IP from outside the pod network marked in ``services``.

    spec = NftService("default", "hello-service", "10.101.173.15",
                      [NftPort("port-v1", 39090, 9090, node_port=30725)], endpoints=["192.168.189.15"])
    text = generate([spec], node_ips=["172.18.0.2"])         # Lab.load_nft(node, text)
    big = generate_cluster(10_000, 3)                        # the benchmark table
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from kubectl_svcpath.kubeproxy import nft_endpoint_base, nft_service_chains


@dataclass
class NftPort:
    name: str  # "" = unnamed
    port: int
    target_port: int
    protocol: str = "TCP"
    node_port: int | None = None


@dataclass
class NftService:
    namespace: str
    name: str
    cluster_ip: str
    ports: list[NftPort]
    endpoints: list[str] = field(default_factory=list)  # programmed (ready) endpoint IPs, all ports
    local_endpoints: list[str] | None = None  # for Local policies; None = all of them are local
    external_ips: list[str] = field(default_factory=list)
    lb_ips: list[str] = field(default_factory=list)
    source_ranges: list[str] = field(default_factory=list)
    etp_local: bool = False
    itp_local: bool = False
    affinity_seconds: int | None = None


BASE_NEW = [
    ("filter-prerouting-pre-dnat", "filter", "prerouting", "-110"),
    ("filter-output-pre-dnat", "filter", "output", "-110"),
    ("filter-forward", "filter", "forward", "0"),
    ("filter-input", "filter", "input", "0"),
    ("filter-output", "filter", "output", "0"),
    ("nat-output", "nat", "output", "-100"),
    ("nat-postrouting", "nat", "postrouting", "100"),
    ("nat-prerouting", "nat", "prerouting", "-100"),
]
BASE_OLD = [
    ("filter-prerouting", "filter", "prerouting", "-110"),
    ("filter-input", "filter", "input", "-110"),
    ("filter-forward", "filter", "forward", "-110"),
    ("filter-output", "filter", "output", "-110"),
    ("filter-output-post-dnat", "filter", "output", "-90"),
    ("nat-output", "nat", "output", "-100"),
    ("nat-postrouting", "nat", "postrouting", "100"),
    ("nat-prerouting", "nat", "prerouting", "-100"),
]


def _spn_comment(svc: NftService, port: NftPort) -> str:
    return f"{svc.namespace}/{svc.name}:{port.name}" if port.name else f"{svc.namespace}/{svc.name}"


def generate(services: list[NftService], node_ips: list[str] = ("192.168.0.2",), pod_cidr: str = "10.0.0.0/8",
             service_cidr: str = "172.30.0.0/16", mark: int = 0x4000, old_base_chains: bool = False,
             masq_dport: bool = True, direct_dnat: bool = False) -> str:
    """The whole table as an nft transaction. ``masq_dport=False``: the newest masquerade rule (no port match)."""
    t = "ip kube-proxy"
    out: list[str] = [
        f'add table {t} {{ comment "rules for kube-proxy" ; }}',
        f'add set {t} cluster-ips {{ type ipv4_addr ; comment "Active ClusterIPs" ; }}',
        f'add set {t} nodeport-ips {{ type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }}',
        f'add map {t} firewall-ips {{ type ipv4_addr . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }}',
        f'add map {t} no-endpoint-nodeports {{ type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }}',
        f'add map {t} no-endpoint-services {{ type ipv4_addr . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }}',
        f'add map {t} service-ips {{ type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }}',
        f'add map {t} service-nodeports {{ type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }}',
    ]
    if direct_dnat:
        out.append(f'add set {t} hairpin-connections {{ type ipv4_addr . ipv4_addr . inet_proto . inet_service ; comment "service hairpin connections" ; }}')
    for name in ("cluster-ips-check", "firewall-check", "mark-for-masquerade", "masquerading",
                 "nodeport-endpoints-check", "services", "service-endpoints-check"):
        out.append(f"add chain {t} {name}")
    out.append(f'add chain {t} reject-chain {{ comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }}')
    for name, ctype, hook, prio in (BASE_OLD if old_base_chains else BASE_NEW):
        out.append(f"add chain {t} {name} {{ type {ctype} hook {hook} priority {prio} ; }}")
    pre, out_pre = ("filter-prerouting", "filter-output") if old_base_chains else ("filter-prerouting-pre-dnat", "filter-output-pre-dnat")
    post_dnat = "filter-output-post-dnat" if old_base_chains else "filter-output"
    out += [
        f'add rule {t} cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
        f'add rule {t} cluster-ips-check ip daddr {{ {service_cidr} }} drop comment "Drop traffic to unallocated ClusterIPs"',
        f"add rule {t} {pre} ct state new jump firewall-check",
        f"add rule {t} filter-forward ct state new jump service-endpoints-check",
        f"add rule {t} filter-forward ct state new jump cluster-ips-check",
        f"add rule {t} filter-input ct state new jump nodeport-endpoints-check",
        f"add rule {t} filter-input ct state new jump service-endpoints-check",
        f"add rule {t} filter-output ct state new jump service-endpoints-check",
        f"add rule {t} {out_pre} ct state new jump firewall-check",
        f"add rule {t} {post_dnat} ct state new jump cluster-ips-check",
        f"add rule {t} firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips",
        f"add rule {t} mark-for-masquerade mark set mark or {mark:#x}",
        *([f"add rule {t} masquerading mark and {mark:#x} != 0 mark set mark xor {mark:#x} masquerade fully-random",
           f"add rule {t} masquerading ct status dnat ip saddr . ip daddr . meta l4proto . th dport @hairpin-connections masquerade fully-random"]
          if direct_dnat else
          [f"add rule {t} masquerading mark and {mark:#x} == 0 return",
           f"add rule {t} masquerading mark set mark xor {mark:#x}",
           f"add rule {t} masquerading masquerade fully-random"]),
        f"add rule {t} nat-output jump services",
        f"add rule {t} nat-postrouting jump masquerading",
        f"add rule {t} nat-prerouting jump services",
        f"add rule {t} nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports",
        f"add rule {t} reject-chain reject",
        *([f'add rule {t} services ip daddr @cluster-ips ip saddr != {pod_cidr} mark set mark or {mark:#x} comment "masquerade clusterIP traffic from outside cluster"']
          if direct_dnat else []),
        f"add rule {t} services ip daddr . meta l4proto . th dport vmap @service-ips",
        f"add rule {t} services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports",
        f"add rule {t} service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services",
    ]
    for ip in node_ips:
        out.append(f"add element {t} nodeport-ips {{ {ip} }}")
    for svc in services:
        out += _service(t, svc, pod_cidr, masq_dport, direct_dnat and not svc.affinity_seconds)
    return "\n".join(out) + "\n"


def _service(t: str, svc: NftService, pod_cidr: str, masq_dport: bool, direct: bool = False) -> list[str]:
    out: list[str] = [f"add element {t} cluster-ips {{ {svc.cluster_ip} }}"]
    local = svc.endpoints if svc.local_endpoints is None else svc.local_endpoints
    for port in svc.ports:
        proto = port.protocol.lower()
        names = nft_service_chains(svc.namespace, svc.name, port.protocol, port.name)
        comment = _spn_comment(svc, port)
        has_eps = bool(svc.endpoints)
        internal_chain = names["svl"] if svc.itp_local else names["svc"]
        has_internal = has_eps and (not svc.itp_local or bool(local))
        has_external = has_eps and (not svc.etp_local or bool(local))
        external = bool(svc.external_ips or svc.lb_ips or port.node_port)
        uses_cluster = has_eps and (not svc.itp_local or (external and not svc.etp_local))
        uses_local = bool(local) and (svc.itp_local or svc.etp_local)
        reject = "goto reject-chain"

        def ep_chain(ip: str) -> str:
            return "endpoint-" + nft_endpoint_base(svc.namespace, svc.name, port.protocol, port.name, ip, port.target_port)

        def affinity_set(ip: str) -> str:
            return "affinity-" + nft_endpoint_base(svc.namespace, svc.name, port.protocol, port.name, ip, port.target_port)

        for ip in (svc.endpoints if has_eps and not direct else []):
            out.append(f"add chain {t} {ep_chain(ip)}")
        for ip in (svc.endpoints if has_eps and direct else []):
            out.append(f"add element {t} hairpin-connections {{ {ip} . {ip} . {proto} . {port.target_port} }}")
        if has_eps and svc.affinity_seconds:
            for ip in svc.endpoints:
                out.append(f"add set {t} {affinity_set(ip)} {{ type ipv4_addr ; flags dynamic,timeout ; timeout {svc.affinity_seconds}s ; }}")

        def policy_chain(chain: str, eps: list[str]) -> None:
            out.append(f"add chain {t} {chain}")
            if direct:
                targets = " , ".join(f"{i} : {ip} . {port.target_port}" for i, ip in enumerate(eps))
                out.append(f"add rule {t} {chain} meta l4proto {proto} dnat ip addr . port to numgen random mod {len(eps)} map {{ {targets} }}")
                return
            if chain == internal_chain:
                dport = f" {proto} dport {port.port}" if masq_dport else ""
                out.append(f"add rule {t} {chain} ip daddr {svc.cluster_ip}{dport} ip saddr != {pod_cidr} jump mark-for-masquerade")
            if svc.affinity_seconds:
                for ip in eps:
                    out.append(f"add rule {t} {chain} ip saddr @{affinity_set(ip)} goto {ep_chain(ip)}")
            vmap = " , ".join(f"{i} : goto {ep_chain(ip)}" for i, ip in enumerate(eps))
            out.append(f"add rule {t} {chain} numgen random mod {len(eps)} vmap {{ {vmap} }}")

        if has_eps and uses_cluster:
            policy_chain(names["svc"], svc.endpoints)
        if uses_local:
            policy_chain(names["svl"], local)
        if has_eps and external:
            ext = names["ext"]
            out.append(f"add chain {t} {ext}")
            if not svc.etp_local:
                out.append(f"add rule {t} {ext} jump mark-for-masquerade")
            else:
                out.append(f'add rule {t} {ext} ip saddr {pod_cidr} goto {names["svc"]} comment "short-circuit pod traffic"')
                out.append(f'add rule {t} {ext} fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"')
                out.append(f'add rule {t} {ext} fib saddr type local goto {names["svc"]} comment "short-circuit local traffic"')
            if has_external:
                out.append(f"add rule {t} {ext} goto {names['svl'] if svc.etp_local else names['svc']}")
        for ip in (svc.endpoints if has_eps and not direct else []):
            chain = ep_chain(ip)
            out.append(f"add rule {t} {chain} ip saddr {ip} jump mark-for-masquerade")
            if svc.affinity_seconds:
                out.append(f"add rule {t} {chain} update @{affinity_set(ip)} {{ ip saddr }}")
            out.append(f"add rule {t} {chain} meta l4proto {proto} dnat to {ip}:{port.target_port}")
        if svc.lb_ips and svc.source_ranges:
            fw = names["fw"]
            out.append(f"add chain {t} {fw}")
            out.append(f"add rule {t} {fw} ip saddr != {{ {', '.join(svc.source_ranges)} }} drop")
        key = f"{proto} . {port.port}"
        if has_internal:
            out.append(f"add element {t} service-ips {{ {svc.cluster_ip} . {key} : goto {internal_chain} }}")
        else:
            verdict = reject if not has_eps else "drop"
            out.append(f'add element {t} no-endpoint-services {{ {svc.cluster_ip} . {key} comment "{comment}" : {verdict} }}')
        ext_verdict = reject if not has_eps else "drop"
        for ip in svc.external_ips + svc.lb_ips:
            if has_eps:
                out.append(f"add element {t} service-ips {{ {ip} . {key} : goto {names['ext']} }}")
            if not has_external:
                out.append(f'add element {t} no-endpoint-services {{ {ip} . {key} comment "{comment}" : {ext_verdict} }}')
        if svc.lb_ips and svc.source_ranges:
            for ip in svc.lb_ips:
                out.append(f"add element {t} firewall-ips {{ {ip} . {key} : goto {names['fw']} }}")
        if port.node_port:
            if has_eps:
                out.append(f"add element {t} service-nodeports {{ {proto} . {port.node_port} : goto {names['ext']} }}")
            if not has_external:
                out.append(f'add element {t} no-endpoint-nodeports {{ {proto} . {port.node_port} comment "{comment}" : {ext_verdict} }}')
    return out


def generate_cluster(n_services: int, endpoints_per_service: int, node_port_every: int = 10) -> tuple[str, list[NftService]]:
    """A big table: n Services with one TCP port each, every tenth a NodePort (the benchmark)."""
    base = int(ipaddress.ip_address("172.30.0.0"))
    pod_base = int(ipaddress.ip_address("10.128.0.0"))
    services: list[NftService] = []
    for i in range(n_services):
        cip = str(ipaddress.ip_address(base + 10 + i))
        eps = [str(ipaddress.ip_address(pod_base + i * endpoints_per_service + j + 2)) for j in range(endpoints_per_service)]
        node_port = 30000 + (i // node_port_every) if i % node_port_every == 0 and i // node_port_every < 2768 else None
        services.append(NftService(f"ns{i % 50}", f"svc{i}", cip, [NftPort("http", 80, 8080, node_port=node_port)], eps))
    return generate(services), services
