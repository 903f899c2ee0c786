"""iptables mode: follow each service port through kube-proxy's chains, by name.

The chain names come from the hash of the service port name (kubeproxy.service_chains),
so the rules are tied to the port even when comments are missing (large-cluster mode) or
the printed rule lost its port match (an older iptables reading newer rules).
"""

from __future__ import annotations

import re

from kubectl_svcpath import kubeproxy
from kubectl_svcpath.endpoints import attach_slices, ip_family
from kubectl_svcpath.path import EndpointHop, EntryPath, Evidence, PortPath, dnat_unseen_note
from kubectl_svcpath.modes.iptables import comments
from kubectl_svcpath.modes.iptables.model import UNSUPPORTED, Rule, RuleSet, bare_address, split_hostport
from kubectl_svcpath.parse.grep_words import selects
from kubectl_svcpath.snapshot import ServicePort, ServiceSnapshot
from kubectl_svcpath.wording import agrees, counted, listed, numbered

_NOOP_TARGETS = {"KUBE-MARK-MASQ", "KUBE-MARK-DROP", "RETURN", None}


def correlate_iptables(snapshot: ServiceSnapshot, rules: RuleSet) -> list[PortPath]:
    return [_correlate_port(snapshot, port, rules) for port in snapshot.ports]


def spn_candidates(snapshot: ServiceSnapshot, port: ServicePort) -> list[str]:
    """Service port names to hash; unnamed ports also in the pre-1.19 ``ns/name:`` form."""
    names = [kubeproxy.service_port_name(snapshot.namespace, snapshot.name, port.name)]
    if not port.name:
        names.append(kubeproxy.service_port_name(snapshot.namespace, snapshot.name, "", legacy_colon=True))
    return names


def expected_chains(snapshot: ServiceSnapshot) -> set[str]:
    """Every per-service chain name the Service's ports may use (for targeted local reads)."""
    out: set[str] = set()
    for port in snapshot.ports:
        for spn in spn_candidates(snapshot, port):
            out.update(kubeproxy.service_chains(spn, port.protocol).values())
    return out


def _evidence(rule: Rule) -> Evidence:
    return Evidence(rule.source, rule.line_no or None, rule.raw)


def _evidences(rule: Rule) -> list[Evidence]:
    """The rule's line, and the same rule's line in another input (the -L line with its counters)."""
    out = [_evidence(rule)]
    if rule.twin is not None:
        out.append(_evidence(rule.twin))
    return out


def _pick_spn(snapshot: ServiceSnapshot, port: ServicePort, rules: RuleSet) -> tuple[str, dict[str, str]]:
    if port.rules_key:  # dump-only, the input does not name this port: follow its chains' hash
        h = port.rules_key
        return "", {"svc": f"KUBE-SVC-{h}", "svl": f"KUBE-SVL-{h}", "ext": f"KUBE-EXT-{h}", "fw": f"KUBE-FW-{h}", "xlb": f"KUBE-XLB-{h}"}
    cands = spn_candidates(snapshot, port)
    nat = rules.table("nat")
    for spn in cands:
        chains = kubeproxy.service_chains(spn, port.protocol)
        if nat and any(c in nat.chains for c in chains.values()):
            return spn, chains
    if len(cands) > 1:  # (grep lines: the service chain is only a jump's target, its own rules not in the input)
        for spn in cands:
            chains = kubeproxy.service_chains(spn, port.protocol)
            if any(rules.rules_targeting("nat", entry, set(chains.values())) for entry in ("KUBE-SERVICES", "KUBE-NODEPORTS")):
                return spn, chains
        for spn in cands:  # (a grep of DNAT lines: only endpoint chains, whose names hash the port's name too)
            if nat and any(c in nat.chains for c in _endpoint_chains(snapshot, port, spn)):
                return spn, kubeproxy.service_chains(spn, port.protocol)
    return cands[0], kubeproxy.service_chains(cands[0], port.protocol)


