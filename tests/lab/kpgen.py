"""Test-only generator of kube-proxy iptables-mode rules, as kube-proxy hands them to iptables-restore.

Follows shared/docs/kube-proxy-rules.md §2.2 (kube-proxy ``syncProxyRules`` and
``writeServiceToEndpointRules``) rule for rule: same chain names (``kubectl_svcpath.kubeproxy``),
same argument order, comments quoted only when they contain a space, probabilities ``%0.10f`` of
1/(n-i), no nat rules at all for a port without endpoints (only the filter REJECT/DROP), comments
dropped from SEP and SVC->SEP rules in large-cluster mode (> 1000 endpoints). Checked against
shared/examples/hello-service/kube-proxy-restore-input.txt and the upstream TestOverallIPTablesRules
text by tests/live/test_kpgen.py.

    spec = ServiceSpec("default", "web", "10.96.0.10", [PortSpec("http", 80, 8080, node_port=30080)],
                       endpoints=["10.244.1.5", "10.244.2.7"], type="NodePort")
    text = generate([spec], ProxyConfig(jumps=True))     # load with Lab.load_iptables(node, text)
    objs = api_objects(spec, node_of={"10.244.1.5": "cp01"})   # Service + EndpointSlice JSON
    big = generate_cluster(10_000, 10)                   # the benchmark dump

``ProxyConfig(jumps=True)`` also writes the jumps from the built-in chains (PREROUTING/OUTPUT/…),
which kube-proxy ensures separately; a lab namespace needs them for traffic to reach KUBE-SERVICES.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import base64
import hashlib

from kubectl_svcpath.kubeproxy import join_host_port, service_port_name

LARGE_CLUSTER_ENDPOINTS = 1000  # largeClusterEndpointsThreshold


@dataclass
class PortSpec:
    name: str  # "" = unnamed port
    port: int
    target_port: int  # the endpoint port (EndpointSlice port)
    protocol: str = "TCP"
    node_port: int | None = None


@dataclass
class ServiceSpec:
    namespace: str
    name: str
    cluster_ip: str
    ports: list[PortSpec]
    # endpoint IPs kube-proxy programs (ready ones), in its order; the same for every port
    endpoints: list[str] = field(default_factory=list)
    # endpoint IPs on this node (Local policies); None = every endpoint is local
    local_endpoints: set[str] | None = None
    type: str = "ClusterIP"  # "ClusterIP" | "NodePort" | "LoadBalancer"
    external_ips: list[str] = field(default_factory=list)
    lb_ips: list[str] = field(default_factory=list)
    source_ranges: list[str] = field(default_factory=list)
    external_traffic_policy: str = "Cluster"
    internal_traffic_policy: str = "Cluster"
    affinity_seconds: int | None = None  # ClientIP session affinity timeout
    health_check_node_port: int | None = None
    # endpoint IPs in the EndpointSlice that are not ready (api_objects only; kube-proxy skips them)
    not_ready: list[str] = field(default_factory=list)


@dataclass
class ProxyConfig:
    cluster_cidr: str | None = "10.0.0.0/8"  # the local-traffic detector ("! -s CIDR"); None = none
    masquerade_all: bool = False
    mark: str = "0x4000"
    random_fully: bool = False  # MASQUERADE --random-fully (iptables that support it)
    nfacct: bool = False  # nfacct matches (kube-proxy adds them when the kernel has nfacct)
    localhost_nodeports: bool = True  # IPv4 only
    large_cluster: bool | None = None  # None: decide like kube-proxy (> 1000 endpoints)
    jumps: bool = False  # also write the built-in chain jumps (lab use)
    filter_table: bool = True


def _hash16(text: str) -> str:
    # kube-proxy's base32(sha256(text))[:16]; 10 bytes encode to exactly 16 base32 characters, and
    # encoding only those is ~3x faster (the 10,000-Service benchmark dump hashes 110,000 names).
    # An independent copy of kubeproxy.py's naming, checked against it by test_kpgen.
    return base64.b32encode(hashlib.sha256(text.encode()).digest()[:10]).decode()


def service_chains(spn: str, protocol: str) -> dict[str, str]:
    h = _hash16(spn + protocol.lower())
    return {"svc": f"KUBE-SVC-{h}", "svl": f"KUBE-SVL-{h}", "ext": f"KUBE-EXT-{h}", "fw": f"KUBE-FW-{h}"}


def endpoint_chain(spn: str, protocol: str, ip: str, port: int | str) -> str:
    return "KUBE-SEP-" + _hash16(spn + protocol.lower() + join_host_port(ip, port))


def _ipv4(n: int) -> str:
    return f"{n >> 24 & 255}.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def _q(comment: str) -> str:
    """kube-proxy quotes a comment only when it has a space (it writes the quotes itself)."""
    return f'"{comment}"' if " " in comment else comment


class _Tables:
    def __init__(self) -> None:
        self.chains: dict[str, dict[str, None]] = {"filter": {}, "nat": {}}  # ordered set
        self.rules: dict[str, list[str]] = {"filter": [], "nat": []}

    def chain(self, table: str, name: str) -> None:
        self.chains[table][name] = None

    def rule(self, table: str, *parts: str) -> None:
        self.rules[table].append(" ".join(p for p in parts if p))


def _is_v6(ip: str) -> bool:
    return ":" in ip


def _write_service(t: _Tables, svc: ServiceSpec, cfg: ProxyConfig, large: bool) -> None:
    local = set(svc.endpoints) if svc.local_endpoints is None else set(svc.local_endpoints) & set(svc.endpoints)
    local_eps = [ip for ip in svc.endpoints if ip in local]
    itp_local = svc.internal_traffic_policy == "Local"
    etp_local = svc.external_traffic_policy == "Local" and svc.type in ("NodePort", "LoadBalancer")
    externally = bool(svc.external_ips or svc.lb_ips or any(p.node_port for p in svc.ports))
    v6 = _is_v6(svc.cluster_ip)

    def comment(text: str, drop_in_large: bool = False) -> str:
        return "" if (large and drop_in_large) else f"-m comment --comment {_q(text)}"

    for p in svc.ports:
        spn = service_port_name(svc.namespace, svc.name, p.name)
        proto = p.protocol.lower()
        names = service_chains(spn, p.protocol)
        svc_chain, svl_chain, ext_chain, fw_chain = names["svc"], names["svl"], names["ext"], names["fw"]
        has_eps = bool(svc.endpoints)
        has_internal = bool(local_eps) if itp_local else has_eps
        has_external = bool(local_eps) if etp_local else has_eps
        internal_chain = svl_chain if itp_local else svc_chain
        external_policy_chain = svl_chain if etp_local else svc_chain
        uses_fw = bool(svc.lb_ips and svc.source_ranges)
        uses_cluster = has_eps and (not itp_local or not etp_local and externally)
        uses_local = bool(local_eps) and (itp_local or etp_local)
        uses_ext = has_eps and externally
        no_ep_comment = f"{spn} has no endpoints" if not has_eps else f"{spn} has no local endpoints"
        int_target = "REJECT" if not has_eps else "DROP"
        ext_target = "REJECT" if not has_eps else "DROP"
        m = f"-m {proto} -p {proto}"

        # the cluster IP
        if has_internal:
            t.rule("nat", "-A KUBE-SERVICES", comment(f"{spn} cluster IP"), m, f"-d {svc.cluster_ip} --dport {p.port}",
                   f"-j {internal_chain}")
        else:
            t.rule("filter", "-A KUBE-SERVICES", comment(no_ep_comment), m, f"-d {svc.cluster_ip} --dport {p.port}",
                   f"-j {int_target}")
        for ip in svc.external_ips:
            if has_eps:
                t.rule("nat", "-A KUBE-SERVICES", comment(f"{spn} external IP"), m, f"-d {ip} --dport {p.port}",
                       f"-j {ext_chain}")
            if not has_external:
                t.rule("filter", "-A KUBE-EXTERNAL-SERVICES", comment(no_ep_comment), m, f"-d {ip} --dport {p.port}",
                       f"-j {ext_target}")
        for ip in svc.lb_ips:
            if has_eps:
                t.rule("nat", "-A KUBE-SERVICES", comment(f"{spn} loadbalancer IP"), m, f"-d {ip} --dport {p.port}",
                       f"-j {fw_chain if uses_fw else ext_chain}")
            if uses_fw:
                t.rule("filter", "-A KUBE-PROXY-FIREWALL", comment(f"{spn} traffic not accepted by {fw_chain}"), m,
                       f"-d {ip} --dport {p.port}", "-j DROP")
        if not has_external:
            for ip in svc.lb_ips:
                t.rule("filter", "-A KUBE-EXTERNAL-SERVICES", comment(no_ep_comment), m, f"-d {ip} --dport {p.port}",
                       f"-j {ext_target}")
        if p.node_port:
            if has_eps:
                if cfg.localhost_nodeports and cfg.nfacct and not v6:
                    # only written to count localhost node-port packets, i.e. when nfacct works
                    t.rule("nat", "-A KUBE-NODEPORTS", comment(spn), m, f"-d 127.0.0.0/8 --dport {p.node_port}",
                           "-m nfacct --nfacct-name localhost_nps_accepted_pkts", f"-j {ext_chain}")
                t.rule("nat", "-A KUBE-NODEPORTS", comment(spn), m, f"--dport {p.node_port}", f"-j {ext_chain}")
            if not has_external:
                t.rule("filter", "-A KUBE-EXTERNAL-SERVICES", comment(no_ep_comment), "-m addrtype --dst-type LOCAL", m,
                       f"--dport {p.node_port}", f"-j {ext_target}")
        if svc.health_check_node_port:
            t.rule("filter", "-A KUBE-NODEPORTS", comment(f"{spn} health check node port"), "-m tcp -p tcp",
                   f"--dport {svc.health_check_node_port}", "-j ACCEPT")

        # internal traffic: masquerade off-cluster sources
        if has_internal:
            args = [f"-A {internal_chain}", comment(f"{spn} cluster IP"), m, f"-d {svc.cluster_ip} --dport {p.port}"]
            if cfg.masquerade_all:
                t.rule("nat", *args, "-j KUBE-MARK-MASQ")
            elif cfg.cluster_cidr:
                t.rule("nat", *args, f"! -s {cfg.cluster_cidr}", "-j KUBE-MARK-MASQ")
        if uses_ext:
            t.chain("nat", ext_chain)
            if not etp_local:
                t.rule("nat", f"-A {ext_chain}", comment(f"masquerade traffic for {spn} external destinations"),
                       "-j KUBE-MARK-MASQ")
            else:
                if cfg.cluster_cidr:
                    t.rule("nat", f"-A {ext_chain}", comment(f"pod traffic for {spn} external destinations"),
                           f"-s {cfg.cluster_cidr}", f"-j {svc_chain}")
                t.rule("nat", f"-A {ext_chain}", comment(f"masquerade LOCAL traffic for {spn} external destinations"),
                       "-m addrtype --src-type LOCAL -j KUBE-MARK-MASQ")
                t.rule("nat", f"-A {ext_chain}", comment(f"route LOCAL traffic for {spn} external destinations"),
                       f"-m addrtype --src-type LOCAL -j {svc_chain}")
            if has_external:
                t.rule("nat", f"-A {ext_chain}", f"-j {external_policy_chain}")
        if uses_fw:
            t.chain("nat", fw_chain)
            for src in svc.source_ranges:
                t.rule("nat", f"-A {fw_chain}", comment(f"{spn} loadbalancer IP"), f"-s {src}", f"-j {ext_chain}")
            t.rule("nat", f"-A {fw_chain}", comment(f"other traffic to {spn} will be dropped by KUBE-PROXY-FIREWALL"))
        if uses_cluster:
            t.chain("nat", svc_chain)
            _write_endpoint_jumps(t, spn, p, svc, svc_chain, svc.endpoints, large, comment)
        if uses_local:
            t.chain("nat", svl_chain)
            _write_endpoint_jumps(t, spn, p, svc, svl_chain, local_eps, large, comment)
        reachable = svc.endpoints if uses_cluster else (local_eps if uses_local else [])
        for ip in reachable:  # allLocallyReachableEndpoints
            sep = endpoint_chain(spn, p.protocol, ip, p.target_port)
            t.chain("nat", sep)
            t.rule("nat", f"-A {sep}", comment(spn, drop_in_large=True), f"-s {ip}", "-j KUBE-MARK-MASQ")
            recent = f"-m recent --name {sep} --set" if svc.affinity_seconds else ""
            t.rule("nat", f"-A {sep}", comment(spn, drop_in_large=True), recent, m,
                   f"-j DNAT --to-destination {join_host_port(ip, p.target_port)}")


def _write_endpoint_jumps(t: _Tables, spn: str, p: PortSpec, svc: ServiceSpec, chain: str, eps: list[str],
                          large: bool, comment) -> None:
    seps = [(ip, endpoint_chain(spn, p.protocol, ip, p.target_port)) for ip in eps]
    if svc.affinity_seconds:
        for ip, sep in seps:
            t.rule("nat", f"-A {chain}", comment(f"{spn} -> {join_host_port(ip, p.target_port)}", drop_in_large=True),
                   f"-m recent --name {sep} --rcheck --seconds {svc.affinity_seconds} --reap -j {sep}")
    n = len(seps)
    for i, (ip, sep) in enumerate(seps):
        stat = f"-m statistic --mode random --probability {1.0 / (n - i):0.10f}" if i < n - 1 else ""
        t.rule("nat", f"-A {chain}", comment(f"{spn} -> {join_host_port(ip, p.target_port)}", drop_in_large=True),
               stat, f"-j {sep}")


_NAT_BUILTINS = ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING")
_FILTER_BUILTINS = ("INPUT", "FORWARD", "OUTPUT")


def generate(services: list[ServiceSpec], cfg: ProxyConfig | None = None) -> str:
    """iptables-restore input (filter then nat, like kube-proxy) for these Services on one node."""
    cfg = cfg or ProxyConfig()
    total_eps = sum(len(s.endpoints) * len(s.ports) for s in services)
    large = cfg.large_cluster if cfg.large_cluster is not None else total_eps > LARGE_CLUSTER_ENDPOINTS
    v6 = bool(services) and _is_v6(services[0].cluster_ip)
    t = _Tables()
    for name in ("KUBE-NODEPORTS", "KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-FIREWALL", "KUBE-FORWARD",
                 "KUBE-PROXY-FIREWALL"):
        t.chain("filter", name)
    for name in ("KUBE-NODEPORTS", "KUBE-SERVICES", "KUBE-MARK-MASQ", "KUBE-POSTROUTING"):
        t.chain("nat", name)
    if cfg.jumps:
        t.rule("filter", "-A INPUT -m conntrack --ctstate NEW -m comment --comment "
               '"kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES')
        t.rule("filter", '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS')
        t.rule("filter", "-A INPUT -m conntrack --ctstate NEW -m comment --comment "
               '"kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL')
        t.rule("filter", "-A INPUT -j KUBE-FIREWALL")
        t.rule("filter", "-A FORWARD -m conntrack --ctstate NEW -m comment --comment "
               '"kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES')
        t.rule("filter", "-A FORWARD -m conntrack --ctstate NEW -m comment --comment "
               '"kubernetes service portals" -j KUBE-SERVICES')
        t.rule("filter", '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD')
        t.rule("filter", "-A FORWARD -m conntrack --ctstate NEW -m comment --comment "
               '"kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL')
        t.rule("filter", "-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "
               '"kubernetes service portals" -j KUBE-SERVICES')
        t.rule("filter", "-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "
               '"kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL')
        t.rule("filter", "-A OUTPUT -j KUBE-FIREWALL")
        t.rule("nat", '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES')
        t.rule("nat", '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES')
        t.rule("nat", '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING')
    # fixed chains
    if cfg.localhost_nodeports and not v6:
        t.rule("filter", '-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" '
               "-d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP")
    nfacct = " -m nfacct --nfacct-name ct_state_invalid_dropped_pkts" if cfg.nfacct else ""
    t.rule("filter", f"-A KUBE-FORWARD -m conntrack --ctstate INVALID{nfacct} -j DROP")
    t.rule("filter", '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" '
           f"-m mark --mark {cfg.mark}/{cfg.mark} -j ACCEPT")
    t.rule("filter", '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" '
           "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
    t.rule("nat", f"-A KUBE-MARK-MASQ -j MARK --or-mark {cfg.mark}")
    t.rule("nat", f"-A KUBE-POSTROUTING -m mark ! --mark {cfg.mark}/{cfg.mark} -j RETURN")
    t.rule("nat", f"-A KUBE-POSTROUTING -j MARK --xor-mark {cfg.mark}")
    t.rule("nat", '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE'
           + (" --random-fully" if cfg.random_fully else ""))
    for svc in services:
        _write_service(t, svc, cfg, large)
    # the nodeports jump is always the last rule of KUBE-SERVICES
    local_dst = "! -d ::1/128" if v6 else "! -d 127.0.0.0/8"
    lo = "" if (cfg.localhost_nodeports and not v6) else f" {local_dst}"
    t.rule("nat", '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last '
           f'rule in this chain" -m addrtype --dst-type LOCAL{lo} -j KUBE-NODEPORTS')

    out: list[str] = []
    for table, builtins in (("filter", _FILTER_BUILTINS), ("nat", _NAT_BUILTINS)):
        if table == "filter" and not cfg.filter_table:
            continue
        out.append(f"*{table}")
        if cfg.jumps:
            out += [f":{b} ACCEPT [0:0]" for b in builtins]
        out += [f":{c} - [0:0]" for c in t.chains[table]]
        out += t.rules[table]
        out.append("COMMIT")
    return "\n".join(out) + "\n"


def cluster_services(n_services: int, n_endpoints: int) -> list[ServiceSpec]:
    """Deterministic Services for benchmarks: bench/svc-00000 … (every 10th a NodePort), port http 80->8080."""
    specs = []
    for i in range(n_services):
        cip = _ipv4((10 << 24 | 96 << 16) + 10 + i)  # 10.96.0.10 …
        eps = [_ipv4((10 << 24 | 128 << 16) + i * n_endpoints + j + 2) for j in range(n_endpoints)]  # 10.128.0.2 …
        node_port = 30000 + i % 2700 if i % 10 == 0 else None
        specs.append(ServiceSpec("bench", f"svc-{i:05d}", cip, [PortSpec("http", 80, 8080, node_port=node_port)],
                                 endpoints=eps, type="NodePort" if node_port else "ClusterIP"))
    return specs


def generate_cluster(n_services: int, n_endpoints: int, cfg: ProxyConfig | None = None) -> str:
    """A large node's rules (e.g. 10,000 Services x 10 endpoints) for the benchmarks."""
    return generate(cluster_services(n_services, n_endpoints), cfg)


