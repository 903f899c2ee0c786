"""The one orchestrator: edges (files, node, cluster) -> pipeline -> report(s) -> exit code."""

from __future__ import annotations

import gc
import os
import re
import shutil
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TextIO

from kubectl_svcpath import apifields
from kubectl_svcpath.collect import files
from kubectl_svcpath.dump import Collection
from kubectl_svcpath.gc_pause import paused_gc
from kubectl_svcpath.errors import ExitCode, Forbidden, NotFound, SvcpathError, UsageError
from kubectl_svcpath.manifest import load_objects, snapshot_from_objects
from kubectl_svcpath.options import Options, offline_flags, split_service, unused_cluster_flags, validate
from kubectl_svcpath.path import Finding
from kubectl_svcpath.render import render_document, render_report
from kubectl_svcpath.render.text import Style, safe, terminal_safe, use_color
from kubectl_svcpath.report import Report, list_to_dict
from kubectl_svcpath.snapshot import ServicePort, ServiceSnapshot
from kubectl_svcpath.wording import numbered_spans

if TYPE_CHECKING:  # (imported where used: a live run reads its node while the analysis modules load)
    from kubectl_svcpath import pipeline


@dataclass(slots=True)
class Env:
    """The terminal the output goes to; tests build their own."""

    stdout: TextIO
    stderr: TextIO
    isatty: bool = False
    err_isatty: bool = False
    width: int | None = None
    no_color: bool = False
    err_width: int | None = None  # stderr's terminal (the progress line's), which stdout piped elsewhere leaves

    @classmethod
    def from_process(cls) -> Env:
        tty, err_tty = sys.stdout.isatty(), sys.stderr.isatty()
        return cls(sys.stdout, sys.stderr, tty, err_tty, shutil.get_terminal_size((120, 24)).columns if tty else None,
                   "NO_COLOR" in os.environ, _columns(sys.stderr) if err_tty else None)


def _columns(stream: TextIO) -> int | None:
    try:
        return os.get_terminal_size(stream.fileno()).columns or None
    except (OSError, ValueError):
        return None


@dataclass(slots=True)
class Outcome:
    reports: list[Report] = field(default_factory=list)
    extra_findings: list[Finding] = field(default_factory=list)  # across nodes (node-drift)
    node_errors: list[tuple[str, SvcpathError]] = field(default_factory=list)
    audit: bool = False
    audit_totals: dict[str, int] | None = None  # --all: counts over every Service audited
    traffic: Any = None  # traffic.Traffic: --since, or one --watch interval
    notes: list[str] = field(default_factory=list)  # --all: what the input lacks, for every Service listed
    audit_rows: list[Any] = field(default_factory=list)  # --all: each Service shown, as a table row or its json/yaml text
    audit_error: bool = False  # --all: a Service audited has an error-level finding
    scope: dict[str, Any] | None = None  # live --all: which namespace(s), which node's rules and why that node
    namespace: str | None = None  # offline --all -n: the namespace whose Services were listed
    traces: list[Any] = field(default_factory=list)  # trace.TraceReport, one per node (--trace)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # several nodes: (node, why not read), e.g. Windows
    sampled: tuple[int, int] | None = None  # --sample N: of how many readable nodes, across how many zones
    many_nodes: bool = False  # --all-nodes, --nodes, --sample: a list of nodes' reports, also of one


def run(opts: Options, env: Env) -> int:
    KEPT.clear()
    validate(opts)
    unused = unused_cluster_flags(opts)
    if unused is not None:  # (kubectl's own warnings read so: "Warning: …" on stderr; the exit code stays the run's)
        env.stderr.write(safe(unused) + "\n")
    if opts.print_rbac:
        from kubectl_svcpath.rbac import rbac_yaml

        env.stdout.write(rbac_yaml())
        return ExitCode.OK
    style = Style(use_color(opts.color, env.isatty, env.no_color))
    if opts.watch:
        return _watch(opts, env, style)
    outcome = gather_and_analyse(opts, env)
    if outcome.traces:  # a trace reports what the rules do; it is not a health check: exit 0
        from kubectl_svcpath.render.trace import render_traces

        text = render_traces(outcome.traces, opts.output, style, env.width)
        if outcome.skipped and opts.output not in ("json", "yaml"):
            from kubectl_svcpath.render.common import skipped_lines

            text += "\n" + "\n".join(skipped_lines(outcome.skipped, env.width)) + "\n"
        env.stdout.write(_for_terminal(text, opts.output, style))
        return ExitCode.OK
    if outcome.audit and opts.output in ("json", "yaml"):  # ~9 KB of JSON per Service: written as it is read back
        _write_audit_document(outcome, opts.output, env.stdout)
        return ExitCode.PROBLEMS_FOUND if outcome.audit_error else ExitCode.OK
    with paused_gc():
        text = render_outcome(outcome, opts.output, style, env.width, opts.explain)
    if outcome.traffic is not None:
        from kubectl_svcpath.render.traffic import render_traffic, with_traffic

        text = (with_traffic(outcome.reports[0], outcome.traffic, opts.output) if opts.output in ("json", "yaml")
                else render_traffic(outcome.traffic, style, env.width) + "\n" + text)
    env.stdout.write(_for_terminal(text, opts.output, style))
    if outcome.node_errors:
        from kubectl_svcpath.node_errors import error_lines

        env.stderr.write("".join(f"{safe(line)}\n" for line in error_lines(outcome.node_errors)))
    unread = [r.rules_not_read for r in outcome.reports if r.rules_not_read is not None]
    for why in unread:
        env.stderr.write(f"error: {safe(why.message)}\n" + (f"hint: {safe(why.hint)}\n" if why.hint else ""))
    findings = [f for r in outcome.reports for f in r.findings] + outcome.extra_findings
    if outcome.node_errors and not outcome.reports:
        return outcome.node_errors[0][1].exit_code
    if unread and len(unread) == len(outcome.reports):
        return unread[0].exit_code
    if outcome.audit_error or any(f.severity == "error" for f in findings):
        return ExitCode.PROBLEMS_FOUND
    if outcome.node_errors:
        return ExitCode.COLLECT_FAILED
    return ExitCode.OK