def _correlate_port(snapshot: ServiceSnapshot, port: ServicePort, rules: RuleSet) -> PortPath:
    spn, chains = _pick_spn(snapshot, port, rules)
    pp = PortPath(port=port)
    nat = rules.table("nat")
    if nat:
        pp.service_chain = chains["svc"] if chains["svc"] in nat.chains else None
        pp.local_chain = chains["svl"] if chains["svl"] in nat.chains else None
    pp.paths.extend(_entries(snapshot, port, spn, rules, chains))
    pp.paths.extend(_filter_verdicts(snapshot, port, spn, rules, pp.paths))
    dispatch = [c for c in ("KUBE-SERVICES", "KUBE-NODEPORTS") if not rules.chain_complete("nat", c)]
    if dispatch:
        # an excerpt: a way in that is not shown may exist; and what is shown may start further on
        pp.entries_complete = False
        if not pp.paths:
            pp.not_in_input.append(f"entry rule: not in the input ({' and '.join(dispatch)} {'is' if len(dispatch) == 1 else 'are'} not all in it)")
            pp.paths.extend(_follow_chains(rules, chains))
            if not pp.paths:
                seps = [c for c in _endpoint_chains(snapshot, port, spn) if nat is not None and c in nat.chains]
                if seps:
                    pp.paths.append(_follow_endpoints(rules, seps))
                    pp.not_in_input.append(f"service chain: not in the input (only the endpoint chains {', '.join(seps)} are)")
        elif nat is not None and chains["svc"] in nat.chains and not any(p.endpoints for p in pp.paths):
            # the ways in shown lead to no endpoint the input shows (externalTrafficPolicy Local: KUBE-EXT -> a KUBE-SVL
            # not in it), yet the service chain and its endpoints are in the input: the cluster IP's rule is not
            pp.paths.append(_follow_chain(rules, chains["svc"]))
            pp.not_in_input.append(f"the cluster IP's entry rule (KUBE-SERVICES to {chains['svc']}): not in the input")
    _say_unseen(rules, pp)
    cluster_chains = {p.policy_chain for p in pp.paths if p.policy_chain and p.policy_chain.startswith("KUBE-SVC-")}
    partial = sorted({p.policy_chain for p in pp.paths if p.policy_chain and not rules.chain_complete("nat", p.policy_chain)})
    if partial and snapshot.from_api:
        # an endpoint the excerpt does not show may still have its rule: none is called missing
        pp.not_in_input.append(f"endpoints not shown: {', '.join(partial)} is not all in the input")
        cluster_chains = set()
    elif in_part := sorted({p.policy_chain for p in pp.paths if p.endpoints_in_part and p.policy_chain}):
        for chain in in_part:
            body = rules.rules_of("nat", chain)
            why = next((p.in_part_why for p in pp.paths if p.in_part_why and p.policy_chain == chain), None) or _in_part_why(rules, body)
            pp.not_in_input.append(f"endpoints not shown: {chain} is not all in the input ({why})")
    attach_slices(snapshot, port, pp, cluster_chains,
                  lambda e: kubeproxy.endpoint_chain(spn, port.protocol, e.ip, e.port or 0))
    for path in pp.paths:
        for ep in path.endpoints:
            if ep.affinity and pp.affinity_timeout is None:
                pp.affinity_timeout = _affinity_timeout(rules, path.policy_chain)
    return pp


def _say_unseen(rules: RuleSet, pp: PortPath) -> None:
    """What the port's paths lead to that the input does not show: a chain not in it, endpoint shares a listing hides,
    an endpoint chain whose DNAT the listing prints without its address (nft: "xt target "DNAT""; the chain cut)."""
    hops = [h for path in pp.paths for h in path.endpoints
            if h.chain and (h.ip in (None, "?") or h.port is None) and rules.knows("nat", h.chain) == "seen"]
    for what, blind in (("address", [h.chain for h in hops if h.ip in (None, "?")]),
                        ("port", [h.chain for h in hops if h.ip not in (None, "?")])):
        if not blind:
            continue
        names = list(dict.fromkeys(c for c in blind if c))
        old_iptables = any(UNSUPPORTED in r.target_options for c in names for r in rules.rules_of("nat", c) if r.target == "DNAT")
        them = agrees(len(names), "it", "them")
        why = (f"the iptables that listed {them} printed '[unsupported revision]' in place of the destination, being older "
               f"than the one kube-proxy wrote {them} with (list {them} in the kube-proxy pod: iptables-save)" if old_iptables else
               "nft prints iptables-nft's DNAT as 'xt target \"DNAT\"' without it, or the listing was cut")
        dnat = [r for c in names for r in rules.rules_of("nat", c) if r.target == "DNAT"]
        shown = (f"the DNAT {agrees(len(names), 'rule', 'rules')} of {listed(names)} {agrees(len(names), 'shows', 'show')} "
                 f"no destination: {why}" if dnat else f"{listed(names)} {agrees(len(names), 'shows', 'show')} no DNAT rule")
        if what == "port":
            shown += (f"; the address is the source of {agrees(len(names), 'its', 'their')} hairpin rule, the one "
                      "jumping to KUBE-MARK-MASQ")
        pp.not_in_input.append(f"endpoint {what}: not in the input ({shown})")
    # (an endpoint chain shown without its DNAT and without an address or port is said above)
    told = {h.chain for h in hops}
    if note := dnat_unseen_note([h for path in pp.paths for h in path.endpoints if h.chain not in told],
                                ("its jump's comment", "their jumps' comments")):
        pp.not_in_input.append(note)
    for path in pp.paths:
        if path.verdict == "not-in-input":
            what = path.chains[-1]
            said = (f"{what}: in the input in part, {path.unseen} not" if path.unseen else
                    f"{what}: not in the input (the rules jump to it; what it does is unknown)")
            if path.jump_unseen:
                said = (f"{what}: not in the input, nor the jump to it (the clusterIP rule's masquerade twin above it "
                        "is: kube-proxy wrote the jump right after it, to the chain the port's name hashes to)")
            if said not in pp.not_in_input:  # (the load-balancer IP and the node port into one chain: said once)
                pp.not_in_input.append(said)
    for chain in dict.fromkeys(p.policy_chain for p in pp.paths if p.policy_chain):
        if hidden := hidden_split(rules.rules_of("nat", chain)):
            pp.not_in_input.append(
                f"endpoint shares: not in the input ({chain} shows {counted(len(hidden), 'endpoint jump')} that match "
                f"nothing with more after {agrees(len(hidden), 'it', 'them')}, {numbered('line', [r.line_no for r in hidden])}: "
                "kube-proxy writes only its last endpoint jump so; the listing does not print the -m statistic match "
                "that splits the traffic, as nft does not in a table iptables-nft wrote)")