def to_save_format(restore_text: str) -> str:
    """kube-proxy's restore input with ``[0:0]`` counters, as a stand-in when no netns is at hand.

    Not what iptables-save prints (no canonical reordering); load it into a lab and save it for that.
    """
    lines = []
    for line in restore_text.splitlines():
        lines.append(f"[0:0] {line}" if line.startswith("-A ") else line)
    return "\n".join(lines) + "\n"


def api_objects(svc: ServiceSpec, node_of: dict[str, str] | None = None, slice_suffix: str = "abcde") -> list[dict]:
    """The Service and its one EndpointSlice as the API server returns them (camelCase JSON)."""
    family = "IPv6" if _is_v6(svc.cluster_ip) else "IPv4"
    ports = []
    for p in svc.ports:
        port = {"name": p.name, "protocol": p.protocol, "port": p.port, "targetPort": p.target_port}
        if p.node_port:
            port["nodePort"] = p.node_port
        ports.append(port)
    spec: dict = {
        "type": svc.type,
        "clusterIP": svc.cluster_ip,
        "clusterIPs": [svc.cluster_ip],
        "ipFamilies": [family],
        "ipFamilyPolicy": "SingleStack",
        "internalTrafficPolicy": svc.internal_traffic_policy,
        "sessionAffinity": "ClientIP" if svc.affinity_seconds else "None",
        "ports": ports,
        "selector": {"app": svc.name},
    }
    if svc.type in ("NodePort", "LoadBalancer"):
        spec["externalTrafficPolicy"] = svc.external_traffic_policy
    if svc.external_ips:
        spec["externalIPs"] = list(svc.external_ips)
    if svc.source_ranges:
        spec["loadBalancerSourceRanges"] = list(svc.source_ranges)
    if svc.affinity_seconds:
        spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": svc.affinity_seconds}}
    if svc.health_check_node_port:
        spec["healthCheckNodePort"] = svc.health_check_node_port
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": svc.name, "namespace": svc.namespace, "uid": f"uid-{svc.namespace}-{svc.name}",
                     "resourceVersion": "1"},
        "spec": spec,
        "status": {"loadBalancer": {"ingress": [{"ip": ip} for ip in svc.lb_ips]} if svc.lb_ips else {}},
    }
    endpoints = []
    for i, ip in enumerate(list(svc.endpoints) + list(svc.not_ready)):
        ready = ip in svc.endpoints
        ep: dict = {"addresses": [ip], "conditions": {"ready": ready, "serving": ready, "terminating": False},
                    "targetRef": {"kind": "Pod", "namespace": svc.namespace, "name": f"{svc.name}-{i}"}}
        if node_of and ip in node_of:
            ep["nodeName"] = node_of[ip]
        endpoints.append(ep)
    eps = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": f"{svc.name}-{slice_suffix}", "namespace": svc.namespace, "resourceVersion": "1",
                     "labels": {"kubernetes.io/service-name": svc.name,
                                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
        "addressType": family,
        "endpoints": endpoints,
        "ports": [{"name": p.name, "protocol": p.protocol, "port": p.target_port} for p in svc.ports],
    }
    return [service, eps]