def _watch(opts: Options, env: Env, style: Style) -> int:
    """--watch: read the node's rules every --interval and print each interval's traffic, until Ctrl-C
    or --samples N. The Service, its slices and the rules are read again each time (live or --local)."""
    import time

    from kubectl_svcpath.render.traffic import render_traffic, with_traffic
    from kubectl_svcpath.traffic import compare

    previous: Report | None = None
    taken = 0
    code = ExitCode.OK
    try:
        while True:
            started = time.monotonic()
            outcome = gather_and_analyse(opts, env)
            report = outcome.reports[0]
            if report.rules_not_read is not None:  # nothing to count: say why, once, and stop
                env.stdout.write(_for_terminal(render_outcome(outcome, opts.output, style, env.width), opts.output, style))
                why = report.rules_not_read
                env.stderr.write(f"error: {safe(why.message)}\n" + (f"hint: {safe(why.hint)}\n" if why.hint else ""))
                return why.exit_code
            taken += 1
            if previous is None:
                if opts.output not in ("json", "yaml"):
                    first = render_outcome(outcome, opts.output, style, env.width, opts.explain)
                    env.stdout.write(_for_terminal(first, opts.output, style))
                    env.stdout.write(f"\nwatching: sample 1 at {safe(report.sources[0].collected_at if report.sources else '?')}, "
                                     f"the next in {opts.interval:g}s (Ctrl-C to stop)\n")
            else:
                traffic = compare(previous, report)
                if opts.output in ("json", "yaml"):
                    env.stdout.write(with_traffic(report, traffic, opts.output, compact=True))
                else:
                    env.stdout.write("\n" + _for_terminal(render_traffic(traffic, style, env.width), opts.output, style))
                if any(f.severity == "error" for f in report.findings):
                    code = ExitCode.PROBLEMS_FOUND
            env.stdout.flush()
            previous = report
            if opts.samples is not None and taken >= opts.samples:
                return code
            # the next read INTERVAL after this one read the rules (not after it started: the first
            # read also loads the client, and a slow read would eat into the interval)
            time.sleep(max(0.0, opts.interval - (time.monotonic() - _read_monotonic(report, started))))
    except KeyboardInterrupt:  # the way a watch ends
        return code


def _read_monotonic(report: Report, default: float) -> float:
    """When the report's rules were read (its collectedAt, UTC), on the monotonic clock; else ``default``."""
    import time
    from datetime import datetime, timezone

    from kubectl_svcpath.traffic import collected_at, seconds_between

    ago = seconds_between(collected_at(report), datetime.now(timezone.utc).isoformat())
    return default if ago is None or ago < 0 else time.monotonic() - ago


def _for_terminal(text: str, fmt: str, style: Style) -> str:
    """Every terminal format leaves through terminal_safe(); json/yaml are escaped by their encoders."""
    return text if fmt in ("json", "yaml") else terminal_safe(text, style.color)


def gather_and_analyse(opts: Options, env: Env) -> Outcome:
    try:
        return _gather(opts, env)
    except (NotFound, Forbidden) as e:
        if opts.service:  # deploy/web: kubectl's TYPE/NAME, not a namespace's (nor one the user may read)
            from kubectl_svcpath.service_arg import kind_not_namespace

            refused = kind_not_namespace(opts.service, opts.namespace, offline_flags(opts), e)
            if refused is not None:
                raise refused from None
        raise


def _gather(opts: Options, env: Env) -> Outcome:
    if opts.rules_files or opts.example:
        return _offline(opts)
    if opts.local:
        return _local(opts)
    if opts.all_services:
        return _live_audit(opts, env)
    return _live(opts, env)


# --- offline: files someone collected -------------------------------------------

def _offline(opts: Options) -> Outcome:
    with paused_gc():
        return _offline_run(opts)


def _offline_run(opts: Options) -> Outcome:
    from kubectl_svcpath import pipeline

    if opts.example:
        dumps = files.example_dumps()
        text, source = files.example_manifest()
        objects: list[dict[str, Any]] | None = load_objects(text, source)
        # (-n names the namespace to look in: the example's Service is sought there, as a NAME would be)
        service: str | None = opts.service or ("hello-service" if opts.namespace else "default/hello-service")
    else:
        dumps = [files.read_dump(p) for p in opts.rules_files]
        objects = _manifest_objects(opts.manifests)
        service = opts.service
    collection = Collection(dumps=dumps, proxy_mode=opts.proxy_mode, node=opts.node)
    _node_from_manifest(collection, objects)
    nodes = pipeline.split_nodes(collection)
    if len(nodes) > 1 and (opts.since or opts.trace is not None):
        raise UsageError(f"{'--trace' if opts.trace is not None else '--since'} reads one node's rules, and "
                         f"{nodes[0].paste_nodes}", hint=f"choose one with --node: --node {nodes[0].node or nodes[0].pod}")
    if len(nodes) > 1:
        return _offline_nodes(opts, nodes, objects, service)
    if len(nodes) == 1:
        collection = nodes[0]
    parsed = pipeline.parse_collection(collection, opts.lenient)
    if opts.all_services:
        snapshots, notes = _all_snapshots(objects, parsed, opts.namespace)
        lines = None
        if opts.output not in ("json", "yaml"):
            lines = audit_table_lines(parsed, collection, opts.namespace) if objects is None else api_table_lines(parsed, collection, snapshots)
        outcome = audit(snapshots, parsed, collection, opts.problems, notes, opts.output, from_rules=objects is None, lines=lines)
        outcome.namespace = opts.namespace
        if opts.namespace and outcome.audit_totals is not None and not outcome.audit_totals["services"]:
            outcome.notes.append("without -n, --all lists the Services of every namespace the input holds")
        return outcome
    assert service is not None
    snapshot = _snapshot(service, opts, objects, parsed)
    if opts.trace is not None:
        return Outcome(traces=[_trace(_focus(snapshot, opts.port), parsed, opts, collection.node)])
    report = pipeline.analyse(_focus(snapshot, opts.port), parsed, collection)
    if opts.since:  # a second, earlier sample of the same node: the deltas between the two
        from kubectl_svcpath.traffic import compare

        earlier = Collection(dumps=[files.read_dump(p) for p in opts.since], proxy_mode=opts.proxy_mode, node=opts.node)
        before_nodes = pipeline.split_nodes(earlier)  # (a paste of several hosts: the one --node names)
        if len(before_nodes) > 1:
            raise UsageError(f"--since reads one node's rules, and {before_nodes[0].paste_nodes}",
                             hint=f"choose one with --node: --node {before_nodes[0].node or before_nodes[0].pod}")
        earlier = before_nodes[0]
        before = pipeline.analyse(_focus(snapshot, opts.port), pipeline.parse_collection(earlier, opts.lenient), earlier)
        return Outcome(reports=[report], traffic=compare(before, report))
    return Outcome(reports=[report])


