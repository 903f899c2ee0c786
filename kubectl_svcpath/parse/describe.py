"""``kubectl describe service`` output pasted beside the rules, read as what the Service shows.

People paste it above an ``ipvsadm -Ln`` or ``iptables-save`` listing (the Kubernetes IPVS blog
does). Its lines are what kubectl printed about the Service object (``describe.go``
``describeService``)::

    Name:              nginx-service
    Namespace:         default
    Type:              NodePort
    IP:                10.102.128.4
    Port:              http  3080/TCP
    TargetPort:        8080/TCP
    NodePort:          http  30080/TCP
    Endpoints:         10.244.0.235:8080,10.244.1.237:8080
    Session Affinity:  None
    External Traffic Policy:  Cluster

Each value read here is *seen*, with the line that shows it; a key the paste does not hold
(an author's ``...`` cut, an older kubectl) stays unknown. The lines are blanked from the text the
rule readers get (line numbers kept), so a mode's reader never mistakes them for its own.
Mode-agnostic: the Services the rules describe (dump-only mode) are completed by ``complete``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from kubectl_svcpath.snapshot import ServicePort, ServiceSnapshot

# "Key:   value" as kubectl's tab writer prints it (tabs or spaces after the colon)
_KEY = re.compile(r"^(Name|Namespace|Labels|Annotations|Selector|Type|IP Family Policy|IP Families|IP|IPs|"
                  r"External IPs|LoadBalancer Ingress|Port|TargetPort|NodePort|Endpoints|Session Affinity|"
                  r"External Traffic Policy|Internal Traffic Policy|HealthCheck NodePort|Traffic Distribution|"
                  r"Events|External Name|LoadBalancer Source Ranges):(?:\s+(.*?))?\s*$")
# keys only a Service's description has (a pod's or node's has Name:, IP:, Port: too)
_SERVICE_ONLY = {"TargetPort", "Endpoints", "Session Affinity", "External Traffic Policy", "IP Family Policy",
                 "Internal Traffic Policy", "HealthCheck NodePort"}
_NAME_LINE = re.compile(r"^Name:[ \t]", re.M)
_DESCRIBE_CMD = re.compile(r"\bkubectl\s+(?:-n\s+\S+\s+)?describe\s+(?:svc|services?)\b")
_CUT = re.compile(r"^\s*(?:\.{3,}|…+)\s*$")
_PORT = re.compile(r"^(?:(\S+)\s+)?(\d+)/(TCP|UDP|SCTP)$")  # "http  3080/TCP", "<unset>  80/TCP", "80/TCP"
# `kubectl get service` output: its header (NAMESPACE first with -A, SELECTOR last with -o wide), then a row a Service
# (kubectl before 1.9 printed no TYPE column: "NAME  CLUSTER-IP  EXTERNAL-IP  PORT(S)  AGE")
_GET_HEADER = re.compile(r"^[ \t]*(?:NAMESPACE[ \t]+)?NAME[ \t]+(?:TYPE[ \t]+)?CLUSTER-IP[ \t]+EXTERNAL-IP[ \t]+PORT\(S\)[ \t]+AGE"
                         r"(?:[ \t]+SELECTOR)?[ \t\r]*$", re.M)
_GET_PORT = re.compile(r"^(\d+)(?::(\d+))?/(TCP|UDP|SCTP)$")  # "80/TCP", "80:32643/TCP" (the node port after ":")
_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
# a table without TYPE: the word kubectl printed in EXTERNAL-IP for a Service without external IPs, by type (its
# getServiceExternalIP); an address there may be an external IP of any type or a load balancer's: the type not shown
_TYPE_BY_MARK = {"<none>": "ClusterIP", "<nodes>": "NodePort", "<pending>": "LoadBalancer"}
_ADDRESSES = re.compile(r"^[0-9A-Fa-f.:]+(?:,[0-9A-Fa-f.:]+)*$")


@dataclass(slots=True)
class DescribedPort:
    name: str | None  # None: "<unset>" (an unnamed port)
    port: int
    protocol: str
    line: int
    target_port: int | str | None = None
    node_port: int | None = None
    endpoints: list[str] = field(default_factory=list)
    endpoints_cut: bool = False  # "+ N more...": kubectl printed only the first ones


@dataclass(slots=True)
class DescribedService:
    source: str
    first_line: int
    last_line: int
    values: dict[str, tuple[str, int]] = field(default_factory=dict)  # key -> (value, line)
    ports: list[DescribedPort] = field(default_factory=list)
    listed: bool = False  # a row of `kubectl get service`, not a description (no port names, no policies)
    differs_from: int = 0  # the first line of an earlier description of the Service this one contradicts (another moment)
    unlike_rules: list[str] = field(default_factory=list)  # what it shows otherwise than the rules do (notes say it)

    def value(self, key: str) -> str | None:
        v = self.values.get(key)
        return v[0] if v is not None and v[0] not in ("", "<none>") else None

    def ref(self, key: str) -> str:
        return f"{self.source}:{self.values[key][1]}"

    @property
    def addresses(self) -> set[str]:
        """Every address the description shows the Service on (cluster, external, load-balancer)."""
        out: set[str] = set()
        for key in ("IP", "IPs", "External IPs", "LoadBalancer Ingress"):
            out.update(a.strip() for a in (self.value(key) or "").split(",") if a.strip() and a.strip() != "None")
        return out


def split_described(text: str, source: str) -> tuple[str, list[DescribedService]]:
    """The text with each ``kubectl describe service`` block's lines, and each ``kubectl get service`` table's,
    blanked, and the Services they show read."""
    listed = "CLUSTER-IP" in text and _GET_HEADER.search(text) is not None  # (str.find first: a rule dump has none)
    if "\nName:" not in text and not text.startswith("Name:") and not listed:  # a rule dump has none: one fast scan
        return text, []
    starts = [m.start() for m in _NAME_LINE.finditer(text)]
    lines = text.split("\n")
    found: list[DescribedService] = _get_tables(lines, source) if listed else []
    after = 0  # the line a block ended on: a later "Name:" inside it is not a new one
    for pos in starts:
        i = text.count("\n", 0, pos)
        if i < after:
            continue
        block = _block_at(lines, i, source)
        if block is None:
            continue
        found.append(block)
        for n in range(block.first_line, block.last_line + 1):
            if not _CUT.match(lines[n - 1]):  # an author's cut stays: parse/excerpt.py records it
                lines[n - 1] = ""
        after = block.last_line
    return ("\n".join(lines), found) if found else (text, [])


def _get_tables(lines: list[str], source: str) -> list[DescribedService]:
    """Each row of each `kubectl get service` table (its lines blanked): name, namespace (-A), type, cluster IP,
    external or load-balancer IPs and ports with their node ports; a row of another shape ends the table."""
    found: list[DescribedService] = []
    for i, line in enumerate(lines):
        if "CLUSTER-IP" not in line or not _GET_HEADER.match(line):
            continue
        header = line.split()
        rows = []
        for j in range(i + 1, len(lines)):
            row = dict(zip(header, lines[j].split(), strict=False)) if len(lines[j].split()) == len(header) else {}
            svc = _get_row(row, source, j + 1)
            if svc is None:
                break
            rows.append(svc)
        if rows:
            for n in range(i, rows[-1].last_line):
                lines[n] = ""
            found += rows
    return found


def _get_row(row: dict[str, str], source: str, line: int) -> DescribedService | None:
    ports = [_GET_PORT.match(p) for p in row.get("PORT(S)", "").split(",")]
    external = row.get("EXTERNAL-IP", "")
    kind = row.get("TYPE") if "TYPE" in row else _TYPE_BY_MARK.get(external, "" if _ADDRESSES.match(external) else None)
    if kind not in (*_TYPES, "") or not all(ports) or not _ADDRESSES.match(row["CLUSTER-IP"].replace("<none>", "None")
                                                                           .replace("None", "0")):
        return None
    svc = DescribedService(source, line, line, listed=True)
    # `kubectl get all`, `get pod,svc,ep`: a row of several kinds' output is named "service/NAME" ("svc/NAME" before 1.10)
    name = row["NAME"].removeprefix("service/").removeprefix("svc/")
    svc.values["Name"] = (name, line)
    if "NAMESPACE" in row:
        svc.values["Namespace"] = (row["NAMESPACE"], line)
    if kind:
        svc.values["Type"] = (kind, line)
    if row["CLUSTER-IP"] not in ("None", "<none>"):
        svc.values["IP"] = (row["CLUSTER-IP"], line)
    if external not in ("<none>", "<pending>", "<unknown>", "<nodes>") and kind:
        svc.values["LoadBalancer Ingress" if kind == "LoadBalancer" else "External IPs"] = (external, line)
    svc.ports = [DescribedPort(None, int(m.group(1)), m.group(3), line, node_port=int(m.group(2)) if m.group(2) else None)
                 for m in ports if m is not None]
    return svc


def _block_at(lines: list[str], i: int, source: str) -> DescribedService | None:
    m = _KEY.match(lines[i].strip()) if lines[i][:1] not in (" ", "\t") else None
    if m is None or m.group(1) != "Name":
        return None
    svc = DescribedService(source, i + 1, i + 1)
    port: DescribedPort | None = None
    keys: set[str] = set()
    j = i
    while j < len(lines):
        raw = lines[j]
        s = raw.strip()
        if _CUT.match(raw):
            j += 1
            continue
        km = _KEY.match(s) if raw[:1] not in (" ", "\t") or not s else None
        if km is None:
            if raw[:1] in (" ", "\t") and s and svc.values:  # a label or annotation continued
                svc.last_line = j + 1
                j += 1
                continue
            break
        key, value = km.group(1), (km.group(2) or "")
        if key == "Name" and j > i:
            break  # the next object's description
        port = _take(svc, port, key, value, j + 1)
        keys.add(key)
        svc.last_line = j + 1
        j += 1
    if not _SERVICE_ONLY & keys and not _described_above(lines, i):
        return None
    return svc


def _described_above(lines: list[str], i: int) -> bool:
    """The command that printed it is on the line before (``# kubectl describe svc web``)."""
    k = i - 1
    while k >= 0 and not lines[k].strip():
        k -= 1
    return k >= 0 and _DESCRIBE_CMD.search(lines[k]) is not None


def _take(svc: DescribedService, port: DescribedPort | None, key: str, value: str, line: int) -> DescribedPort | None:
    """Record one key; the per-port keys (TargetPort, NodePort, Endpoints) belong to the Port above them."""
    if key == "Port":
        m = _PORT.match(value)
        if m is None:
            return port
        name = m.group(1)
        port = DescribedPort(None if name in (None, "<unset>") else name, int(m.group(2)), m.group(3), line)
        svc.ports.append(port)
        return port
    if key in ("TargetPort", "NodePort", "Endpoints") and port is not None:
        _port_value(port, key, value)
        return port
    svc.values.setdefault(key, (value, line))
    return port


def _port_value(port: DescribedPort, key: str, value: str) -> None:
    if key == "TargetPort":
        target = value.split("/", 1)[0]
        port.target_port = int(target) if target.isdigit() else (target or None)
    elif key == "NodePort":
        m = _PORT.match(value)
        port.node_port = int(m.group(2)) if m else None
    else:
        shown, _, more = value.partition(" + ")
        port.endpoints = [e for e in shown.split(",") if e and e != "<none>"]
        port.endpoints_cut = bool(more)


# --- the Services the rules describe, completed by what a description shows ---------------------


def complete(snapshots: Iterable[ServiceSnapshot], described: list[DescribedService]) -> list[ServiceSnapshot]:
    """Dump-only Services with the facts a pasted description shows (each with its line in ``seen``).

    A description goes with the Service whose rules it matches: by name (and namespace, when the
    description shows one), else by an address and port both show (IPVS names no Service). Values
    the rules themselves show are kept; a description only fills what the rules leave unknown.
    Several descriptions of one Service (a `kubectl get svc` row, then its `kubectl describe`) each
    fill what the ones before left unknown. Several unnamed entries a description matches (IPVS: one
    per virtual server) become that one Service.
    """
    out: list[ServiceSnapshot] = []
    merged: dict[int, int] = {}  # description index -> index in out
    for s in snapshots:
        ks = [k for k, d in enumerate(described) if not s.from_api and _matches(s, d)]
        if not ks:
            out.append(s)
            continue
        k, filled = ks[0], s
        read: list[int] = []
        for each in ks:
            other = next((described[j] for j in read if _contradicts(described[j], described[each])), None)
            if other is not None:  # (another moment: "ClusterIP", then "NodePort 80:32684/TCP" after a change)
                described[each].differs_from = other.first_line
                continue
            read.append(each)
            filled = _fill(filled, described[each])
        if k in merged and not s.name:
            into = out[merged[k]]
            out[merged[k]] = replace(into, ports=_joined(into.ports, filled.ports), endpoints={**into.endpoints, **filled.endpoints},
                                     seen=tuple(sorted({**dict(into.seen), **dict(filled.seen)}.items())))
            continue
        merged[k] = len(out)
        out.append(filled)
    return out


def _contradicts(a: DescribedService, b: DescribedService) -> bool:
    """Two descriptions of one Service that differ in what both show (its type, cluster IP, policies, ports): two
    moments of it, not one to complete with the other."""
    for key in ("Type", "IP", "IPs", "Session Affinity", "External Traffic Policy", "Internal Traffic Policy"):
        va, vb = a.value(key), b.value(key)
        if va and vb and va != vb:
            return True
    pa, pb = ({(p.port, p.protocol, p.node_port) for p in d.ports} for d in (a, b))
    return bool(pa and pb and pa != pb)


def _joined(ports: tuple[ServicePort, ...], more: tuple[ServicePort, ...]) -> tuple[ServicePort, ...]:
    """The ports of unnamed entries one description goes with: entries of the same described port (IPVS: its cluster
    IP's virtual server and its node port's, one per node address; keys "TCP ADDR:PORT") are one port, their virtual
    servers its entries."""
    out = list(ports)
    for p in more:
        at = next((i for i, q in enumerate(out) if (q.protocol, q.port, q.node_port) == (p.protocol, p.port, p.node_port)
                   and q.name == p.name and " " in (q.rules_key or "") and " " in (p.rules_key or "")), None)
        if at is None:
            out.append(p)
        else:
            out[at] = replace(out[at], rules_key=f"{out[at].rules_key}|{p.rules_key}")
    return tuple(out)


def _matches(s: ServiceSnapshot, d: DescribedService) -> bool:
    name, ns = d.value("Name"), d.value("Namespace")
    if s.name:
        return s.name == name and (ns is None or s.namespace in ("", ns))
    return any(_port_of(p, d) is not None for p in s.ports)


def _port_of(p: ServicePort, d: DescribedService) -> DescribedPort | None:
    """The described port this rules port is: same protocol and number (or node port), on an address both show."""
    addrs = d.addresses
    keys = [k.split(" ", 1) for k in (p.rules_key or "").split("|") if " " in k]
    seen = {(proto, a.rsplit(":", 1)[0].strip("[]"), a.rsplit(":", 1)[1]) for proto, a in keys}
    if p.port is None and p.node_port is None:  # (a listing that hides the port match): the Service's only port of it
        alike = [dp for dp in d.ports if dp.protocol == p.protocol]
        return alike[0] if len(alike) == 1 else None
    for dp in d.ports:
        if dp.protocol != p.protocol:
            continue
        if p.node_port is not None and dp.node_port == p.node_port:
            return dp
        if p.port is not None and dp.port == p.port and (not seen or any(ip in addrs and port == str(dp.port)
                                                                           for _, ip, port in seen)):
            return dp
    return None


def _fill(s: ServiceSnapshot, d: DescribedService) -> ServiceSnapshot:
    seen = dict(s.seen)
    changes: dict[str, object] = {}

    def take(field_name: str, key: str, current: object, value: object, label: str) -> None:
        if current in (None, "", ()) and value not in (None, "", ()):
            changes[field_name] = value
            seen[label] = d.ref(key)
        elif label in ("type", "clusterIPs") and value not in (None, "", ()) and not s.from_api \
                and (set(current) if isinstance(current, tuple) else {current}).isdisjoint(
                    value if isinstance(value, tuple) else (value,)):
            words = {"type": "type", "clusterIPs": "cluster IP"}[label]
            shown = ", ".join(value) if isinstance(value, tuple) else str(value)
            ruled = ", ".join(current) if isinstance(current, tuple) else str(current)
            said = f"{words} {shown} (line {d.values[key][1]}), the rules {ruled}"
            if said not in d.unlike_rules:  # (the rules show another: another moment of the Service, or an edit)
                d.unlike_rules.append(said)

    take("name", "Name", s.name, d.value("Name"), "name")
    take("namespace", "Namespace", s.namespace, d.value("Namespace"), "namespace")
    take("type", "Type", s.type, d.value("Type"), "type")
    ips = d.value("IPs") or d.value("IP")
    take("cluster_ips", "IPs" if d.value("IPs") else "IP", s.cluster_ips,
         tuple(a.strip() for a in (ips or "").split(",") if a.strip() and a.strip() != "None"), "clusterIPs")
    take("session_affinity", "Session Affinity", s.session_affinity, d.value("Session Affinity"), "sessionAffinity")
    take("external_traffic_policy", "External Traffic Policy", s.external_traffic_policy,
         d.value("External Traffic Policy"), "externalTrafficPolicy")
    take("internal_traffic_policy", "Internal Traffic Policy", s.internal_traffic_policy,
         d.value("Internal Traffic Policy"), "internalTrafficPolicy")
    ports, endpoints = [], dict(s.endpoints)
    for p in s.ports:
        dp = _port_of(p, d)
        if dp is None:
            ports.append(p)
            continue
        name = p.name or dp.name or ""
        ports.append(replace(p, name=name, port=p.port if p.port is not None else dp.port,
                             target_port=p.target_port if p.target_port is not None else dp.target_port,
                             node_port=p.node_port if p.node_port is not None else dp.node_port))
        if name != p.name and p.name in endpoints:
            endpoints[name] = endpoints.pop(p.name)
        seen[f"port {name or dp.port}"] = f"{d.source}:{dp.line}"
    return replace(s, ports=tuple(ports), endpoints=endpoints, seen=tuple(sorted(seen.items())), **changes)  # type: ignore[arg-type]


def notes(described: list[DescribedService]) -> list[str]:
    """What was read from the descriptions, and where; the endpoints they list (kubectl's view of the
    Endpoints object, not the node's rules)."""
    from kubectl_svcpath.wording import listed, numbered_spans

    out = []
    rows: dict[str, list[tuple[int, str]]] = {}  # a file's `kubectl get service` rows: one note for them all
    for d in described:
        who = d.value("Name") or "?"
        if d.value("Namespace"):
            who = f"{d.value('Namespace')}/{who}"
        if d.differs_from:
            what = f"line {d.first_line} shows" if d.listed else f"lines {d.first_line}-{d.last_line} show"
            out.append(f"{d.source}: {what} {who} otherwise than line {d.differs_from} ("
                       f"{'`kubectl get service`' if d.listed else '`kubectl describe service`'} output): another moment of "
                       f"it, not read into the report (line {d.differs_from}'s is)")
            continue
        if d.unlike_rules:
            out.append(f"{d.source}: the pasted description of {who} shows {'; '.join(d.unlike_rules)}: another moment "
                       "of the Service, or an edit; the rules' is read")
        if d.listed:
            rows.setdefault(d.source, []).append((d.first_line, who))
            continue
        line = (f"{d.source}: lines {d.first_line}-{d.last_line} are `kubectl describe service {who}` output: "
                "read as what the Service shows (not as rules)")
        eps = [f"{p.name or p.port}: {', '.join(p.endpoints) or '<none>'}{' (and more kubectl did not print)' if p.endpoints_cut else ''}"
               for p in d.ports if p.endpoints or p.endpoints_cut]
        if eps:
            line += f"; its Endpoints: {'; '.join(eps)}"
        out.append(line)
    for source, seen in rows.items():  # (each row had a note of its own: five rows, five notes in every report)
        spans: list[tuple[int, int]] = []
        for n, _ in sorted(seen):
            if spans and spans[-1][1] == n - 1:
                spans[-1] = (spans[-1][0], n)
            else:
                spans.append((n, n))
        one = len(seen) == 1
        out.append(f"{source}: {numbered_spans('line', spans)} {'is' if one else 'are'} `kubectl get service` output "
                   f"({listed([w for _, w in seen], 5)}): read as what {'the Service shows' if one else 'each Service shows'} "
                   "(not as rules)")
    return out