# The seed scenario, as a spec (shared/examples/hello-service)
def hello_service() -> ServiceSpec:
    return ServiceSpec(
        "default", "hello-service", "10.101.173.15",
        [PortSpec("port-v1", 39090, 9090, node_port=30725), PortSpec("port-v2", 49191, 9191, node_port=31576)],
        endpoints=["192.168.189.15"], type="NodePort",
    )


HELLO_CONFIG = ProxyConfig(cluster_cidr="192.168.0.0/16", random_fully=True, jumps=True)


# --- what iptables-save prints of those rules (no network namespace needed) --------------------

_BUILTINS = {"filter": _FILTER_BUILTINS, "nat": _NAT_BUILTINS}
_ADDRESS_OPTS = ("-s", "-d", "-i", "-o", "-p")  # printed first, in this order, before the matches


def save_text(services: list[ServiceSpec], cfg: ProxyConfig | None = None, backend: str = "legacy",
              counters: bool = True, tables: tuple[str, ...] = ("filter", "nat"),
              when: str = "Sun Nov 29 12:00:00 2026") -> str:
    """``iptables-save [-c]`` of these Services' rules as iptables 1.8.9 prints them once loaded.

    The canonical rendering, not kube-proxy's restore input: built-in chains first then the
    others by name, each chain's rules together in that order, addresses with their prefix
    length and before ``-p``, matches in the order given, comments always quoted,
    ``--probability`` as the kernel's fixed point (``%.11f`` of round(p * 2^31) / 2^31),
    ``MARK --set-xmark``, ``recent`` and ``REJECT`` with their defaults spelled out. Checked
    line for line against shared/dumps by tests/live/test_kpgen_save.py; ``backend`` sets the header
    ("nft": ``iptables-nft-save … (nf_tables)``).
    """
    restore = generate(services, cfg)
    chains: dict[str, list[str]] = {}
    rules: dict[str, dict[str, list[str]]] = {}
    table = ""
    for line in restore.splitlines():
        if line.startswith("*"):
            table = line[1:]
            chains[table], rules[table] = [], {}
        elif line.startswith(":"):
            chains[table].append(line[1:].split()[0])
        elif line.startswith("-A "):
            chain = line.split(" ", 2)[1]
            rules[table].setdefault(chain, []).append(canonical_rule(line))
    tool = "iptables-nft-save v1.8.9 (nf_tables)" if backend == "nft" else "iptables-save v1.8.9"
    out: list[str] = []
    for name in tables:
        if name not in chains:
            continue
        builtins = _BUILTINS[name]
        users = sorted(c for c in chains[name] if c not in builtins)
        out += [f"# Generated by {tool} on {when}", f"*{name}"]
        out += [f":{b} ACCEPT [0:0]" for b in builtins] + [f":{c} - [0:0]" for c in users]
        for chain in (*builtins, *users):
            out += [f"[0:0] {r}" if counters else r for r in rules[name].get(chain, ())]
        out += ["COMMIT", f"# Completed on {when}"]
    return "\n".join(out) + "\n"