def _offline_nodes(opts: Options, nodes: list[Collection], objects: list[dict[str, Any]] | None,
                   service: str | None) -> Outcome:
    """One paste of several nodes' tables that differ: each node's own report (or audit rows), as for --nodes live."""
    from kubectl_svcpath import pipeline

    parsed = [(c, pipeline.parse_collection(c, opts.lenient)) for c in nodes]
    if opts.all_services:
        reports = (r for c, p in parsed for r in audit_reports(_all_snapshots(objects, p, opts.namespace)[0], p, c))
        outcome = _audit(reports, opts.problems, opts.output)
        outcome.notes = [f"{nodes[0].paste_nodes}: each node's Services are its own rows (NODE), and are counted once per node"
                         if nodes[0].node else f"{nodes[0].paste_nodes}: each pod's Services are its own rows (NODE: the pod; "
                         "which node it runs on, the paste does not say), and are counted once per pod"]
        notes = (n for c, p in parsed for n in audit_notes(p, c, listed_from_rules=objects is None))
        outcome.notes += [n for n in dict.fromkeys(notes) if n not in outcome.notes]
        return outcome
    assert service is not None
    outcome = Outcome()
    elsewhere: list[str] = []
    for c, p in parsed:
        try:
            outcome.reports.append(pipeline.analyse(_focus(_snapshot(service, opts, objects, p), opts.port), p, c))
        except NotFound as e:  # not in this node's listing: said in the other nodes' reports
            elsewhere.append(f"{f'node {c.node}' if c.node or not c.pod else f'pod/{c.pod}'}: {e.message}")
    if not outcome.reports:
        raise NotFound(f'service "{service}" not found in the listing of any of the {len(parsed)} nodes', subject="services",
                       hint=_not_found_hint(parsed[0][1], service))
    for r in outcome.reports:
        r.notes += elsewhere
    if len(outcome.reports) > 1:
        from kubectl_svcpath.findings.drift import node_drift

        outcome.extra_findings.extend(node_drift(outcome.reports))
    return outcome


def _node_from_manifest(collection: Collection, objects: list[dict[str, Any]] | None) -> None:
    """The Node of --manifest (the one named --node, or the only one): its zone label and name."""
    from kubectl_svcpath.manifest import node_object

    node = node_object(objects, collection.node)
    if node is not None:
        collection.node_object, collection.node_object_source = node, "manifest"
        collection.node = collection.node or apifields.text(node, "metadata", "name")


def _trace(snapshot: ServiceSnapshot, parsed: pipeline.Parsed, opts: Options, node: str | None,
           node_ips: list[str] | None = None, pod_ip: str | None = None) -> Any:
    """--trace: follow the packet(s) instead of listing every path."""
    from kubectl_svcpath.trace import TraceSpec, trace_service

    spec = TraceSpec(opts.trace or "", opts.trace_to, opts.trace_proto, tuple(opts.node_ips or node_ips or ()))
    return trace_service(parsed, snapshot, spec, node, pod_ip)


def audit(snapshots: Iterable[ServiceSnapshot], parsed: pipeline.Parsed, collection: Collection,
          problems_only: bool, notes: list[str] | None = None, fmt: str = "table", from_rules: bool = True,
          lines: Iterable[Any] | None = None) -> Outcome:
    """--all, offline and live alike: every Service against one node's rules, parsed once, in one pass.
    ``from_rules``: the Services were read from the rules themselves (no API objects, no manifest).
    ``lines``: the table's lines as the mode worked them out in one pass (audit_table_lines), instead
    of each Service's report."""
    outcome = _audit(audit_reports(snapshots, parsed, collection) if lines is None else lines, problems_only, fmt)
    outcome.notes = list(notes or []) + audit_notes(parsed, collection, listed_from_rules=from_rules)
    return outcome


def audit_reports(snapshots: Iterable[ServiceSnapshot], parsed: pipeline.Parsed, collection: Collection) -> Iterator[Report]:
    """--all: each Service's report, one at a time, as the same analysis as asking for it alone."""
    from kubectl_svcpath import pipeline

    for s in snapshots:
        report = pipeline.analyse(s, parsed, collection)
        yield report
        if parsed.rules is not None:  # a big dump's per-Service chains are not all held at once
            parsed.rules.release(_own_chains(report))


def _one_line(parsed: pipeline.Parsed, collection: Collection) -> Callable[[ServiceSnapshot], tuple[Report, Any]]:
    """A Service's full analysis and its audit line (the chains it read let go: a big dump's are not all held)."""
    from kubectl_svcpath import pipeline
    from kubectl_svcpath.render.audit import audit_line

    def one(snapshot: ServiceSnapshot) -> tuple[Report, Any]:
        report = pipeline.analyse(snapshot, parsed, collection)
        if parsed.rules is not None:
            parsed.rules.release(_own_chains(report))
        return report, audit_line(report)

    return one


