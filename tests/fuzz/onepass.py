"""The one-pass --all table against the full analysis, on mutated inputs (issue 11).

The one pass (modes/iptables/audit.py, audit_match.py, audit_api.py; modes/nftables/audit.py) gives a
Service the row of the first Service of its template, its own values put back. The fixed edits of
tests/unit/modes/iptables/test_audit_onepass.py prove that on the problems we thought of; this
campaign makes the ones we did not.

``--form iptables``: a generated iptables-save dump of 96 Services of repeated shapes, written in turn
as kube-proxy writes it under five configurations (CONFIGS: by default, in large-cluster mode, without
a cluster CIDR and with --random-fully under the nft backend, with masquerade-all and nfacct and no
counters, without the filter table), every other one with the Services in one namespace named so that
many names begin with another's (svc-1, svc-10, svc-10-a: the one pass masks a Service's name in its
text). Each case makes one to three random edits of its rule lines,
mostly of later Services (whose rows a template makes): a digit, a line dropped, doubled or moved, a
protocol, a jump to another endpoint chain, a prefix length, counters, an address or port from a set
that collides with the dump's own values or sits where the checks read it apart (127/8, .0,
0.0.0.0), a DNAT turned into an ACCEPT, a comment cut, a probability, a match added or dropped. In
three cases in ten, one value of a later Service (an address or a port) is also made another
everywhere it stands (an octet past 255 or with a leading zero, a .0 host, loopback, port 0, 080,
65536): the Service still matches its template but for that value. Each case's table, totals, notes
and exit status must equal the audit that analyses every Service in full; two cases in three run with
every template compiled at its first Service (audit_match.LEARN_AFTER 1), the others as users run it;
one case in four with --problems, one in eight with -n.

``--form api``: the same with the Services from the API (live, ``--manifest``), on
tests/onepass_inputs.py's 122 API Services and objects (no -n), each case with up to two
edits of the rules and one to three of a later Service's objects (an endpoint's conditions, address, node or
zone; a port, target port, protocol or node port; the type, the cluster IP, the traffic policies, the
affinity; a slice dropped or an endpoint added).

``--form nft`` / ``nft-json``: the same over kube-proxy's nftables table (modes/nftables/audit.py), on
tests/onepass_inputs.py's 96 nftables Services (every other case with the names above): the edits are made to nftgen's
transaction (its rules and map elements), which is then listed as `nft list` / `nft -j list` prints it.

``python -m tests.fuzz.onepass --seed N --cases 2000 [--form api|nft|nft-json]`` (``make fuzz-onepass``)
runs a campaign; tests/fuzz/test_onepass.py runs a fixed slice. Cases are deterministic by seed and number.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import random
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubectl_svcpath.errors import SvcpathError
from kubectl_svcpath.modes.iptables import audit_match
from tests.lab.kpgen import ProxyConfig, save_text
from tests.lab.nftgen import generate
from tests import onepass_inputs as inputs

# values the edits put in: the dump's own (a collision the templates must tell apart) and the ones the
# checks read apart (loopback, "this network", a .0 host, the broadcast address)
_ADDRESSES = ["0.0.0.0", "127.0.0.1", "10.244.1.0", "255.255.255.255", "10.96.0.10", "10.244.0.0", "10.244.3.50"]
_PORTS = ["80", "8080", "53", "5353", "30100", "0", "65535", "8443"]
_PROBABILITIES = ["0.25000000000", "0.50000000000", "0.33333333349"]
_IP = re.compile(r"\d+\.\d+\.\d+\.\d+")
_RULE = re.compile(r"^(?:\[\d+:\d+\] )?-A ")


@dataclass
class Case:
    index: int
    edits: list[str]  # what was done: "name@line" for a rule line, "name@namespace/name" for an object
    text: str
    objects: list[dict[str, Any]] = field(default_factory=list)  # (form "api")
    problems: bool = False  # --problems (one case in four)
    namespace: str | None = None  # -n (rules only: one case in eight)


@dataclass
class Outcome:
    case: Case
    learn_after: int
    verdict: str  # "same", "differ", "not-one-pass", "not-audited"
    detail: str = ""
    changed: bool = False  # the edits changed the full analysis' table (the case tested something; cases without flags)


FORMS = ("iptables", "api", "nft", "nft-json")
# how kube-proxy may have been configured (the iptables forms): a case takes the one of its number, in turn
# (large-cluster mode drops the endpoint chains' comments; no cluster CIDR drops the "! -s" detector)
CONFIGS = [(ProxyConfig(), "legacy", True), (ProxyConfig(large_cluster=True), "legacy", True),
           (ProxyConfig(cluster_cidr=None, random_fully=True), "nft", True),
           (ProxyConfig(masquerade_all=True, nfacct=True), "legacy", False),
           (ProxyConfig(localhost_nodeports=False, filter_table=False), "nft", True)]


def _prefixed(specs: list[Any]) -> list[Any]:
    """The same Services in one namespace, named so that many names begin with another's (svc-1, svc-10,
    svc-10-a, ...), as real ones do (web, web-api): the one pass masks a Service's name in its text."""
    out: list[Any] = []
    for spec in specs:
        name = spec.name.replace("svc-0", "svc-")
        if out and int(name.split("-")[1]) % 3 == 2:
            name = out[-1].name + "-a"
        out.append(dataclasses.replace(spec, name=name, namespace="ns1"))
    return out