def _entries(snapshot: ServiceSnapshot, port: ServicePort, spn: str, rules: RuleSet, chains: dict[str, str]) -> list[EntryPath]:
    """The port's entry rules in KUBE-SERVICES and KUBE-NODEPORTS, each followed; in a part of the rules without its
    clusterIP jump, the cluster IP's masquerade rule (KUBE-SERVICES before 1.21) stands for it."""
    own = set(chains.values())
    paths = [_follow(snapshot, port, spn, rules, rule, ["KUBE-SERVICES"], _entry_kind(snapshot, rule, chains))
             for rule in rules.rules_targeting("nat", "KUBE-SERVICES", own)]
    paths += [_follow(snapshot, port, spn, rules, rule, ["KUBE-NODEPORTS"], "nodePort")
              for rule in rules.rules_targeting("nat", "KUBE-NODEPORTS", own) if rule.target != "KUBE-MARK-MASQ"]
    if spn and port.port is not None and not rules.chain_complete("nat", "KUBE-SERVICES") \
            and not any(p.entry == "clusterIP" for p in paths):
        twin = next((r for r in rules.rules_targeting("nat", "KUBE-SERVICES", {"KUBE-MARK-MASQ"})
                     if _masquerades_cluster_ip(snapshot, port, spn, r)), None)
        if twin is not None:
            path = _follow(snapshot, port, spn, rules, twin, ["KUBE-SERVICES"], "clusterIP")
            path.packets = path.bytes = None  # (the twin counts only what it masquerades)
            path.chains, path.jump_unseen = ["KUBE-SERVICES"], True
            _walk(rules, chains["svc"], path)
            paths.append(path)
    return paths


def _masquerades_cluster_ip(snapshot: ServiceSnapshot, port: ServicePort, spn: str, rule: Rule) -> bool:
    """``rule`` is the port's cluster IP masquerade rule in KUBE-SERVICES (kube-proxy before 1.21: "! -s PODCIDR
    -d CIP --dport P -j KUBE-MARK-MASQ", comment "SPN cluster IP", written just above the jump to the service chain)."""
    if not (rule.comment or "").endswith(" cluster IP") or rule.dport_number != port.port:
        return False
    named = comments.read(rule.comment)
    return (named is not None and named.kind == "cluster IP" and named.spn == spn
            and bare_address(rule.dest_addr) in snapshot.cluster_ips and not (rule.dest_addr or "").startswith("!"))


def _entry_kind(snapshot: ServiceSnapshot, rule: Rule, chains: dict[str, str]) -> str:
    dest = bare_address(rule.dest_addr)
    if dest in snapshot.cluster_ips:
        return "clusterIP"
    if dest in snapshot.load_balancer_ips:
        return "loadBalancer"
    if dest in snapshot.external_ips:
        return "externalIP"
    comment = rule.comment or ""
    if comment.endswith("loadbalancer IP") or rule.target == chains["fw"]:
        return "loadBalancer"
    if comment.endswith("external IP"):
        return "externalIP"
    if rule.target in (chains["svc"], chains["svl"]):
        return "clusterIP"
    if rule.target in (chains["ext"], chains["xlb"]) and not comment:  # (a load balancer's or an external IP's, alike)
        return "external"
    return "externalIP"