def canonical_rule(line: str) -> str:
    """One ``-A`` line of kube-proxy's restore input as iptables-save prints the rule back."""
    import shlex

    words = shlex.split(line)
    chain, words = words[1], words[2:]
    addresses: dict[str, str] = {}
    matches: list[tuple[str, list[str]]] = []  # (module, its option words in order)
    target: list[str] = []
    negate = False
    i = 0
    while i < len(words):
        w = words[i]
        if w == "!":
            negate = True
        elif w in _ADDRESS_OPTS:
            addresses[w] = ("! " if negate else "") + _with_prefix(w, words[i + 1])
            negate = False
            i += 1
        elif w == "-m":
            matches.append((words[i + 1], []))
            i += 1
        elif w == "-j":
            target = words[i + 1:]
            break
        else:  # an option of the last match, with its values up to the next option
            opts = matches[-1][1]
            opts.append(("! " if negate else "") + w)
            negate = False
            while i + 1 < len(words) and not words[i + 1].startswith("-") and words[i + 1] != "!":
                opts.append(words[i + 1])
                i += 1
        i += 1
    v6 = ":" in addresses.get("-d", "") + addresses.get("-s", "")
    parts = [f"-A {chain}"]
    parts += [f"{v[:2] if v.startswith('! ') else ''}{k} {v.removeprefix('! ')}" for k in _ADDRESS_OPTS if (v := addresses.get(k))]
    for module, opts in matches:
        parts.append(" ".join([f"-m {module}", *_match_options(module, opts, v6)]))
    if target:
        parts.append(" ".join(["-j", *_target_words(target, v6)]))
    return " ".join(p for p in parts if p)


