"""What the API server says about a Service: plain frozen data, no client types.

Built from API JSON by ``manifest.py`` (live and ``--manifest``) or rebuilt from a rule
dump by ``infer.py`` (dump-only mode).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ServicePort:
    name: str  # "" for an unnamed port
    protocol: str  # "TCP" | "UDP" | "SCTP"
    port: int | None  # None: not in the input (dump-only mode, the entry rule was not pasted)
    target_port: int | str | None = None  # a number, a named container port, or unknown
    node_port: int | None = None
    # dump-only, when the input does not name the port in a way its rules derive from: how the rules
    # themselves name it, for correlation to follow. iptables: the hash of its chains (KUBE-SVC-<hash>;
    # comments dropped, cut or edited); IPVS: its virtual servers ("TCP 10.0.0.1:443", "|"-joined)
    rules_key: str | None = None

    @property
    def label(self) -> str:
        """``http 80/TCP``: how every finding and view names a port; ``?`` when its number is not in the input."""
        return f"{self.name or '(unnamed)'} {self.port or '?'}/{self.protocol}"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One address of an EndpointSlice, for one port of the Service."""

    ip: str
    port: int | None  # the EndpointSlice port for this service port; None if the slice lacks it
    ready: bool | None = True  # None: unknown (dump-only mode)
    serving: bool | None = True
    terminating: bool | None = False
    node: str | None = None
    zone: str | None = None
    pod: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceSnapshot:
    namespace: str
    name: str
    type: str | None = "ClusterIP"  # None here and below: the input does not show it (dump-only mode)
    cluster_ips: tuple[str, ...] = ()
    ports: tuple[ServicePort, ...] = ()
    external_ips: tuple[str, ...] = ()
    load_balancer_ips: tuple[str, ...] = ()
    # dump-only: addresses the Service is reached on whose kind (cluster, external or load-balancer IP)
    # the input does not show (nftables no-endpoint-services without the cluster-ips set to tell)
    other_ips: tuple[str, ...] = ()
    # dump-only nftables: kube-proxy writes an external IP and a load-balancer IP alike (the same map, the
    # same chain), so ``external_ips`` may hold either kind; the type then is not known either
    external_or_lb: bool = False
    load_balancer_source_ranges: tuple[str, ...] = ()
    external_traffic_policy: str | None = "Cluster"
    internal_traffic_policy: str | None = "Cluster"
    session_affinity: str | None = "None"
    affinity_timeout: int | None = None
    health_check_node_port: int | None = None
    # endpoints per service port name (the EndpointSlice port with the same name)
    endpoints: dict[str, tuple[Endpoint, ...]] = field(default_factory=dict)
    has_slices: bool = True  # False: no EndpointSlice at all (or unknown in dump-only mode)
    from_api: bool = True  # False: rebuilt from the dump, nothing was cross-checked
    # dump-only: facts a pasted `kubectl describe service` shows, as (field, "source:line") pairs
    seen: tuple[tuple[str, str], ...] = ()
    # the API objects as read (the Service, then its EndpointSlices): expected.py reads hints,
    # labels, address types and ingress modes from them; empty in dump-only mode
    api_objects: tuple[dict[str, Any], ...] = field(default=(), compare=False, repr=False)

    @property
    def ref(self) -> str:
        if not self.namespace and not self.name:
            return "?/? (not named in the input)"
        return f"{self.namespace or '?'}/{self.name}"  # "?/web": a description that shows no namespace

    @property
    def headless(self) -> bool:
        """Only the API can say so: a dump without the cluster IP just did not show it."""
        return self.from_api and self.cluster_ips in ((), ("None",))

    def entry_addresses(self) -> list[tuple[str, str]]:
        """(entry kind, address) for every address the Service is reached on: cluster, external, LB."""
        ways = [] if self.headless else [("clusterIP", ip) for ip in self.cluster_ips]
        ways += [(self.external_kind, ip) for ip in self.external_ips]
        ways += [("loadBalancer", ip) for ip in self.load_balancer_ips]
        ways += [("address", ip) for ip in self.other_ips]
        return ways

    @property
    def external_kind(self) -> str:
        """The entry kind of ``external_ips``: "external" when they may be load-balancer IPs too."""
        return "external" if self.external_or_lb else "externalIP"

    def port_endpoints(self, port: ServicePort) -> tuple[Endpoint, ...]:
        return self.endpoints.get(port.name, ())