def _follow(snapshot: ServiceSnapshot, port: ServicePort, spn: str, rules: RuleSet, entry: Rule,
            chains: list[str], kind: str) -> EntryPath:
    path = EntryPath(
        entry=kind,
        address=bare_address(entry.dest_addr),  # node ports: None (any local address) or 127.0.0.0/8
        port=entry.dport_number or (port.node_port if kind == "nodePort" else port.port),
        chains=list(chains),
        packets=entry.packets,
        bytes=entry.bytes,
        evidence=_evidences(entry),
        shown_port=entry.dport is not None or entry.partial,
    )
    _walk(rules, entry.target, path)
    return path


def _follow_chain(rules: RuleSet, chain: str) -> EntryPath:
    """A path whose entry rule is not in the input: it starts at the service chain the input shows."""
    path = EntryPath(entry=None, address=None, port=None, chains=["?"], shown_port=True)
    _walk(rules, chain, path)
    return path


def _follow_chains(rules: RuleSet, chains: dict[str, str]) -> list[EntryPath]:
    """The port's chains the input shows without an entry rule to them, each way followed once: the service chain (the
    cluster IP's), the outermost external chain (KUBE-FW, KUBE-EXT, or before 1.24 KUBE-XLB: a node port's or load
    balancer's, to KUBE-SVL under externalTrafficPolicy Local), and KUBE-SVL when neither leads to it. An external way
    that ends in a policy chain already followed is not a way of its own."""
    nat = rules.table("nat")
    outer = next((c for c in (chains["fw"], chains["ext"], chains["xlb"]) if nat is not None and c in nat.chains), None)
    paths: list[EntryPath] = []
    for start in (chains["svc"], outer, chains["svl"]):
        if start is None or nat is None or start not in nat.chains or any(start in p.chains for p in paths):
            continue
        path = _follow_chain(rules, start)
        if path.policy_chain is None or all(p.policy_chain != path.policy_chain for p in paths):
            paths.append(path)
    return paths


def _endpoint_chains(snapshot: ServiceSnapshot, port: ServicePort, spn: str) -> list[str]:
    if not spn:
        return []
    return [kubeproxy.endpoint_chain(spn, port.protocol, e.ip, e.port) for e in snapshot.port_endpoints(port) if e.port is not None]


def _follow_endpoints(rules: RuleSet, seps: list[str]) -> EntryPath:
    """Only endpoint chains are in the input: the endpoints are seen, their shares are not, nor are any others the
    service chain jumps to."""
    path = EntryPath(entry=None, address=None, port=None, chains=["?", "?"], shown_port=True, endpoints_in_part=True)
    for sep in seps:
        hop = _sep_hop(rules, sep)
        path.endpoints.append(hop)
    return path


def _walk(rules: RuleSet, current: str | None, path: EntryPath) -> None:
    """Walk FW -> EXT -> SVC/SVL (or the pre-1.24 XLB), at most a few hops, never in circles.

    A chain the input does not show ends the walk with verdict "not-in-input"; "missing" and
    "drop" are said only of chains the input shows whole.
    """
    seen: set[str] = set()
    while current and current not in seen:
        seen.add(current)
        path.chains.append(current)
        if rules.chain("nat", current) is None:
            path.verdict = "missing" if rules.knows("nat", current) == "absent" else "not-in-input"
            if current.startswith(("KUBE-SVC-", "KUBE-SVL-", "KUBE-XLB-")):
                path.policy_chain = current
            return
        body = rules.rules_of("nat", current)
        whole = rules.chain_complete("nat", current)
        if current.startswith("KUBE-FW-"):
            path.source_ranges = [r.source_addr for r in body if r.source_addr and r.target and r.target.startswith("KUBE-")]
            current = _next_hop(body)
            if current is None and not whole:  # (an excerpt down to its masquerade rule: where it goes on is cut)
                path.verdict = "not-in-input"
                path.unseen = "the rule that sends its traffic on is"
        elif current.startswith("KUBE-EXT-"):
            current = _next_hop(body)
            if current is None:
                _external_end(rules, body, whole, path)
        else:  # KUBE-SVC-/KUBE-SVL-/KUBE-XLB-: pick an endpoint
            _policy_chain(rules, current, body, whole, path)
            return


