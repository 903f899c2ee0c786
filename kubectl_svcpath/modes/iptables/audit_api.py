"""``--all`` with the Services from the API (live, or ``--manifest``): rows derived from templates, as audit.py does.

audit.py's template is the Service's footprint in the rules with its values taken out. Here the
analysis also reads the Service and its EndpointSlices as the API gives them, so the template adds
them: every field of the objects as JSON (but the metadata other than name, namespace and labels,
and the endpoints' targetRef: the analysis never reads them), with the values numbered in the same
places as the rules' values are - addresses beside the rules' addresses, port numbers beside the
rules' ports, the Service's name and namespace where they stand whole, the slices' names by their
rank in name order - and the chain each endpoint hashes to beside the rules' chains.
Two Services with one template then differ only by a renaming of values the analysis compares for
equality (or, for the slices, orders by name), so the first one's full analysis gives the other's row
(the node - its name, zone, addresses - is the same for every Service: it stays out of the template).
The footprint is the rules' Service's (the draft the rules list it from): the API Service must hash
to its chains and have its addresses and ports (else the rules it reads may be other ones), or it
gets the full analysis. tests/unit/modes/iptables/test_audit_api.py holds the rows to the full analysis'.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from kubectl_svcpath import kubeproxy
from kubectl_svcpath.modes.iptables import audit, infer
from kubectl_svcpath.modes.iptables.model import LazyChains, RuleSet
from kubectl_svcpath.snapshot import ServiceSnapshot

_META_READ = ("name", "namespace", "labels")  # what the analysis reads of an object's metadata
_ROLES = ("SVC", "SVL", "EXT", "FW", "XLB")  # a service port's chains (kubeproxy.service_chains)


class ApiAudit:
    """Rows of the API's Services against one node's rules: templates first seen get ``one`` (the full analysis)."""

    def __init__(self, rules: RuleSet, one: Callable[[Any], tuple[Any, Any]]) -> None:
        self.fast = audit.FastAudit(rules, one)
        self.drafts: dict[tuple[str, str], Any] = {}
        twice: set[tuple[str, str]] = set()
        for d in infer._drafts(rules, None):
            key = (d.namespace, d.name)
            if key in self.drafts:
                twice.add(key)
            self.drafts[key] = d
        for key in twice:  # listed twice by the rules: which footprint is its own cannot be told
            del self.drafts[key]

    def lines(self, snapshots: Iterable[ServiceSnapshot], prepared: dict[int, _ApiFacts | None] | None = None) -> Iterator[Any]:
        for s in snapshots:  # (each Service's facts let go once its line is made)
            yield self.line(s, prepared.pop(id(s)) if prepared is not None and id(s) in prepared else _api_facts(s))

    def line(self, s: ServiceSnapshot, facts: _ApiFacts | None) -> Any:
        d = self.drafts.get((s.namespace, s.name))
        if d is None or facts is None or not (audit._PLAIN_NAME.fullmatch(s.namespace) and audit._PLAIN_NAME.fullmatch(s.name)):
            return self.fast.one(s)[1]
        matchers = self.fast.matchers
        if matchers.by_shape:  # (a template met often: the Service's text matched against it whole)
            shape = audit._shape(d)
            known = matchers.by_shape.get(shape)
            if known is not None:
                # (the port's hash is one of the footprint's: the match holds it to the template's place)
                api = _api_lines(s, facts, d, None, self.fast.nat)
                raw = self.fast._raw(d) if api is not None else None
                found = matchers.match(shape, raw + api[0].replace(s.ref, "\x01"), known) if raw is not None and api is not None else None
                if found is not None:
                    return audit._apply(found[0], found[1], d)
        fp = self.fast._footprint(d)
        api = _api_lines(s, facts, d, fp.allowed, self.fast.nat) if fp is not None else None
        if fp is None or api is None:
            return self.fast.one(s)[1]
        text, seps = api
        fp = replace(fp, text=fp.text + text, allowed=fp.allowed | seps)
        vals = audit._values(fp, s.ref)
        if vals is None:
            return self.fast.one(s)[1]
        line = self.fast.rows.line(vals.key, lambda recipe: audit._apply(recipe, vals, d), lambda: self.fast.one(s),
                                   lambda report, line: audit._recipe(report, line, fp, vals, d))
        recipe = self.fast.rows.recipe(vals.key)
        if recipe is not None and matchers.worth_learning(vals.key):
            self.fast.learn(d, fp, vals, recipe, text)
        return line


@dataclass(slots=True)
class _ApiFacts:
    """What a Service's template takes from its API objects alone (made while its node's rules are read)."""

    ports: list[tuple[str, str]]  # per port: its chains' hash, its "H" line (the service chain, the endpoint chains)
    text: str  # the objects as template lines


def prepare(snapshots: Iterable[ServiceSnapshot]) -> dict[int, _ApiFacts | None]:
    """The API half of each Service's template, by ``id()`` of its snapshot (valid while the caller
    holds the snapshots; ApiAudit.lines takes each out as it uses it): JSON, kube-proxy's hashes of its
    chains and endpoints. None: no template."""
    return {id(s): _api_facts(s) for s in snapshots}


def _api_facts(s: ServiceSnapshot) -> _ApiFacts | None:
    if not s.from_api or not s.api_objects:
        return None
    ports = []
    for p in s.ports:
        spn = kubeproxy.service_port_name(s.namespace, s.name, p.name)
        h = kubeproxy.port_proto_hash(spn, p.protocol)
        hops = kubeproxy.endpoint_chains(spn, p.protocol, [(e.ip, e.port or 0) for e in s.port_endpoints(p)])
        ports.append((h, f"H KUBE-SVC-{h} " + " ".join(hops)))
    slices = [(o.get("metadata") or {}).get("name") for o in s.api_objects[1:]]
    named = [n for n in slices if isinstance(n, str)]
    if len(set(named)) != len(slices):
        return None
    rank = {n: f"\x03{i}" for i, n in enumerate(sorted(named))}  # (kept in order: slices are read in name order)
    objects = [_read_meta(s.api_objects[0], {}), *(_read_meta(o, rank) for o in s.api_objects[1:])]
    # each object's fields as JSON, one a line ("=" after a key, a newline between items): C-speed; in the
    # order the API server wrote them (the same for every object it serves; another order: another template)
    # (no cycle check, 15% of the encoding: the objects come from JSON, or from YAML without aliases, which
    # load_objects refuses; a value JSON cannot write - an unquoted YAML timestamp - means no template)
    try:
        text = json.dumps(objects, separators=("\n", "="), check_circular=False)
    except (RecursionError, ValueError, TypeError):
        return None
    # the Service's name and namespace where they stand whole (names inside other strings stay)
    text = text.replace(json.dumps(s.name), '"\x02"').replace(json.dumps(s.namespace), '"\x05"')
    text = _TARGET_REF.sub("", text)  # (the pod an endpoint is: only shown, never compared)
    text = _PORT_VALUE.sub(_dport, text)  # (a space before: _PORTS's literal)
    text = _QUOTED_IPV4.sub('" -d ', text)
    return _ApiFacts(ports, text)


def _api_lines(s: ServiceSnapshot, facts: _ApiFacts | None, d: Any, allowed: set[str] | None,
               nat: LazyChains) -> tuple[str, set[str]] | None:
    """The Service's API facts as template lines, and the endpoint chain hashes they name; None when
    the rules' Service (the draft) is not this one's footprint. ``allowed``: the footprint's hashes
    (None: a compiled template's match holds each hash to its place)."""
    if facts is None:
        return None
    if (set(s.cluster_ips) != set(d.cluster_ips) or set(s.external_ips) != set(d.external_ips)
            or set(s.load_balancer_ips) != set(d.lb_ips) or len(s.ports) != len(d.ports)):
        return None  # other addresses: the filter rules the analysis reads are not the footprint's
    out = ["\nA"]
    seps: set[str] = set()
    for p, (h, hops) in zip(s.ports, facts.ports, strict=True):
        f = d.ports.get((p.name, p.protocol))
        if f is None or f.port != p.port or f.node_port != p.node_port:
            return None
        if (allowed is not None and h not in allowed) or not any(f"KUBE-{role}-{h}" in nat for role in _ROLES):
            return None  # the chains this name hashes to are not the footprint's (or the port is unnamed, pre-1.19)
        seps.update(chain[9:] for chain in hops.split()[2:])
        out.append(hops)
    out.append(facts.text)
    return "\n".join(out), seps


_TARGET_REF = re.compile(r'"targetRef"=\{[^{}]*\}')
_PORT_VALUE = re.compile(r'("(?:port|targetPort|nodePort)"=)(\d{1,5})(?=[\n}])')
_QUOTED_IPV4 = re.compile(r'"(?=\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")')  # (the quote before an address)


def _dport(m: re.Match[str]) -> str:
    return m[1] + " --dport " + m[2]  # (a function: cheaper than a template expanded at each match)


def _read_meta(o: dict[str, Any], rank: dict[str, str]) -> dict[str, Any]:
    """The object with only the metadata the analysis reads; a slice's name as its rank in name order."""
    meta = o.get("metadata")
    if not isinstance(meta, dict):
        return o
    kept = {k: meta[k] for k in _META_READ if k in meta}
    if rank and "name" in kept:
        kept["name"] = rank[kept["name"]]
    return {**o, "metadata": kept}


def api_audit(rules: RuleSet | None, one: Callable[[Any], tuple[Any, Any]], excerpt: bool,
              snapshots: Iterable[ServiceSnapshot], prepared: dict[int, _ApiFacts | None] | None = None) -> Iterator[Any] | None:
    """The audit lines of the API's Services, or None when this input needs the full analysis each.
    ``prepared``: prepare()'s answer for these snapshots, if it was made beforehand."""
    if rules is None or not audit.templates_apply(rules, excerpt):
        return None
    return ApiAudit(rules, one).lines(snapshots, prepared)