def api_table_lines(parsed: pipeline.Parsed, collection: Collection, snapshots: Iterable[ServiceSnapshot],
                    prepared: dict[Any, Any] | None = None) -> Iterator[Any] | None:
    """--all as a table with the Services from the API (live, --manifest): the mode's one-pass lines
    (the same rows as each Service's report gives), or None when the mode has none for this input.
    ``prepared``: pipeline.prepare_api_audit(snapshots), when it was made beforehand."""
    from kubectl_svcpath import pipeline

    if parsed.described:
        return None
    return pipeline.api_audit_lines(parsed, _one_line(parsed, collection), snapshots, prepared)


def audit_table_lines(parsed: pipeline.Parsed, collection: Collection, namespace: str | None) -> Iterator[Any] | None:
    """Dump-only --all as a table: the mode's one-pass lines (render.audit.AuditLine, the same rows as
    each Service's report would give), or None when the mode has none for this input."""
    from kubectl_svcpath import pipeline

    if parsed.described:  # a pasted `kubectl describe service` completes the Services: each one analysed
        return None
    return pipeline.audit_lines(parsed, _one_line(parsed, collection), lambda ns: namespace is None or ns == namespace)


HOLD_FROM = 1000  # Services of a live --all from which its objects are kept until the process ends (KEPT)
# a big live --all's parsed rules, snapshots and API objects: the installed command exits without freeing
# them one by one (cli._exit_now); freed when run() returned, they took ~0.1 s after the table was written.
# One run's at most: the next run() lets the last one's go.
KEPT: list[Any] = []


def _live_audit(opts: Options, env: Env) -> Outcome:
    """--all live: the Services and EndpointSlices of the namespace (or all, -A) and ONE node's rules,
    read once and audited in the same pass as a dump."""
    # 20,000 API objects decoded, a table parsed and 10,000 snapshots made hold no reference cycles:
    # no collection pass walks them again and again meanwhile (as offline, _offline)
    with paused_gc():
        outcome = _live_audit_run(opts, env)
        if KEPT:  # (a big audit's objects live to the end: no collection walks them again)
            gc.freeze()
        return outcome


def _live_audit_run(opts: Options, env: Env) -> Outcome:
    from kubectl_svcpath import live

    with live.open_audit(_live_request(opts, env), opts.all_namespaces) as got:
        # while the node's rules are read: the API objects converted, the one pass's API half made
        table = opts.output not in ("json", "yaml")
        early: tuple[list[ServiceSnapshot], list[str], dict[Any, Any] | None] | Exception
        try:
            early = _api_side(got.objects, table)
        except Exception as e:  # noqa: BLE001 - raised below, where it was before the rules were read
            early = e
        result = got.result()
    if env.err_isatty:
        env.stderr.write("\r\x1b[K")
    return _live_audit_outcome(opts, got, result, early)


def _api_side(objects: list[dict[str, Any]], table: bool) -> tuple[list[ServiceSnapshot], list[str], dict[Any, Any] | None]:
    from kubectl_svcpath import pipeline
    from kubectl_svcpath.manifest import audit_snapshots

    snapshots, notes = audit_snapshots(objects)
    return snapshots, notes, pipeline.prepare_api_audit(snapshots) if table else None


def _live_audit_outcome(opts: Options, got: Any, result: Any,
                        early: tuple[list[ServiceSnapshot], list[str], dict[Any, Any] | None] | Exception) -> Outcome:
    from kubectl_svcpath import pipeline

    coll, err = result.collection, result.error
    if err is not None or coll is None:  # no rules, nothing to audit: the reason, as for one Service
        err = err or SvcpathError("no rules collected")
        from kubectl_svcpath.node_errors import names_node

        if not names_node(err.message, got.node):
            err.message = f"node {got.node}: {err.message}"
        if "--node NAME" in got.chosen_by:  # the run chose the node: another's rules may be read
            why = f"the audit read node {got.node}, {got.chosen_by}"
            err.hint = f"{err.hint}; {why}" if err.hint else why
        raise err
    parsed = pipeline.parse_collection(coll, opts.lenient)  # (--proxy-mode chose the listings: coll.proxy_mode)
    if isinstance(early, Exception):  # (the rules' errors first, as when the objects were converted after them)
        raise early
    snapshots, notes, prepared = early
    lines = api_table_lines(parsed, coll, snapshots, prepared) if opts.output not in ("json", "yaml") else None
    outcome = audit(snapshots, parsed, coll, opts.problems, notes, opts.output, from_rules=False, lines=lines)
    if len(snapshots) >= HOLD_FROM:
        KEPT.append((parsed, snapshots, got.objects))
    times = sorted(s.collected_at for s in parsed.sources if s.collected_at)
    outcome.scope = {"namespace": got.namespace, "selector": opts.selector, "node": got.node, "nodeChosenBy": got.chosen_by, "kubeProxyPod": coll.pod,
                     "proxyMode": str(parsed.mode), "backend": coll.backend or (parsed.rules.backend if parsed.rules else None),
                     "collectedAt": times[-1] if times else None}
    return outcome




def _audit(reports: Iterable[Report], problems_only: bool, fmt: str) -> Outcome:
    """--all: problems first (severity, then namespace/name); --problems keeps those only.

    Each report is turned into what the output needs of it (a table row, or its json/yaml text)
    as soon as it is made, and dropped: 10,000 finished reports are never held at once.
    """
    from kubectl_svcpath.render.audit import new_totals

    outcome = Outcome(audit=True, audit_totals=new_totals())
    assert outcome.audit_totals is not None
    keyed: list[Any] = []
    # reports hold no reference cycles: they are freed as each Service is done, and the cycle
    # collector's passes over the parsed table (~10% of an audit's time) find nothing
    with paused_gc():
        _audit_each(reports, problems_only, fmt, outcome, keyed)
    keyed.sort(key=lambda k: k[0])  # stable: Services of the same rank and name keep the order they were found in
    outcome.audit_rows = [row for _, row in keyed]
    return outcome


