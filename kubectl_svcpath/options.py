"""What the user asked for, as plain data; validated without I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from kubectl_svcpath.errors import UsageError
from kubectl_svcpath.wording import listed


class OutputFormat(str, Enum):
    """-o: the one list of output formats (render/ draws each; completion offers them)."""

    TABLE = "table"
    WIDE = "wide"
    TREE = "tree"
    JSON = "json"
    YAML = "yaml"

    def __str__(self) -> str:
        return self.value


OUTPUTS = tuple(f.value for f in OutputFormat)
COLORS = ("auto", "always", "never")
WATCH_INTERVAL = 2.0  # --watch's default interval (cli's --interval "2s")
_SERVICE_KINDS = ("svc", "service", "services")


@dataclass(frozen=True, slots=True)
class ConnectFlags:
    """kubectl's connection flags besides --kubeconfig/--context; unset = the kubeconfig decides.

    They override the kubeconfig the way kubectl's do (client-go clientcmd overrides): --cluster and
    --user replace the context's entries, --server/--token/certificates replace fields in them.
    """

    cluster: str | None = None
    user: str | None = None
    server: str | None = None
    token: str | None = None
    certificate_authority: str | None = None
    client_certificate: str | None = None
    client_key: str | None = None
    insecure_skip_tls_verify: bool = False
    tls_server_name: str | None = None
    as_user: str | None = None  # --as: Impersonate-User
    as_groups: tuple[str, ...] = ()  # --as-group (repeatable): one Impersonate-Group header each
    as_uid: str | None = None  # --as-uid: Impersonate-Uid
    verbosity: int = 0  # -v N: N > 0 logs every request (method, URL, status, time) on stderr

    def impersonation_headers(self) -> list[tuple[str, str]]:
        """The headers kubectl sends for --as/--as-group/--as-uid (a header per group)."""
        headers = [("Impersonate-User", self.as_user)] if self.as_user else []
        headers += [("Impersonate-Group", g) for g in self.as_groups]
        if self.as_uid:
            headers.append(("Impersonate-Uid", self.as_uid))
        return headers


# --max-parallel's default: an exec is mostly waiting (round trips, the runtime's exec, iptables-save on the
# node) while the plugin spends ~10 ms of CPU a node, so 16 in flight keep it busy up to ~160 ms an exec
MAX_PARALLEL = 16


@dataclass(slots=True)
class Options:
    service: str | None = None
    namespace: str | None = None
    kubeconfig: str | None = None
    context: str | None = None
    connect: ConnectFlags = field(default_factory=ConnectFlags)
    request_timeout: float | None = None
    node: str | None = None
    all_nodes: bool = False
    nodes: str | None = None  # --nodes: a label selector or node names (a,b,c)
    sample: int | None = None  # --sample N: N nodes across zones
    max_parallel: int = MAX_PARALLEL  # --max-parallel: nodes read at once
    local: bool = False
    rules_files: list[str] = field(default_factory=list)
    manifests: list[str] = field(default_factory=list)
    example: bool = False
    all_services: bool = False
    all_namespaces: bool = False  # -A: with --all, every namespace (kubectl's -A)
    selector: str | None = None  # -l: with live --all, only the Services with these labels (kubectl's -l)
    since: list[str] = field(default_factory=list)  # --since: an earlier dump of the same node (offline deltas)
    watch: bool = False  # read the rules every interval and show the traffic in between
    interval: float = WATCH_INTERVAL  # seconds between --watch samples
    samples: int | None = None  # --watch stops after this many samples
    problems: bool = False  # with --all: only the Services with error or warning findings
    port: str | None = None
    output: str = "table"
    explain: bool = False  # findings with their evidence, explanations and fixes (as -o wide)
    color: str = "auto"
    lenient: bool = False
    proxy_mode: str | None = None
    print_rbac: bool = False
    debug: bool = False
    trace: str | None = None  # --trace FROM
    trace_to: str | None = None
    trace_proto: str | None = None
    node_ips: list[str] = field(default_factory=list)
    # the cluster flags the user gave (as typed in long form: "--context", "--token"), said to be unused offline
    cluster_flags: tuple[str, ...] = ()

    @property
    def many_nodes(self) -> bool:
        """--all-nodes, --nodes or --sample: several nodes read and compared."""
        return self.all_nodes or self.nodes is not None or self.sample is not None


def unused_cluster_flags(opts: Options) -> str | None:
    """The stderr warning for cluster flags (--context, --token, …) a run that reads no cluster leaves unused: a user who
    typed --context prod and got an answer must not think it came from prod. None: no such flag, or a cluster is read."""
    if not opts.cluster_flags:
        return None
    source = ("--example" if opts.example else "--rules-file" if opts.rules_files else
              "--local with --manifest" if opts.local and opts.manifests else None)
    if source is None:
        return None
    flags = list(opts.cluster_flags)
    return f"Warning: {listed(flags, most=len(flags))} {'is' if len(flags) == 1 else 'are'} ignored: {source} reads no cluster"


def _one_service_across(opts: Options) -> str | None:
    """kubectl svcpath web -A: as kubectl, a Service is read by name in one namespace; the hint finds that namespace."""
    name = (opts.service or "").rsplit("/", 1)[-1]
    if not name or not _NAMESPACE.fullmatch(name):
        return None
    return (f"one Service is read in its namespace: kubectl svcpath {name} -n NAMESPACE; "
            f"kubectl get services -A --field-selector metadata.name={name} lists the namespaces that have one")


def split_service(arg: str, namespace: str | None, offline: list[str] | None = None) -> tuple[str | None, str]:
    """``name``, ``svc/name`` (kubectl's TYPE/NAME: service, services, Service; svc.v1./name) or ``ns/name`` ->
    (namespace, name); ``-n`` must agree with ``ns/``. A head no namespace can be named (Deployment/web,
    deployments.apps/web) or a Service's DNS name (web.shop) is refused, saying what to type (deploy/web, which
    can name a namespace, is refused once no Service is found there: service_arg.kind_not_namespace):
    ``offline``, the flags of a run that reads no cluster (["--rules-file", "dump.txt"]), for the commands it hints."""
    parts = arg.split("/")
    if len(parts) == 1:
        name, ns = parts[0], namespace
    elif len(parts) == 2 and _is_service_kind(parts[0]):
        name, ns = parts[1], namespace
    elif len(parts) == 2 and not _NAMESPACE.fullmatch(parts[0]):  # (deploy/web: see service_arg.kind_not_namespace)
        from kubectl_svcpath.service_arg import not_a_service

        raise not_a_service(parts[0], parts[1], namespace, offline)
    elif len(parts) == 2:
        ns, name = parts
        if namespace and namespace != ns:
            from kubectl_svcpath.service_arg import is_kind, not_a_service

            if is_kind(ns):  # deploy/web -n shop: kubectl's TYPE/NAME, -n says it is no namespace
                raise not_a_service(ns, name, namespace, offline)
            raise UsageError(f'the service "{arg}" names namespace "{ns}" but -n says "{namespace}"')
    else:
        hint = (f"kubectl svcpath {parts[2]} -n {parts[1]}" if len(parts) == 3 and _is_service_kind(parts[0])
                and parts[1] and parts[2] else None)
        raise UsageError(f'cannot read service "{arg}": use NAME, svc/NAME or NAMESPACE/NAME', hint=hint)
    if not name:
        raise UsageError(f'cannot read service "{arg}": the name is empty')
    if _DNS_NAME.fullmatch(name):
        from kubectl_svcpath.service_arg import dns_name

        raise dns_name(name, offline)
    return ns, name


def offline_flags(opts: Options) -> list[str] | None:
    """The flags that make a run read no cluster, as typed again in a hint; None: a cluster is read."""
    if opts.example:
        return ["--example"]
    if opts.rules_files:
        return [w for f in opts.rules_files for w in ("--rules-file", f)]
    if opts.local and opts.manifests:
        return ["--local", *(w for f in opts.manifests for w in ("--manifest", f))]
    return None


def is_service_kind(word: str) -> bool:
    """``svc``, ``service``, ``Services``: kubectl's words for the kind (a bare one is typed as in `kubectl get svc`)."""
    return _is_service_kind(word)