def _external_end(rules: RuleSet, body: list[Rule], whole: bool, path: EntryPath) -> None:
    """A KUBE-EXT chain with no way on. eTP=Local without local endpoints: kube-proxy ends the chain at its "route
    LOCAL traffic" rule and filter DROPs the rest. A chain an author listed under its header and cut at that row
    reads the same, so of a listing the drop is said only in a whole table (or, in _settled, by the filter's "has no
    local endpoints" rule); a chain read whole from the kernel (--local) is whole."""
    nat = rules.table("nat")
    proved = whole and ((nat is not None and nat.complete) or not _listed(rules, body))
    # (a whole chain without rules leads a packet nowhere on: kube-proxy writes none of its chains empty)
    path.verdict = ("drop" if proved else "not-in-input") if body else "missing" if whole else "not-in-input"
    if proved and body:  # (the proof in nat: the chain, whole, ends at this rule; the filter's DROP, when listed, follows)
        path.evidence.append(_evidence(body[-1]))
    if not proved and body and (body[-1].comment or "").startswith("route LOCAL traffic"):
        path.unseen = (f"the rule after its 'route LOCAL traffic' one (a jump to KUBE-SVL-{path.chains[-1][9:]} when the "
                       "node has local endpoints; none when it has none, and the filter table drops the rest) is")
    elif not proved and body:  # (a grep of the Service's name: the uncommented jump to KUBE-SVL is left out)
        path.unseen = "the rule a client from outside takes (its jump on) is"


def _policy_chain(rules: RuleSet, current: str, body: list[Rule], whole: bool, path: EntryPath) -> None:
    """KUBE-SVC-/KUBE-SVL-/KUBE-XLB-: the endpoints it picks from, and what of them the input shows."""
    path.policy_chain = current
    path.endpoints = _endpoints(rules, current, body)
    drop = next((r for r in body if r.target == "KUBE-MARK-DROP"), None)
    if drop is not None and not path.endpoints:
        path.verdict = "drop"  # before 1.24: KUBE-XLB "… has no local endpoints" -j KUBE-MARK-DROP
        path.evidence.append(_evidence(drop))
    elif not path.endpoints:
        path.verdict = "missing" if whole else "not-in-input"
        if not whole and body:  # (the chain's rules are in part: the finding says it is, its jumps not)
            path.unseen = ("the rest of its rules (the local endpoints' jumps, or its 'has no local endpoints' DROP) are"
                           if current.startswith("KUBE-XLB-") else "the rest of its rules (the endpoints' jumps) are")
    if not whole and not whole_cascade(rules, body):
        for hop in path.endpoints:
            hop.probability = None  # rules cut out before the ones shown may have taken a share
        path.endpoints_in_part = bool(path.endpoints)  # (and after them, more endpoints' jumps)
        steps = [r for r in body if (r.target or "").startswith("KUBE-SEP-")]
        if path.endpoints_in_part and _own_word_picked(rules, steps):
            path.in_part_why = ("the pasted grep's word picks one endpoint's jump alone (its chain or its "
                                "address): the jumps to the other endpoints do not hold it")
        elif path.endpoints_in_part and not _opens_paste(rules, body[0]) and _jumps_alone(rules, current, body):
            path.in_part_why = ("the input shows it only by its jumps to endpoint chains, with no rule that "
                                "jumps to it and no line declaring it: a grep for one endpoint's chain or "
                                "address prints just that, without the other endpoints' jumps")


def whole_cascade(rules: RuleSet, body: list[Rule]) -> bool:
    """The endpoint rules shown are a whole kube-proxy cascade, in an input nobody marked as cut.

    kube-proxy writes n rules: --probability 1/n, 1/(n-1), …, 1/2, then one unconditional. Shown
    like that, with no "..." in the paste, they are all the rules (a grep of one Service's lines).
    """
    cut = {d.source for d in rules.dumps if d.elisions}
    steps = [r for r in body if (r.target or "").startswith("KUBE-SEP-") and "--rcheck" not in r.options]
    if not steps or any(r.source in cut or r.partial for r in steps):
        return False
    if body[0] is steps[0] and _opens_paste(rules, body[0]):
        return False
    if _own_word_picked(rules, steps):
        return False  # (the pasted grep's word is the endpoint's own: the chain's other jumps did not hold it)
    if _jumps_alone(rules, body[0].chain, body):
        return False
    return _is_cascade(steps)


def _is_cascade(steps: list[Rule]) -> bool:
    """The endpoint jumps' probabilities are kube-proxy's cascade for as many endpoints: 1/n, …, 1/2, then none."""
    n = len(steps)
    for i, r in enumerate(steps):
        want = None if i == n - 1 else 1 / (n - i)
        if want is None:
            if r.probability is not None:
                return False
        elif r.probability is None or abs(r.probability - want) > 1e-4:
            return False
    return True