def _audit_each(reports: Iterable[Any], problems_only: bool, fmt: str, outcome: Outcome, keyed: list[Any]) -> None:
    """Each Report (or AuditLine, from a mode's one-pass table) into the totals and, unless --problems
    leaves it out, into ``keyed`` as (order key, table row or json/yaml text)."""
    from kubectl_svcpath.render.audit import AuditLine, add_line, audit_line
    from kubectl_svcpath.render.structured import render_item

    assert outcome.audit_totals is not None
    rows = fmt not in ("json", "yaml")  # (the table's cells: only a table shows them)
    for r in reports:
        line = r if isinstance(r, AuditLine) else audit_line(r, rows)
        add_line(outcome.audit_totals, line)
        outcome.audit_error = outcome.audit_error or line.key[0] == 0  # rank 0: an error-level finding
        if problems_only and line.key[0] == 2:
            continue
        # json/yaml: the item's text, compressed (~6x: 10,000 Services' items are ~90 MB as text)
        keyed.append((line.key, zlib.compress(render_item(r.to_dict(), fmt).encode(), 1) if fmt in ("json", "yaml") else line.row))


def _audit_document(outcome: Outcome) -> dict[str, Any]:
    doc = list_to_dict([], [], [])
    doc["totals"] = outcome.audit_totals
    if outcome.notes:  # what the input lacks that changes which Services can be listed
        doc["notes"] = list(outcome.notes)
    if outcome.scope is not None:  # live --all: the namespace(s) and the node read
        doc["scope"] = dict(outcome.scope)
    return doc


def _write_audit_document(outcome: Outcome, fmt: str, out: TextIO) -> None:
    """--all -o json|yaml: the document, each Service's item decompressed as it is written."""
    from kubectl_svcpath.render.structured import write_list

    write_list(_audit_document(outcome), (zlib.decompress(b).decode() for b in outcome.audit_rows), fmt, out.write)


def _own_chains(report: Report) -> set[str]:
    names: set[str] = set()
    for pp in report.ports:
        for path in pp.paths:
            names.update(c for c in path.chains if c.startswith("KUBE-") and c not in ("KUBE-SERVICES", "KUBE-NODEPORTS"))
            names.update(h.chain for h in path.endpoints if h.chain)
    return names


def _manifest_objects(paths: list[str]) -> list[dict[str, Any]] | None:
    if not paths:
        return None
    objects: list[dict[str, Any]] = []
    for p in paths:
        objects.extend(load_objects(files.read_text(p, "manifest"), files.named(p)))
    return objects


def _snapshot(service: str, opts: Options, objects: list[dict[str, Any]] | None, parsed: pipeline.Parsed) -> ServiceSnapshot:
    from kubectl_svcpath import pipeline

    ns, name = split_service(service, opts.namespace)
    if objects is not None:
        return snapshot_from_objects(objects, ns, name, held_by=_held_by(opts))
    candidates = [s for s in pipeline.infer_services(parsed, (ns, name)) if s.name == name and (ns is None or s.namespace == ns)]
    by_address = not candidates and ns is None and re.fullmatch(r"(?:(?i:tcp|udp|sctp)\s+)?[0-9a-fA-F.:\[\]]+", name)
    if by_address:
        # the input names no Service (IPVS, comments cut), or the user has an address at hand: ask for it by
        # address, address:port or the label --all prints ("UDP 10.96.0.10:53": TCP and UDP on one
        # address:port are two entries); an address:port keeps the ports on it
        candidates = [_on_address(s, name) for s in pipeline.infer_services(parsed) if _holds_address(s, name)]
    if not candidates and ns is None and _CHAIN_NAME.fullmatch(name):
        # a Service no comment names, asked for by the service chain --all lists it by: the chain's hash
        candidates = [s for s in pipeline.infer_services(parsed) if not s.name and any(
            (p.rules_key or "").split("|")[0] == name.rsplit("-", 1)[1] for p in s.ports)]
    if not candidates:
        where = f' in namespace "{ns}"' if ns else ""
        raise NotFound(f'service "{name}"{where} not found in the rules', hint=_other_family_hint(parsed) + _not_found_hint(parsed, name),
                       subject="services")
    if len(candidates) > 1 and not candidates[0].name:
        keys = ", ".join(p.rules_key or "?" for s in candidates for p in s.ports)
        raise UsageError(f'"{name}" matches several unnamed entries in the input ({keys}): name one as --all lists '
                         f'it, e.g. "{candidates[0].ports[0].rules_key or name}"')
    if len(candidates) > 1 and by_address:
        which = "name one (NAMESPACE/NAME)" + ("" if _has_port(name) else ", or add the port (ADDRESS:PORT)")
        raise UsageError(f'"{name}" is an address of several Services in the input ({", ".join(s.ref for s in candidates)}): {which}')
    if len(candidates) > 1:
        raise UsageError(f'service "{name}" exists in several namespaces in the dump ({", ".join(s.namespace for s in candidates)}): name one with -n or NAMESPACE/NAME')
    return candidates[0]


_CHAIN_NAME = re.compile(r"KUBE-(?:SVC|SVL|EXT|FW|XLB)-[A-Z0-9]{16}")


def _address_keys(s: ServiceSnapshot) -> list[tuple[str, ServicePort]]:
    """Each way in to the Service by address as "PROTO ADDRESS:PORT" ("TCP 10.96.0.10:53", "TCP [fd00::10]:53"), with
    its port: an IPVS entry's virtual servers, and the cluster, external and load-balancer IPs the input shows."""
    keys = [(k, p) for p in s.ports if p.rules_key for k in p.rules_key.split("|") if " " in k]
    addrs = (*s.cluster_ips, *s.external_ips, *s.load_balancer_ips, *s.other_ips)
    keys += [(f"{p.protocol} {f'[{a}]' if ':' in a else a}:{p.port}", p) for a in addrs if a != "None" for p in s.ports if p.port]
    return keys