def _is_service_kind(head: str) -> bool:
    """kubectl's words for Services, case-insensitive, optionally with the core group's version (services.v1.)."""
    kind, _, version = head.lower().partition(".")
    return kind in _SERVICE_KINDS and version in ("", "v1", "v1.")


_NAMESPACE = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?")  # a DNS-1123 label, as namespaces are named
# a Service's DNS name (web.shop, web.shop.svc.cluster.local): Service names are DNS-1035 labels, without dots;
# an address or an ipvsadm entry ("TCP 10.96.0.10:53") asked for offline starts with a digit or holds a space
_DNS_NAME = re.compile(r"[a-z](?:[-a-z0-9]*[a-z0-9])?\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[-a-z0-9.]*)?")


_GO_DURATION = re.compile(r"(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+")
_GO_UNIT = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_timeout(value: str | None) -> float | None:
    """kubectl's --request-timeout (client-go's ParseTimeout): "0" = none, a bare number = seconds, or a Go
    duration: 1s, 2m, 3h, 500ms, 1h30m, 1m30s, 2.5m."""
    if value is None or value.strip() in ("", "0"):
        return None
    v = value.strip()
    if v.replace(".", "", 1).isdigit():
        return float(v)
    if _GO_DURATION.fullmatch(v):
        return sum(float(n) * _SECONDS[unit] for n, unit in _GO_UNIT.findall(v)) or None
    raise UsageError(f'invalid --request-timeout "{value}": use a duration such as 5s, 1m, 1m30s or 0 for none')