def _in_part_why(rules: RuleSet, body: list[Rule]) -> str:
    """Why a service chain's endpoint jumps shown may not be all of them (said beside "not all in the input")."""
    if body and _opens_paste(rules, body[0]):
        return "the paste opens with its endpoint jumps: rules above them, if any, were not copied"
    steps = [r for r in body if (r.target or "").startswith("KUBE-SEP-") and "--rcheck" not in r.options]
    if steps and not _is_cascade(steps) and not hidden_split(body):  # (proved: a share of the cascade is missing above,
        # between or below; not when the listing hides the split, whose probabilities a cascade is told by)
        return "its endpoint jumps shown are not all of kube-proxy's cascade"
    cuts = sorted({line for d in rules.dumps if d.source == body[0].source for line in d.elisions}) if body else []
    if cuts:
        first = min(r.line_no for r in body)
        if first - 1 in cuts:  # (the cut mark right above the chain's first rule shown: the seed's paste)
            return f"the paste is cut at line {first - 1}, right above its rules: jumps above them, if any, were not copied"
        lines = ", ".join(map(str, cuts[:5])) + (", …" if len(cuts) > 5 else "")
        return f"the paste is cut at line{'s' if len(cuts) > 1 else ''} {lines}: more of its jumps may be in what was left out"
    return "its endpoint jumps shown may not be all of them"


def _opens_paste(rules: RuleSet, rule: Rule) -> bool:
    """Bare rule lines that open with this rule: the author may have begun copying below a chain's first rules.

    Any tail of kube-proxy's cascade is a cascade (0.5 then the rest is 2 endpoints, or the last 2 of 3); a
    service chain's masquerade rule, a header or another chain's rule above its jumps shows where it starts."""
    return any(d.form == "rules-only" and d.source == rule.source and d.first_rule_line == rule.line_no for d in rules.dumps)


def _listed(rules: RuleSet, body: list[Rule]) -> bool:
    """The chain's rules come from an ``iptables -L`` listing (whole under its header, unless its author cut it)."""
    return bool(body) and any(d.source == body[-1].source and d.form.startswith("iptables-list") for d in rules.dumps)


def _jumps_alone(rules: RuleSet, chain: str, body: list[Rule]) -> bool:
    """Bare rule lines show the service chain only as its jumps to endpoint chains: no line declares it (``:CHAIN``,
    ``-N``), none of its other rules (1.24+: the cluster IP's masquerade rule) and no jump to it is there.

    That is what ``iptables-save | grep KUBE-SEP-…`` (or a grep for the endpoint's address) prints, pasted without
    its command: the jump to that endpoint alone, the last one unconditional as a one-endpoint chain's is. A grep
    for the Service's name or the chain's own name prints its entry rules or its declaration too."""
    c = rules.chain("nat", chain)
    if c is None or c.declared or rules.chain_complete("nat", chain) or not chain.startswith(("KUBE-SVC-", "KUBE-SVL-")):
        return False
    bare = {d.source for d in rules.dumps if d.form == "rules-only"}
    if not body or any(r.source not in bare or not (r.target or "").startswith("KUBE-SEP-") for r in body):
        return False
    h = chain[len("KUBE-SVC-"):]  # (KUBE-SVL- is as long: the service's chains share the hash)
    callers = ("KUBE-SERVICES", "KUBE-NODEPORTS", f"KUBE-EXT-{h}", f"KUBE-FW-{h}", f"KUBE-XLB-{h}")
    return not any(rules.rules_targeting("nat", caller, {chain}) for caller in callers)


def _own_word_picked(rules: RuleSet, steps: list[Rule]) -> bool:
    """The paste's grep commands picked one of these jumps by a word only that endpoint's jump holds.

    A jump no grep of the paste selects at all was not printed by them (the author pasted other lines below the
    command, `iptables-save | grep loadbal` above a service chain): it tells nothing of what they left out."""
    picked = {d.source: d.selection for d in rules.dumps if d.selection is not None}
    return any(r.source in picked and selects(picked[r.source], r.raw) and not selects(picked[r.source], _shared_words(r))
               for r in steps)


def _shared_words(rule: Rule) -> str:
    """A service chain's jump as its sibling jumps to the other endpoints would print too: without the endpoint
    chain's name, the "-> ADDR:PORT" of its comment (1.27+) and the statistic match, which are the endpoint's own."""
    text = rule.raw.replace(rule.target or "", "")
    return _OWN_PART.sub("", text)


# an endpoint jump's own words: its comment's "-> ADDR:PORT", its probability (save and -L forms)
_OWN_PART = re.compile(r" -> [^\"*]*|(?:-m )?statistic(?: --mode| mode) random(?: --probability| probability) \S+")


def _next_hop(body: list[Rule]) -> str | None:
    """The chain an external packet ends in: the last unconditional jump to a service chain.

    eTP=Local EXT chains first short-circuit pod and local traffic to KUBE-SVC (conditional
    rules), then send the rest to KUBE-SVL; the last rule without a match is what a client
    from outside gets.
    """
    candidates = [r for r in body if r.target and r.target.startswith(("KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-XLB-"))
                  and r.target != "KUBE-MARK-DROP"]
    unconditional = [r for r in candidates if _unconditional(r)]
    pick = unconditional[-1] if unconditional else None
    if pick is None and candidates and all(r.source_addr for r in candidates):
        pick = candidates[0]  # KUBE-FW: "-s RANGE -j KUBE-EXT": the allowed way on
    return pick.target if pick else None