def _with_prefix(option: str, value: str) -> str:
    if option not in ("-s", "-d") or "/" in value:
        return value
    return value + ("/128" if ":" in value else "/32")


def _match_options(module: str, opts: list[str], v6: bool) -> list[str]:
    if module == "comment":
        return ["--comment", '"' + opts[1].replace("\\", "\\\\").replace('"', '\\"') + '"']
    if module == "statistic":
        p = float(opts[opts.index("--probability") + 1])
        fixed = int(p * 0x80000000 + 0.5)  # lround(0x80000000 * p), as libxt_statistic stores it
        return ["--mode", "random", "--probability", f"{fixed / 0x80000000:.11f}"]
    if module == "recent":
        out = [w for w in opts if w in ("--set", "--rcheck", "--update")]
        if "--seconds" in opts:
            out += ["--seconds", opts[opts.index("--seconds") + 1]]
        if "--reap" in opts:
            out.append("--reap")
        name = opts[opts.index("--name") + 1] if "--name" in opts else "DEFAULT"
        mask = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" if v6 else "255.255.255.255"
        return out + ["--name", name, "--mask", mask, "--rsource"]
    return opts


def _target_words(target: list[str], v6: bool) -> list[str]:
    name, opts = target[0], target[1:]
    if name == "MARK" and opts[:1] == ["--or-mark"]:
        return [name, "--set-xmark", f"{opts[1]}/{opts[1]}"]
    if name == "MARK" and opts[:1] == ["--xor-mark"]:
        return [name, "--set-xmark", f"{opts[1]}/0x0"]
    if name == "REJECT" and not opts:
        return [name, "--reject-with", "icmp6-port-unreachable" if v6 else "icmp-port-unreachable"]
    return target