def _validate_connect(c: ConnectFlags) -> None:
    """kubectl's connection flags: impersonation needs --as, header values stay printable, no contradictions."""
    if (c.as_groups or c.as_uid) and not c.as_user:
        raise UsageError("--as-group and --as-uid need --as USER (kubectl: requesting uid or groups without impersonating a user)")
    for flag, value in (("--as", c.as_user), ("--as-uid", c.as_uid), ("--token", c.token),
                        *(("--as-group", g) for g in c.as_groups)):
        if value is not None and any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise UsageError(f"{flag} contains a control character: it would break the HTTP request")
    if c.verbosity < 0:
        raise UsageError(f"invalid -v {c.verbosity}: use a level from 0 (quiet) up; any level above 0 logs the API requests")
    if c.insecure_skip_tls_verify and c.certificate_authority:
        raise UsageError("--insecure-skip-tls-verify and --certificate-authority contradict each other: choose one")


def validate(opts: Options) -> None:
    if opts.print_rbac:
        return
    _validate_connect(opts.connect)
    if opts.output not in OUTPUTS:
        raise UsageError(f'unknown output format "{opts.output}"; use one of: {", ".join(OUTPUTS)}')
    if opts.color not in COLORS:
        raise UsageError(f'unknown --color "{opts.color}"; use one of: {", ".join(COLORS)}')
    sources = sum(bool(x) for x in (opts.rules_files, opts.local, opts.example))
    if sources > 1:
        raise UsageError("choose one source of rules: --rules-file, --local or --example")
    _validate_nodes(opts)
    _validate_selector(opts)
    if opts.all_namespaces and not opts.all_services:
        raise UsageError("-A (--all-namespaces) goes with --all: kubectl svcpath --all -A", hint=_one_service_across(opts))
    if opts.all_namespaces and opts.namespace:
        raise UsageError("use either -n NAMESPACE or -A (--all-namespaces)")
    if opts.all_services and opts.local:
        raise UsageError("--all reads one node's rules through the API or from a dump, not --local",
                         hint="on the node: iptables-save -c > rules.txt; kubectl svcpath --all --rules-file rules.txt")
    if opts.all_services and opts.many_nodes:
        raise UsageError("--all audits every Service against one node's rules: choose the node with --node, not --all-nodes, --nodes or --sample")
    _validate_one_service(opts)
    if opts.watch and (opts.rules_files or opts.example):
        raise UsageError("--watch reads the rules again and again: use it live or with --local "
                         "(for two files use --rules-file LATER --since EARLIER)")
    if opts.watch and (opts.many_nodes or opts.all_services):
        raise UsageError("--watch follows one Service on one node: leave out --all-nodes/--all")
    if opts.samples is not None and (opts.samples < 2 or not opts.watch):
        raise UsageError("--samples N needs --watch and N >= 2 (two samples make one interval)")
    if opts.interval <= 0:
        raise UsageError("the --watch interval must be more than 0 (e.g. --watch 2s)")
    if opts.interval != WATCH_INTERVAL and not opts.watch:  # (it was taken and ignored)
        raise UsageError("--interval is how often --watch reads the rules: add --watch (kubectl svcpath web --watch 5s)")
    if opts.problems and not opts.all_services:
        raise UsageError("--problems filters the --all audit: add --all")
    if opts.all_services and opts.service:
        raise UsageError("--all lists every Service (of the namespace, -A every namespace, or of the dump); do not name one")
    if not opts.service and not opts.all_services and not opts.example:
        raise UsageError("name a Service (kubectl svcpath NAME), or audit every Service with --all (-A: every namespace), or try --example",
                         hint="see 'kubectl svcpath --help' for examples")
    if opts.service:
        split_service(opts.service, opts.namespace, offline_flags(opts))
    if opts.trace is None and (opts.trace_to or opts.trace_proto or opts.node_ips):
        raise UsageError("--to, --proto and --node-ip go with --trace FROM")
    if opts.trace is not None:
        from kubectl_svcpath.trace import TraceSpec, check

        if opts.all_services or opts.many_nodes:
            raise UsageError("--trace follows one Service on one node: it does not go with --all, --all-nodes, --nodes or --sample")
        check(TraceSpec(opts.trace, opts.trace_to, opts.trace_proto, tuple(opts.node_ips)))
    if opts.manifests and opts.example:  # (it was taken and ignored)
        raise UsageError("--example brings its own manifest: leave out --manifest, or pass your rules with --rules-file")
    if opts.manifests and not (opts.rules_files or opts.local or opts.example):
        raise UsageError("--manifest replaces the API server for offline use; add --rules-file FILE or --local")