def _unconditional(rule: Rule) -> bool:
    return not (rule.source_addr or rule.dest_addr or rule.in_iface or rule.out_iface
                or any(m not in ("comment",) for m in rule.matches))


def _endpoints(rules: RuleSet, chain: str, body: list[Rule]) -> list[EndpointHop]:
    """Endpoint hops with their effective share of new connections.

    kube-proxy writes n rules with --probability 1/(n-i) and a last unconditional one; the
    share of rule i is its probability times what the rules before it left over.
    """
    hops: dict[str, EndpointHop] = {}
    order: list[str] = []
    remaining = 1.0
    for rule in body:
        target = rule.target
        if target in _NOOP_TARGETS or not target or not target.startswith("KUBE-SEP-"):
            continue
        if "--rcheck" in rule.options or "--update" in rule.options:  # ClientIP affinity: returning clients only
            hop = hops.get(target) or _sep_hop(rules, target)
            hop.affinity = True
            if target not in hops:
                hops[target] = hop
                hop.probability = 0.0
                order.append(target)
            continue
        share = remaining * rule.probability if rule.probability is not None else remaining
        remaining -= share
        if target not in hops:
            hops[target] = _sep_hop(rules, target)
            hops[target].probability = 0.0
            order.append(target)
        hop = hops[target]
        hop.probability = (hop.probability or 0.0) + share
        hop.evidence.insert(0, _evidence(rule))
    for target in order:  # an endpoint chain the input does not show: its jumps still name and count it
        if hops[target].ip == "?":
            _from_jumps(hops[target], [r for r in body if r.target == target])
    if hidden_split(body):
        for hop in hops.values():
            hop.probability = None  # (the listing hides the match that splits the traffic: shares unknown)
    return [hops[t] for t in order]


def hidden_split(body: list[Rule]) -> list[Rule]:
    """Endpoint jumps shown unconditional with more endpoint jumps after them: kube-proxy writes only its last one so
    (the others hold -m statistic), so the listing hides that match (nft cannot print the xt statistic match of a
    table iptables-nft wrote): which share each endpoint gets is not in the input, not "all to the first"."""
    steps = [r for r in body if (r.target or "").startswith("KUBE-SEP-")
             and "--rcheck" not in r.options and "--update" not in r.options]
    # (iptables prints every match it stored: in its own listings an unconditional jump is one, as the kernel runs it)
    return [r for r in steps[:-1] if r.probability is None and _NFT_JUMP.search(r.raw)]


_NFT_JUMP = re.compile(r"(?:^|\s)(?:jump|goto)\s+KUBE-SEP-")


def _from_jumps(hop: EndpointHop, jumps: list[Rule]) -> None:
    """The endpoint kube-proxy names in its jump's comment ("ns/svc:port -> 10.42.0.25:8080", 1.28+) and the
    jumps' counters (every packet of a chain whose first rule only marks reaches its DNAT): seen, with
    the jump as evidence, when the endpoint chain itself is not in the input."""
    named = {split_hostport(r.comment.rpartition(" -> ")[2]) for r in jumps if r.comment and " -> " in r.comment}
    if len(named) == 1:
        ip, port = next(iter(named))
        if ip and port is not None and ip_family(ip) is not None:
            hop.ip, hop.port = ip, port
    if jumps and all(r.packets is not None for r in jumps):
        hop.packets = sum(r.packets or 0 for r in jumps)
        hop.bytes = sum(r.bytes or 0 for r in jumps)


def _sep_hop(rules: RuleSet, chain: str) -> EndpointHop:
    body = rules.rules_of("nat", chain)
    dnat = next((r for r in body if r.target == "DNAT"), None)
    ip, port = split_hostport(dnat.to_destination if dnat else None)
    hairpin = None if ip else _hairpin(body)
    if hairpin is not None:
        ip = bare_address(hairpin.source_addr)
    hop = EndpointHop(ip=ip or "?", port=port, chain=chain,
                      probability=None, packets=dnat.packets if dnat else None, bytes=dnat.bytes if dnat else None)
    if hairpin is not None:
        hop.evidence.append(_evidence(hairpin))
    if dnat:
        hop.evidence.append(_evidence(dnat))
        hop.affinity = hop.affinity or "--set" in dnat.options
    elif rules.knows("nat", chain) == "not-in-input":
        hop.dnat_unseen = "chain"
    elif not rules.chain_complete("nat", chain):
        hop.dnat_unseen = "rule"
    return hop