def _matches(key: str, wanted: str) -> bool:
    """``wanted`` (PROTO ADDRESS:PORT, ADDRESS:PORT or ADDRESS, IPv6 in brackets or not) names the way in ``key``."""
    proto, _, hostport = key.lower().partition(" ")
    wanted = wanted.lower()
    if " " in wanted:  # "UDP 10.96.0.10:53": the protocol too
        want_proto, _, addr = wanted.partition(" ")
        return want_proto == proto and addr.strip() == hostport
    return wanted == hostport or wanted.strip("[]") == hostport.rsplit(":", 1)[0].strip("[]")


def _holds_address(s: ServiceSnapshot, wanted: str) -> bool:
    return any(_matches(k, wanted) for k, _ in _address_keys(s))


def _on_address(s: ServiceSnapshot, wanted: str) -> ServiceSnapshot:
    """The Service asked for by address: with a port (10.96.0.10:53), only its ports on that address:port."""
    if not _has_port(wanted):
        return s
    keep = {id(p) for k, p in _address_keys(s) if _matches(k, wanted)}
    return replace(s, ports=tuple(p for p in s.ports if id(p) in keep))


def _has_port(wanted: str) -> bool:
    """ADDRESS:PORT, [IPV6]:PORT or PROTO ADDRESS:PORT, not an address alone (IPv4, [IPv6] or a bare IPv6)."""
    hostport = wanted.partition(" ")[2].strip() if " " in wanted else wanted
    return "]:" in hostport if hostport.startswith("[") else hostport.count(":") == 1


_IPSETS_ALONE = ("the input holds kube-proxy's ipsets (ipset list) but no IPVS virtual server: pass `ipvsadm -Ln` "
                 "output too; the sets only say what kind each virtual server's address is")


def _held_by(opts: Options) -> str:
    """What holds the objects of an offline run, for a "not found" hint that names their Services."""
    if opts.example or not opts.manifests:
        return "the bundled example holds"
    return f"{opts.manifests[0]} holds" if len(opts.manifests) == 1 and opts.manifests[0] != "-" else "the manifests hold"


def _other_family_hint(parsed: pipeline.Parsed) -> str:
    """The IPv6 family's lines were left out (a dual-stack paste, its IPv4 rules read): the Service may be there."""
    spans = next(iter(parsed.other_family.values()), None)
    if spans is None:
        return ""
    lines = numbered_spans("line", spans)
    return f"its rules may be among the IPv6 family's ({lines}), left out: pass {'them' if lines.startswith('lines') else 'it'} in a file of their own; "


def _not_found_hint(parsed: pipeline.Parsed, name: str) -> str:
    """The Services the input does hold (the closest to ``name`` first), and why this one may be missing from
    it, most likely first: what the input lacks."""
    from kubectl_svcpath import pipeline
    from kubectl_svcpath.held import holds, named

    rules = parsed.rules
    if parsed.ipvs is not None and parsed.ipvs.ipsets is not None and not parsed.ipvs.virtual_servers:
        return _IPSETS_ALONE
    names = pipeline.service_names(parsed)
    more = " (--all lists them)" if len(set(names)) > 3 else ""
    if parsed.excerpt:
        whole = ("ipvsadm -Ln --stats --exact" if parsed.ipvs is not None
                 else "nft -j list table ip kube-proxy" if parsed.nft is not None and rules is None else "iptables-save -c")
        return (f"the input is a part of the rules (an excerpt, grep output or bare lines): {holds('it shows', name, names)}"
                f"{more}; pass the whole table ({whole})")
    if names and not any("/" in n for n in names):  # IPVS, comments cut: entries are asked for as --all lists them
        held = f"the dump names no Service, only addresses: ask for one as --all lists it ({named(name, names)})"
    else:
        held = holds("the dump holds", name, names) + more
    if rules is not None and rules.table("filter") is None:
        return (f"{held}; a Service without endpoints has its only rules (REJECT) in the filter table, which the input "
                "lacks: pass it too (iptables-save -c -t filter); kube-proxy writes no rules for headless or ExternalName Services")
    if rules is not None and rules.table("nat") is None and parsed.nft is None and parsed.ipvs is None:
        return (f"{held}; a Service with endpoints has its rules in the nat table, which the input lacks: pass it too "
                "(iptables-save -c -t nat); kube-proxy writes no rules for headless or ExternalName Services")
    return f"{held}; kube-proxy writes no rules for headless or ExternalName Services"


def audit_notes(parsed: pipeline.Parsed, collection: Collection, listed_from_rules: bool = True) -> list[str]:
    """--all: what the input lacks that changes which Services can be listed (only when the rules list
    them: with the API's or a manifest's Services, each report says what its own rules lack), and the lines
    --lenient skipped (either way: every row was read without them)."""
    notes: list[str] = []
    rules = parsed.rules
    for info in rules.dumps if rules is not None else ():
        if info.skipped:  # (--lenient: what the rows were read without, as each Service's report says it)
            more = f" (and {len(info.skipped) - 5} more)" if len(info.skipped) > 5 else ""
            notes.append(f"{info.source}: --lenient skipped {'; '.join(info.skipped[:5])}{more}")
    if not listed_from_rules:
        return notes + parsed.reader_notes()
    if rules is not None and rules.table("nat") is not None and rules.table("filter") is None:
        from kubectl_svcpath.modes.iptables.checks import save_tool

        notes.append("no filter table in the input: a Service without endpoints has no nat rules, only a REJECT in the "
                     f"filter table, so it cannot be listed here (dump all tables: {save_tool(rules)} -c)")
    if rules is not None and rules.table("filter") is not None and rules.table("nat") is None and parsed.nft is None and parsed.ipvs is None:
        from kubectl_svcpath.modes.iptables.checks import save_tool

        notes.append("no nat table in the input: a Service with endpoints has its rules there, not in the filter table, "
                     f"so only Services the filter rules name are listed here (dump all tables: {save_tool(rules)} -c)")
    if parsed.excerpt or (rules is not None and rules.table("nat") is not None and not rules.chain_complete("nat", "KUBE-SERVICES")):
        # (also a listing of some chains, `iptables -t nat -L KUBE-NODEPORTS`: whole chains, not the table)
        notes.append("the input is a part of the rules: Services it does not show may exist")
    for info in rules.dumps if rules is not None else ():
        if info.annotations:  # (the rules read for the rows found them)
            from kubectl_svcpath.parse.excerpt import annotation_note

            notes.append(annotation_note(info.source, info.annotations))
        if info.deleted:  # a partial restore input: the Services of the chains it deletes are not listed
            shown = ", ".join(info.deleted[:6]) + (f" and {len(info.deleted) - 6} more" if len(info.deleted) > 6 else "")
            notes.append(f"{info.source} is an iptables-restore input: it deletes {shown} (-X), so their Services "
                         "are gone from the node once it runs and are not listed")
    if parsed.ipvs is not None and parsed.ipvs.ipsets is not None and not parsed.ipvs.virtual_servers:
        notes.append(_IPSETS_ALONE)
    notes += parsed.reader_notes()
    return notes