def _validate_one_service(opts: Options) -> None:
    """--since and --port look at one Service: with --all (or --since with --trace) they were taken and ignored."""
    if opts.since and not opts.rules_files:
        raise UsageError("--since EARLIER compares two dumps of one node: add --rules-file LATER")
    if opts.since and (opts.all_services or opts.trace is not None):
        raise UsageError(f"--since shows one Service's traffic between two dumps: it does not go with "
                         f"{'--all' if opts.all_services else '--trace'}")
    if opts.port and opts.all_services:
        raise UsageError("--port shows one port of one Service: it does not go with --all (name the Service instead)")
    # (--all printed its table for these, -o tree with a note under it and --explain without a word)
    if opts.all_services and opts.output == OutputFormat.TREE:
        raise UsageError("-o tree draws one Service's paths, not --all's list: name a Service "
                         "(kubectl svcpath NAMESPACE/NAME -o tree), or use --all with -o wide or -o json")
    if opts.all_services and opts.explain:
        raise UsageError("--explain gives one Service's findings in full, not --all's list: name a Service "
                         "(kubectl svcpath NAMESPACE/NAME --explain), or use --all -o json (each Service's findings "
                         "with their evidence and fixes)")


def _validate_selector(opts: Options) -> None:
    """-l selects the Services the API lists for the live --all audit."""
    if opts.selector is None:
        return
    if not opts.selector.strip():
        raise UsageError("-l needs a label selector, e.g. -l app=web")
    if not opts.all_services:
        raise UsageError("-l selects Services for the audit: add --all (one Service: name it)")
    if opts.rules_files or opts.example:
        raise UsageError("-l selects among the Services the API lists: live --all only",
                         hint="offline, pass a manifest of just those Services: kubectl get svc,endpointslices -l ... -o yaml")


def _validate_nodes(opts: Options) -> None:
    """--all-nodes, --nodes, --sample and --max-parallel: several nodes of a live cluster."""
    which = "--all-nodes" if opts.all_nodes else "--nodes" if opts.nodes is not None else "--sample"
    if opts.many_nodes and (opts.rules_files or opts.local or opts.example):
        raise UsageError(f"{which} reads the rules of the cluster's nodes; it does not go with --rules-file, --local or --example")
    if opts.many_nodes and opts.node:
        raise UsageError(f"use either --node NAME or {which}")
    if opts.all_nodes and opts.nodes is not None:
        raise UsageError("use either --all-nodes or --nodes (a label selector or names)")
    if opts.sample is not None and opts.sample < 1:
        raise UsageError(f"invalid --sample {opts.sample}: give the number of nodes to read (1 or more)")
    if opts.max_parallel < 1:
        raise UsageError(f"invalid --max-parallel {opts.max_parallel}: give the number of nodes to read at once (1 or more)")
    if opts.nodes is not None:
        from kubectl_svcpath.node_choice import parse_nodes_flag

        parse_nodes_flag(opts.nodes)