class Base:
    """The generated rules, their lines, the values edits draw from (made once) and, with the Services
    from the API, their objects. ``form``: "iptables" (an iptables-save dump), "api" (the same with API
    objects), "nft" / "nft-json" (nftgen's transaction, listed as `nft list` / `nft -j list` prints it)."""

    def __init__(self, form: str, config: int = 0) -> None:
        self.form = form
        if form.startswith("nft"):
            self.text = generate(_prefixed(inputs.nft_services()) if config % 2 else inputs.nft_services())
            self.objects: list[dict[str, Any]] = []
            rule = re.compile(r"add (?:rule|element) ")
            chain = re.compile(r"add rule ip kube-proxy (endpoint-\S+) ")
        else:
            specs = inputs.api_services() if form == "api" else inputs.save_services()
            specs = _prefixed(specs) if config % 2 else specs
            cfg, backend, counters = CONFIGS[config]
            self.text = save_text(specs, cfg, backend, counters)
            self.objects = inputs.api_objects_of(specs) if form == "api" else []
            rule, chain = _RULE, re.compile(r"-A (KUBE-SEP-\w{16}) ")
        self.lines = self.text.split("\n")
        rules = [i for i, line in enumerate(self.lines) if rule.match(line)]
        self.later = rules[len(rules) // 5:]  # (mostly later Services: their rows come from a template)
        self.rule = rule
        self.seps = sorted({m.group(1) for line in self.lines if (m := chain.search(line))})
        self.addresses = sorted(set(_IP.findall(self.text)))
        # the later Services' objects (a Service and its slices), by Service
        services = [i for i, o in enumerate(self.objects) if o.get("kind") == "Service"]
        self.later_services = services[len(services) // 5:]
        self._rows: list[dict[str, str]] | None = None

    def input_text(self, lines: list[str | None]) -> str:
        text = "\n".join(line for line in lines if line is not None)
        if self.form == "nft-json":
            return inputs.nft_json(text)
        return inputs.nft_listing(text) if self.form == "nft" else text

    def full_rows(self) -> list[dict[str, str]]:
        """The table of the unedited input, each Service analysed in full (made once)."""
        if self._rows is None:
            with tempfile.TemporaryDirectory(prefix="svcpath-onepass-") as tmp:
                dump = Path(tmp) / "base.txt"
                dump.write_text(self.input_text(list(self.lines)))
                if self.objects:
                    self._rows = inputs.both_api([str(dump)], copy.deepcopy(self.objects), node=inputs.NODE)[0].audit_rows
                else:
                    self._rows = inputs.both([str(dump)])[0].audit_rows
        return self._rows


def _edit(lines: list[str | None], at: int, rnd: random.Random, base: Base) -> str:
    """One edit of line ``at`` (None: dropped); returns its name."""
    line = lines[at]
    assert line is not None
    kind = rnd.randrange(15)
    name = ["digit", "drop", "double", "swap", "udp", "other-sep", "prefix", "counters", "address", "accept",
            "comment-cut", "probability", "odd-address", "port", "match"][kind]
    if kind == 0:
        digits = [m.start() for m in re.finditer(r"\d", line)]
        if digits:
            p = rnd.choice(digits)
            line = line[:p] + str(rnd.randrange(10)) + line[p + 1:]
    elif kind == 1:
        lines[at] = None
        return name
    elif kind == 2:
        lines.insert(at, line)
        return name
    elif kind == 3:
        following = lines[at + 1] if at + 1 < len(lines) else None
        if following is not None and base.rule.match(following):
            lines[at], lines[at + 1] = following, line
        return name
    elif kind == 4:
        line = line.replace("tcp", "udp")
    elif kind == 5:
        line = re.sub(r"KUBE-SEP-\w{16}" if not base.form.startswith("nft") else r"(?<= )endpoint-\S+", rnd.choice(base.seps), line, count=1)
    elif kind == 6:
        line = line.replace("/32", "/24", 1) if not base.form.startswith("nft") else line.replace("/8 ", "/16 ", 1)
    elif kind == 7:
        packets, count = rnd.randrange(1, 50), rnd.randrange(100, 5000)
        if base.form.startswith("nft"):
            line = re.sub(r"^(add rule ip kube-proxy \S+ )", rf"\1counter packets {packets} bytes {count} ", line)
        else:
            line = re.sub(r"^\[\d+:\d+\]", f"[{packets}:{count}]", line)
    elif kind == 8:
        line = _IP.sub(rnd.choice(base.addresses), line, count=1)
    elif kind == 9:
        line = line.replace("-j DNAT", "-j ACCEPT").replace("-j KUBE-MARK-MASQ", "-j RETURN").replace(
            " dnat to ", " accept comment ").replace("jump mark-for-masquerade", "return")
    elif kind == 10:
        line = re.sub(r'--comment "([^"]*)"', lambda m: f'--comment "{m.group(1)[:-1]}"', line, count=1)
    elif kind == 11:
        line = re.sub(r"--probability [0-9.]+", f"--probability {rnd.choice(_PROBABILITIES)}", line)
        line = re.sub(r"numgen random mod \d+", f"numgen random mod {rnd.randrange(1, 4)}", line)
    elif kind == 12:
        line = _IP.sub(rnd.choice(_ADDRESSES), line, count=1)
    elif kind == 13:
        port = re.search(r"(?:--dport |dport |\. |:)(\d{2,5})\b", line)
        if port:
            line = line[:port.start(1)] + rnd.choice(_PORTS) + line[port.end(1):]
    elif base.form.startswith("nft"):
        line = line.replace(" tcp dport", "", 1) if rnd.random() < 0.5 else line.replace(" goto ", " jump ", 1).replace(" jump ", " meta mark 0x4000 jump ", 1)
    else:
        line = line.replace(" -m tcp", "", 1) if rnd.random() < 0.5 else line.replace(" -j ", " -m mark --mark 0x4000/0x4000 -j ", 1)
    lines[at] = line
    return name


_CONDITIONS = [{}, {"ready": True}, {"ready": False}, {"ready": False, "serving": True, "terminating": True},
               {"ready": False, "serving": False, "terminating": True}, {"ready": True, "serving": True, "terminating": False},
               {"ready": False, "serving": True, "terminating": False}]


def _edit_objects(objects: list[dict[str, Any]], at: int, rnd: random.Random, base: Base) -> str:
    """One edit of the Service at ``objects[at]`` or of its EndpointSlices; returns its name."""
    svc = objects[at]
    spec = svc["spec"]
    ref = f"{svc['metadata']['namespace']}/{svc['metadata']['name']}"
    slices = [o for o in objects[at + 1:at + 4] if o.get("kind") == "EndpointSlice"
              and o["metadata"]["labels"].get("kubernetes.io/service-name") == svc["metadata"]["name"]
              and o["metadata"]["namespace"] == svc["metadata"]["namespace"]]
    endpoints = [ep for sl in slices for ep in sl.get("endpoints") or []]
    kind = rnd.randrange(13)
    name = ["conditions", "endpoint-address", "node", "zone", "port", "target-port", "protocol", "node-port",
            "type", "cluster-ip", "policies", "slice-dropped", "endpoint-added"][kind]
    if kind == 0 and endpoints:
        rnd.choice(endpoints)["conditions"] = copy.deepcopy(rnd.choice(_CONDITIONS))
    elif kind == 1 and endpoints:
        rnd.choice(endpoints)["addresses"] = [rnd.choice(base.addresses + _ADDRESSES)]
    elif kind == 2 and endpoints:
        ep = rnd.choice(endpoints)
        node = rnd.choice([inputs.NODE, "node-b", None])
        if node is None:
            ep.pop("nodeName", None)
        else:
            ep["nodeName"] = node
    elif kind == 3 and endpoints:
        ep = rnd.choice(endpoints)
        ep["zone"] = rnd.choice(["zone-a", "zone-b"])
        ep["hints"] = {"forZones": [{"name": rnd.choice(["zone-a", "zone-b"])}]}
    elif kind in (4, 5, 6, 7):
        port = rnd.choice(spec["ports"])
        if kind == 4:
            port["port"] = int(rnd.choice(_PORTS[:5]))
        elif kind == 5:
            port["targetPort"] = int(rnd.choice(_PORTS[:5]))
            for sl in slices:  # (most often the slice says the same: kube-proxy's DNAT port comes from it)
                for p in sl.get("ports") or []:
                    if rnd.random() < 0.7 and p.get("name") == port.get("name"):
                        p["port"] = port["targetPort"]
        elif kind == 6:
            port["protocol"] = rnd.choice(["UDP", "TCP", "SCTP"])
        elif "nodePort" in port and rnd.random() < 0.5:
            del port["nodePort"]
        else:
            port["nodePort"] = int(rnd.choice(["30100", "30150", "32767"]))
    elif kind == 8:
        spec["type"] = rnd.choice(["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"])
    elif kind == 9:
        spec["clusterIP"] = rnd.choice(base.addresses + ["None"])
        spec["clusterIPs"] = [spec["clusterIP"]]
    elif kind == 10:
        spec[rnd.choice(["externalTrafficPolicy", "internalTrafficPolicy"])] = rnd.choice(["Local", "Cluster"])
        if rnd.random() < 0.3:
            spec["sessionAffinity"] = rnd.choice(["ClientIP", "None"])
    elif kind == 11 and slices:
        objects.remove(rnd.choice(slices))
    elif kind == 12 and slices:
        slices[0].setdefault("endpoints", []).append({"addresses": [rnd.choice(base.addresses)],
                                                     "conditions": copy.deepcopy(rnd.choice(_CONDITIONS))})
    return f"{name}@{ref}"


# values the analysis reads apart from the ones a template takes out, or that are not values at all
_ODD_PORTS = ["0", "080", "65536", "99999", "1", "65535"]
_ODD_OCTETS = ["256", "059", "0", "00", "999", "255"]


def _everywhere(lines: list[str | None], objects: list[dict[str, Any]], rnd: random.Random, base: Base) -> str:
    """One value of a later Service (an address, or a port) made another everywhere it stands - rules and
    objects alike -, so that the Service still matches its template but for that value."""
    line = next(x for x in (lines[rnd.choice(base.later)] for _ in range(50)) if x is not None)
    values = _IP.findall(line) + re.findall(r"(?:dport |\. |:)(\d{2,5})\b", line)
    if not values:
        return "everywhere-none"
    old = rnd.choice(values)
    if "." in old:
        new = f"{old.rpartition('.')[0]}.{rnd.choice(_ODD_OCTETS)}" if rnd.random() < 0.8 else rnd.choice(["127.0.0.1", "0.0.0.0", "255.255.255.255"])
    else:
        new = rnd.choice(_ODD_PORTS)
    value = re.compile(rf"(?<![\w.]){re.escape(old)}(?![\w])" if "." in old else rf"(?<![\w.]){re.escape(old)}(?!\d)")
    for i, x in enumerate(lines):
        if x is not None and old in x:
            lines[i] = value.sub(new, x)
    if objects:
        text = json.dumps(objects)
        objects[:] = json.loads(re.sub(rf'"{re.escape(old)}"', f'"{new}"', text) if "." in old
                                else re.sub(rf'(?<=: ){re.escape(old)}(?=[,}}])', str(int(new)), text))
    return f"everywhere:{old}->{new}"


def make_case(index: int, seed: int, base: Base) -> Case:
    rnd = random.Random(seed * 1_000_003 + index)
    lines: list[str | None] = list(base.lines)
    edits = []
    for _ in range(rnd.randrange(0 if base.objects else 1, 3 if base.objects else 4)):
        at = rnd.choice(base.later)
        while lines[at] is None:  # (a line an earlier edit dropped)
            at = rnd.choice(base.later)
        edits.append(f"{_edit(lines, at, rnd, base)}@{at + 1}")
    objects: list[dict[str, Any]] = []
    if base.objects:
        objects = copy.deepcopy(base.objects)
        for at in sorted(rnd.sample(base.later_services, rnd.randrange(1, 4)), reverse=True):
            edits.append(_edit_objects(objects, at, rnd, base))  # (from the last: a slice dropped moves no later index)
    if rnd.random() < 0.3:
        edits.append(_everywhere(lines, objects, rnd, base))
    try:
        text = base.input_text(lines)
    except Exception as e:  # (nft -j is written from the project's own reading of the edited text: it may refuse it)
        text, edits = "", [*edits, f"not listed: {type(e).__name__}"]
    return Case(index, edits, text, objects, problems=index % 4 == 3, namespace="ns1" if index % 8 == 7 and not objects else None)


def check(case: Case, learn_after: int, base_rows: list[dict[str, str]], folder: Path) -> Outcome:
    """The case's table both ways (each Service in full, and the one pass)."""
    dump = folder / f"case-{case.index}.txt"
    dump.write_text(case.text)
    was = audit_match.LEARN_AFTER
    audit_match.LEARN_AFTER = learn_after
    try:
        if case.objects:
            full, fast, _ = inputs.both_api([str(dump)], case.objects, case.problems, node=inputs.NODE)
        else:
            full, fast, _ = inputs.both([str(dump)], case.namespace, case.problems)
    except SvcpathError as e:
        return Outcome(case, learn_after, "not-audited", str(e))
    except AssertionError as e:  # (the API form's own check: the rows of the API half made beforehand, as live)
        return Outcome(case, learn_after, "differ", f"API half made beforehand: {e}")
    finally:
        audit_match.LEARN_AFTER = was
    changed = full.audit_rows != base_rows and not case.problems and case.namespace is None  # (base_rows: no flags)
    if fast is None:
        return Outcome(case, learn_after, "not-one-pass", changed=changed)
    for name, a, b in (("rows", full.audit_rows, fast.audit_rows), ("totals", full.audit_totals, fast.audit_totals),
                       ("error", full.audit_error, fast.audit_error), ("notes", full.notes, fast.notes)):
        if a != b:
            first = next(((x, y) for x, y in zip(a, b, strict=False) if x != y), (a, b)) if isinstance(a, list) else (a, b)
            return Outcome(case, learn_after, "differ", f"{name}: full {first[0]!r}, one pass {first[1]!r}", changed)
    return Outcome(case, learn_after, "same", changed=changed)


def run(seed: int, cases: int, form: str = "iptables", base: Base | None = None) -> Iterator[Outcome]:
    """Cases 0 .. ``cases`` - 1 of ``seed``, two in three with every template compiled at its first Service,
    the others as users run it (compiled at the fourth); the bases in turn (CONFIGS, the names of
    _prefixed every other one; ``base``: that one only)."""
    bases = [base] if base is not None else [Base(form, k) for k in range(2 if form.startswith("nft") else len(CONFIGS))]
    with tempfile.TemporaryDirectory(prefix="svcpath-onepass-") as tmp:
        for i in range(cases):
            b = bases[i % len(bases)]
            yield check(make_case(i, seed, b), 1 if i % 3 else audit_match.LEARN_AFTER, b.full_rows(), Path(tmp))


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz.onepass", description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--form", choices=FORMS, default="iptables",
                    help="iptables: an iptables-save dump; api: the same with the Services from API objects (live, --manifest); "
                         "nft, nft-json: an nft listing as text or as nft -j")
    ap.add_argument("--keep", type=Path, default=Path("build/onepass-failures"), help="where differing cases are copied")
    args = ap.parse_args()
    t0 = time.monotonic()
    counts: dict[str, int] = {}
    changed = 0
    for o in run(args.seed, args.cases, args.form):
        counts[o.verdict] = counts.get(o.verdict, 0) + 1
        changed += o.changed
        if o.verdict == "differ":
            args.keep.mkdir(parents=True, exist_ok=True)
            kept = args.keep / f"seed-{args.seed}-{args.form}-case-{o.case.index}.txt"
            kept.write_text(o.case.text)
            if o.case.objects:
                kept.with_suffix(".json").write_text(json.dumps(o.case.objects, indent=1))
            flags = (" --problems" if o.case.problems else "") + (f" -n {o.case.namespace}" if o.case.namespace else "")
            print(f"case {o.case.index} ({', '.join(o.case.edits)}; LEARN_AFTER {o.learn_after}{flags}): {o.detail} [{kept}]")
    print(f"seed {args.seed} ({args.form}): {args.cases} cases in {time.monotonic() - t0:.0f} s: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + f"; {changed} changed the table")
    return 1 if counts.get("differ") else 0


if __name__ == "__main__":
    sys.exit(main())