def _all_snapshots(objects: list[dict[str, Any]] | None, parsed: pipeline.Parsed,
                   namespace: str | None) -> tuple[Iterator[ServiceSnapshot], list[str]]:
    """The Services of an audit, one at a time (dump-only: each read from the rules when reached),
    and notes on the Services left out (ExternalName)."""
    from kubectl_svcpath import pipeline

    if objects is None:
        snaps: Iterable[ServiceSnapshot] = pipeline.each_service(parsed)
        notes: list[str] = []
    else:
        from kubectl_svcpath.manifest import audit_snapshots

        snaps, notes = audit_snapshots(objects)
    return (s for s in snaps if namespace is None or s.namespace == namespace), notes


def _focus(snapshot: ServiceSnapshot, port: str | None) -> ServiceSnapshot:
    """--port NAME|NUMBER: keep that port only."""
    if port is None:
        return snapshot
    keep = tuple(p for p in snapshot.ports if p.name == port or str(p.port) == port or (p.node_port and str(p.node_port) == port))
    if not keep:
        have = ", ".join(f"{p.name or '(unnamed)'}={p.port}" for p in snapshot.ports) or "none"
        raise UsageError(f'service {snapshot.ref} has no port "{port}" (ports: {have})')
    return replace(snapshot, ports=keep)


# --- on the node itself ---------------------------------------------------------

def _local(opts: Options) -> Outcome:
    from kubectl_svcpath import pipeline
    import socket

    from kubectl_svcpath.collect.local import collect_local
    from kubectl_svcpath.modes.iptables.correlate import expected_chains

    assert opts.service is not None
    objects = _manifest_objects(opts.manifests)
    if objects is None:
        from kubectl_svcpath import live

        ns, objects = live.fetch_service_objects(_live_request(opts))
        service_ns, name = split_service(opts.service, ns)
    else:
        service_ns, name = split_service(opts.service, opts.namespace)
    held_by = _held_by(opts) if opts.manifests else None
    snapshot = _focus(snapshot_from_objects(objects, service_ns, name, held_by=held_by), opts.port)
    families = tuple(sorted({6 if ":" in ip else 4 for ip in snapshot.cluster_ips} or {4}))
    collection = collect_local(expected_chains(snapshot), families)
    if opts.proxy_mode:
        collection.proxy_mode = opts.proxy_mode
    # on the node itself: the node is this machine, unless the user names it
    collection.node = opts.node or collection.node or _this_node(opts, objects, collection.notes, socket.gethostname())
    _node_from_manifest(collection, objects)
    parsed = pipeline.parse_collection(collection, opts.lenient)
    if opts.trace is not None:
        return Outcome(traces=[_trace(snapshot, parsed, opts, collection.node)])
    return Outcome(reports=[pipeline.analyse(snapshot, parsed, collection)])


def _this_node(opts: Options, objects: list[dict[str, Any]], notes: list[str], host: str) -> str | None:
    """--local without --node: this machine's hostname, when the API objects (or, live, a GET) show a node
    of that name. kube-proxy may know the node by another (--hostname-override, cloud names): then which
    endpoints are local is not judged rather than judged against the wrong name."""
    named = {ep.get("nodeName") for o in objects if o.get("kind") == "EndpointSlice" for ep in o.get("endpoints") or []}
    named |= {apifields.text(o, "metadata", "name") for o in objects if o.get("kind") == "Node"}
    if host in named:
        return host
    if not opts.manifests:  # the Service came from the API: ask it for the Node
        from kubectl_svcpath import live

        node = live.node_object(_live_request(opts), host)
        if node is not None:
            objects.append(node)
            return host
    notes.append(f'this machine\'s hostname "{safe(host)}" names no node of the API objects, so which endpoints are local '
                 "is not judged: give kube-proxy's node name with --node NAME")
    return None


# --- a live cluster ---------------------------------------------------------------

def _live_request(opts: Options, env: Env | None = None) -> Any:
    from kubectl_svcpath import live

    def progress(msg: str) -> None:  # one overwritten status line, only on a terminal
        assert env is not None
        text, width = safe(msg), env.err_width or env.width or 80
        if len(text) >= width:  # a line the terminal wraps is cleared only in its last row: the rest stayed on screen
            text = text[:width - 2] + "…"
        env.stderr.write(f"\r\x1b[K{text}")
        env.stderr.flush()

    def log(line: str) -> None:  # -v N: request lines on stderr, on a line of their own
        stream = env.stderr if env is not None else sys.stderr
        stream.write(("\r\x1b[K" if on_tty else "") + safe(line) + "\n")
        stream.flush()

    on_tty = env is not None and env.err_isatty
    return live.LiveRequest(service=opts.service or "", namespace=opts.namespace, kubeconfig=opts.kubeconfig,
                            context=opts.context, request_timeout=opts.request_timeout,
                            node=opts.node, all_nodes=opts.all_nodes, nodes=opts.nodes, sample=opts.sample,
                            max_parallel=opts.max_parallel, progress=progress if on_tty else None,
                            proxy_mode=opts.proxy_mode, selector=opts.selector,
                            flags=opts.connect, log=log)