def _hairpin(body: list[Rule]) -> Rule | None:
    """An endpoint chain's hairpin rule ("-s 10.244.1.4/32 -j KUBE-MARK-MASQ": the endpoint masquerades what it sends
    to itself), when its DNAT shows no destination (an older iptables' '[unsupported revision]', nft's 'xt target
    "DNAT"') or is not in the input: the source is the endpoint's address, seen; its port is not in the input."""
    for r in body:
        addr = bare_address(r.source_addr) if r.target == "KUBE-MARK-MASQ" else None
        if addr and "/" not in addr and ip_family(addr) is not None:  # (one host: bare_address took its /32 or /128)
            return r
    return None


def _affinity_timeout(rules: RuleSet, chain: str | None) -> int | None:
    for rule in rules.rules_of("nat", chain or ""):
        seconds = rule.options.get("--seconds")
        if seconds and seconds[0].isdigit():
            return int(seconds[0])
    return None


def _settled(existing: EntryPath, rule: Rule, verdict: str, own: bool) -> None:
    """A filter REJECT/DROP of an entry the nat walk followed already. When the walk ended here (eTP=Local, no local
    endpoint), the filter rule is its proof; when it left off in a chain shown in part (a grep leaves out KUBE-EXT's
    uncommented last rule), the port's ``own`` "has no (local) endpoints" rule says what becomes of the packet."""
    if (existing.verdict == "not-in-input" and own) or existing.verdict == "missing":
        # (a nat path leading to an empty or absent chain DNATs nothing: the packet meets this filter rule as it is)
        existing.verdict, existing.unseen = verdict, None
        existing.evidence.append(_evidence(rule))
    elif existing.verdict == verdict:
        existing.evidence.append(_evidence(rule))
        if existing.packets is not None and rule.packets is not None:
            existing.packets, existing.bytes = rule.packets, rule.bytes


def _filter_verdicts(snapshot: ServiceSnapshot, port: ServicePort, spn: str, rules: RuleSet,
                     found: list[EntryPath]) -> list[EntryPath]:
    """REJECT ("has no endpoints") and DROP ("has no local endpoints") rules in the filter table.

    With no usable endpoints kube-proxy writes no nat rules for the port at all; the filter
    table is then the only place that says what happens to the packet.
    """
    out: list[EntryPath] = []
    proto = port.protocol.lower()
    have = {(p.entry, p.address): p for p in found}
    # only rules that name the port or one of the Service's addresses can be about it
    words = (*((spn + " has no",) if spn else ()), *snapshot.cluster_ips, *snapshot.external_ips, *snapshot.load_balancer_ips,
             *snapshot.other_ips,
             *((f"--dport {port.node_port}",) if port.node_port else ()))
    for chain in ("KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "?"):  # ("?": -L lines without their chain's header)
        for rule in rules.rules_mentioning("filter", chain, words):
            if rule.target not in ("REJECT", "DROP"):
                continue
            comment = rule.comment or ""
            mine = comment.startswith(spn + " has no") if comment and spn else False
            dest = bare_address(rule.dest_addr)
            rport = rule.dport_number
            if not mine:
                # no comment (or a lying one): match on address, protocol and port; a port the listing hides (or one the
                # input does not show) is no match (a REJECT whose comment names the Service's other port is that port's)
                addr_ok = dest is not None and dest in (snapshot.cluster_ips + snapshot.external_ips + snapshot.load_balancer_ips)
                mine = addr_ok and rport is not None and rport == port.port and (rule.protocol or "") == proto
                if not mine and dest is None and "addrtype" in rule.matches:
                    mine = rport is not None and rport == port.node_port and (rule.protocol or "") == proto
            if not mine:
                continue
            if dest is None:
                kind = "nodePort"
            elif dest in snapshot.load_balancer_ips:
                kind = "loadBalancer"
            elif dest in snapshot.external_ips:
                kind = "externalIP"
            elif dest in snapshot.other_ips or (chain == "?" and dest not in snapshot.cluster_ips):
                kind = "address"
            elif dest in snapshot.cluster_ips or chain == "KUBE-SERVICES":
                kind = "clusterIP"
            else:  # (KUBE-EXTERNAL-SERVICES rejects an external IP's and a load-balancer IP's traffic alike)
                kind = "address"
            verdict = "reject" if rule.target == "REJECT" else "drop"
            existing = have.get((kind, dest))
            if existing is not None:
                _settled(existing, rule, verdict, bool(spn) and comment.startswith(spn + " has no"))
                continue
            out.append(EntryPath(entry=kind, address=dest, port=rport, chains=["filter", chain], packets=rule.packets,
                                 bytes=rule.bytes, verdict=verdict, evidence=[_evidence(rule)],
                                 shown_port=rule.dport is not None))  # (by name too: "tcp dpt:gsmp-x" of -L without -n)
    return out