def _live(opts: Options, env: Env) -> Outcome:
    """Each node's rules are parsed and analysed as they arrive and then dropped: only the reports stay."""
    from kubectl_svcpath import live

    req = _live_request(opts, env)
    if opts.trace is not None:
        from kubectl_svcpath.trace import TraceSpec

        req.node_addresses = not opts.node_ips
        req.pod = TraceSpec(opts.trace).pod
    per_node: dict[str, Outcome] = {}
    with live.open_run(req) as run:
        from kubectl_svcpath import pipeline  # (here: its modules load while the first node's rules are read)

        _, name = split_service(opts.service or "", run.namespace)
        snapshot = _focus(snapshot_from_objects(run.objects, run.namespace, name), opts.port)
        if opts.many_nodes:  # the modules and API objects live to the end: no collection walks them again
            gc.freeze()  # (100 nodes: 80 -> 53 ms of collections)
        for node in run.results:
            per_node[node.node] = _node_outcome(opts, snapshot, node, run.pod_ip)
        nodes = run.nodes
    if env.err_isatty:
        env.stderr.write("\r\x1b[K")
    outcome = Outcome(skipped=run.skipped, sampled=run.sampled, many_nodes=opts.many_nodes)
    for n in nodes:  # by node name, whatever order they arrived in
        outcome.reports += per_node[n].reports
        outcome.traces += per_node[n].traces
        outcome.node_errors += per_node[n].node_errors
    if opts.many_nodes and len(outcome.reports) > 1:
        from kubectl_svcpath.findings.drift import node_drift

        outcome.extra_findings.extend(node_drift(outcome.reports))
    if len(nodes) == 1 and outcome.node_errors and not outcome.reports and not outcome.traces:
        if opts.trace is not None:
            raise outcome.node_errors[0][1]
        # the node's rules could not be read: still show what the API holds, marked "rules not read"
        node_name, err = outcome.node_errors.pop()
        outcome.reports.append(pipeline.api_only(snapshot, node_name, err))
        outcome.many_nodes = False
    return outcome


def _node_outcome(opts: Options, snapshot: ServiceSnapshot, node: Any, pod_ip: str | None) -> Outcome:
    """One node's report (or trace, or error) from its collected rules; the parsed rules are not kept."""
    from kubectl_svcpath import pipeline

    if node.error is not None or node.collection is None:
        return Outcome(node_errors=[(node.node, node.error or SvcpathError("no rules collected"))])
    coll = node.collection  # (--proxy-mode chose its listings: coll.proxy_mode)
    try:
        with paused_gc():
            parsed = pipeline.parse_collection(coll, opts.lenient)
            if opts.trace is not None:
                return Outcome(traces=[_trace(snapshot, parsed, opts, node.node, node.addresses, pod_ip)])
            report = pipeline.analyse(snapshot, parsed, coll)
            _let_go(parsed)
            return Outcome(reports=[report])
    except SvcpathError as e:
        return Outcome(node_errors=[(node.node, e)])


def _let_go(parsed: pipeline.Parsed) -> None:
    """Free a node's parsed rules now, once its report is made (the report holds none of them).

    The iptables reader's RuleSet and its parser refer to each other (chains read their rules on demand
    through the parser, which holds the RuleSet): a reference cycle, which held the node's dump until a
    cyclic collection walked it and its 10^3-10^5 names. Emptied here, it goes by reference counting
    (100 lab nodes: collections 47 -> 27 ms of CPU, peak 92 -> 80 MB)."""
    if parsed.rules is not None:
        parsed.rules.tables.clear()


# --- output -----------------------------------------------------------------------

def render_outcome(outcome: Outcome, fmt: str, style: Style, width: int | None, explain: bool = False) -> str:
    if (len(outcome.reports) == 1 and not outcome.audit and not outcome.extra_findings and not outcome.node_errors
            and not outcome.skipped and not outcome.many_nodes):
        return render_report(outcome.reports[0], fmt, style, width, explain)
    if fmt in ("json", "yaml"):
        if outcome.audit:  # (run() writes it piece by piece)
            import io

            buf = io.StringIO()
            _write_audit_document(outcome, fmt, buf)
            return buf.getvalue()
        errors = [(n, int(e.exit_code), e.message) for n, e in outcome.node_errors]
        doc = list_to_dict(outcome.reports, outcome.extra_findings, errors, outcome.skipped, outcome.sampled)
        return render_document(doc, fmt)
    if outcome.audit:
        from kubectl_svcpath.render.audit import render_rows

        assert outcome.audit_totals is not None
        shown = len(outcome.audit_rows)
        return render_rows(outcome.audit_rows, style, fmt == "wide", width, outcome.audit_totals,
                           shown if shown != outcome.audit_totals["services"] else None, outcome.notes, outcome.scope,
                           outcome.namespace)
    from kubectl_svcpath.render.common import findings_lines, fold_alike, hosts_word, nodes_summary, skipped_lines
    from kubectl_svcpath.wording import listed

    parts = []
    texts = [render_report(r, fmt, style, width, explain) for r in outcome.reports]
    for i, alike in fold_alike(outcome.reports, texts):  # (the same report on several nodes: printed once)
        r = outcome.reports[i]
        host = f"node {r.node or '?'}" if r.node or not r.pod else f"pod/{r.pod}"
        same = f" (the same on {hosts_word(alike)[:-1] if len(alike) == 1 else hosts_word(alike)} " \
               f"{listed([safe(a.host or '?') for a in alike], 8)})" if alike else ""
        parts.append(f"=== {safe(host)}{same} ===\n" + texts[i])
    if outcome.extra_findings:
        parts.append(f"Across {hosts_word(outcome.reports)}:\n" + "\n".join(findings_lines(outcome.extra_findings, style)) + "\n")
    if outcome.skipped:
        parts.append("\n".join(skipped_lines(outcome.skipped, width)) + "\n")
    if (len(outcome.reports) + len(outcome.node_errors) > 1 or outcome.many_nodes) and outcome.reports:
        parts.append("\n".join(nodes_summary(outcome.reports, len(outcome.node_errors), width, outcome.sampled)) + "\n")
    return "\n".join(parts)

