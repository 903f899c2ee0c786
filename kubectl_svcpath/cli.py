"""The command line: kubectl-style flags -> Options -> app.run(); errors -> one line + exit code.

The only module that imports typer. Nothing heavy is imported before the command runs, so
--help and offline runs start fast (the kubernetes client loads only for a live cluster).
"""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from kubectl_svcpath import __version__
from kubectl_svcpath.errors import ExitCode, SvcpathError, UsageError

if TYPE_CHECKING:
    from kubectl_svcpath.options import Options

HELP = """Where does a packet sent to this Service go, on this node, right now?

For every port of the Service: the entry rule (cluster IP, NodePort, LoadBalancer, external IP)
-> the service chain -> each endpoint with its share of new connections -> the DNAT target, with
the packet/byte counters of each hop, set against the Service's EndpointSlices. Then findings:
what is wrong, in plain words, with the evidence. It changes nothing: it only GETs/LISTs, and
runs fixed listings in the node's kube-proxy pod (iptables-save, nft list, ipvsadm -Ln, ipset list).

Rules come from one of three places:

\b
  live (default)  the node's kube-proxy pod, via the API server (pods/exec)
  --local         this machine's own netfilter tables (on the node, as root)
  --rules-file F  files someone collected: iptables-save [-c], '-A' lines,
                  grep output, iptables -L -n -v, nft [-j] list table,
                  ipvsadm -Ln [--stats]
"""

EPILOG = """\b
Examples:
  # live: rules of the node of a ready endpoint, read in its kube-proxy pod
  kubectl svcpath hello-service
  # one node, as a tree
  kubectl svcpath shop/web --node worker-2 -o tree
  # every node; flags nodes whose rules disagree
  kubectl svcpath web --all-nodes
  # on the node itself: its own tables (the Service from the API)
  sudo kubectl svcpath web --local
  # offline: a dump someone sent you, with the API objects
  kubectl svcpath web --rules-file nat.txt --manifest svc.yaml
  # traffic right now: each hop's new connections every 5 seconds, 3 samples
  kubectl svcpath web --watch 5s --samples 3
  # audit: the cluster's Services against one node's rules, problems only
  kubectl svcpath --all -A --problems
  # every Service in a dump, one line each
  kubectl svcpath --rules-file iptables-save.txt --all
  # the bundled hello-service story (no cluster needed)
  kubectl svcpath --example
  # one connection from the node to port-v2 of the example, rule by rule
  kubectl svcpath --example --trace node --to 10.101.173.15:49191
  # a client outside the cluster hitting a NodePort on the node 10.0.0.2
  kubectl svcpath web --trace 203.0.113.9 --to 10.0.0.2:31576 \\
      --node-ip 10.0.0.2

Exit codes: 0 ok, 1 internal error, 2 usage, 3 error-level findings, 4 not found,
5 forbidden (RBAC), 6 API unreachable or timed out, 7 collecting rules failed,
8 bad or truncated dump, 9 unsupported (proxy mode, ExternalName Service, Windows
node, Kubernetes before 1.21), 130 interrupted.
"""

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None,
                  context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})


def _version(value: bool) -> None:
    if value:
        print(f"kubectl-svcpath {__version__}")
        raise typer.Exit()


@app.command(help=HELP, epilog=EPILOG)
def svcpath(
    service: Annotated[Optional[str], typer.Argument(metavar="SERVICE", help="NAME, svc/NAME or NAMESPACE/NAME; offline also its address (ADDRESS[:PORT]: a cluster, external or load-balancer IP), and of a dump that names no Service (ipvsadm) an entry as --all lists it ('TCP 10.96.0.10:53')", show_default=False)] = None,
    namespace: Annotated[Optional[str], typer.Option("-n", "--namespace", metavar="NAMESPACE", help="Namespace of the Service (default: the kubeconfig context's)", show_default=False)] = None,
    output: Annotated[str, typer.Option("-o", "--output", metavar="FORMAT", help="table | wide | tree | json | yaml")] = "table",
    explain: Annotated[bool, typer.Option("--explain", help="Findings in full: evidence, explanations and fixes (-o wide implies it); one Service's, not with --all (its -o json holds them)")] = False,
    port: Annotated[Optional[str], typer.Option("--port", metavar="PORT", help="Show one service port only (name or number)", show_default=False)] = None,
    node: Annotated[Optional[str], typer.Option("--node", metavar="NODE", help="Node whose rules to read (default: the node of a ready endpoint, else the first Ready node); with --rules-file, the host (or kubectl exec's pod) whose lines to read from a paste of several", show_default=False)] = None,
    all_nodes: Annotated[bool, typer.Option("--all-nodes", help="Read every node's rules and report where they disagree (Windows nodes: named, not read)")] = False,
    nodes: Annotated[Optional[str], typer.Option("--nodes", metavar="SELECTOR|NAMES", help="Read these nodes, as --all-nodes does: a label selector (node-role.kubernetes.io/worker, zone=a) or names (n1,n2)", show_default=False)] = None,
    sample: Annotated[Optional[int], typer.Option("--sample", metavar="N", help="Read N nodes, taken in turn from each zone (topology.kubernetes.io/zone), as --all-nodes does", show_default=False)] = None,
    max_parallel: Annotated[int, typer.Option("--max-parallel", metavar="N", help="With --all-nodes, --nodes or --sample: nodes read at once (fewer while nodes' rules are big)")] = 16,  # options.MAX_PARALLEL (test_cli_startup)
    local: Annotated[bool, typer.Option("--local", help="Read this machine's own netfilter tables (run on the node, as root)")] = False,
    rules_file: Annotated[Optional[list[str]], typer.Option("--rules-file", "-f", metavar="FILE", help="Rule dump to read instead of a node (repeatable; '-' reads stdin)", show_default=False)] = None,
    manifest: Annotated[Optional[list[str]], typer.Option("--manifest", metavar="FILE", help="kubectl get service,endpointslices -o yaml|json output, instead of the API (repeatable; JSON up to 64 MiB, YAML up to 8 MiB, no YAML aliases)", show_default=False)] = None,
    all_services: Annotated[bool, typer.Option("--all", help="Audit: one line of health per Service, problems first. Live: the Services of the namespace (-n, -A for all) against one node's rules; offline: every Service in the dump. -o table, wide, json or yaml (-o tree and --explain show one Service)")] = False,
    all_namespaces: Annotated[bool, typer.Option("-A", "--all-namespaces", help="With --all: every namespace")] = False,
    selector: Annotated[Optional[str], typer.Option("-l", "--selector", metavar="SELECTOR", help="With live --all: only the Services with these labels (app=web,tier!=db)", show_default=False)] = None,
    since: Annotated[Optional[list[str]], typer.Option("--since", metavar="FILE", help="An earlier dump of the same node: show the traffic between it and --rules-file", show_default=False)] = None,
    watch: Annotated[bool, typer.Option("--watch", "-w", help="--watch [INTERVAL]: read the rules every INTERVAL (default 2s; --watch 5s, --watch=500ms) and show each hop's traffic in between, until Ctrl-C (in --watch web, web is the Service)")] = False,
    interval: Annotated[str, typer.Option("--interval", metavar="DURATION", help="Same as the INTERVAL of --watch (1s, 500ms)")] = "2s",
    samples: Annotated[Optional[int], typer.Option("--samples", metavar="N", help="With --watch: stop after N samples", show_default=False)] = None,
    problems: Annotated[bool, typer.Option("--problems", help="With --all: only the Services with errors or warnings")] = False,
    example: Annotated[bool, typer.Option("--example", help="Run on the bundled hello-service example (no cluster needed)")] = False,
    lenient: Annotated[bool, typer.Option("--lenient", help="Skip dump lines that cannot be read (with a note) instead of failing")] = False,
    proxy_mode: Annotated[Optional[str], typer.Option("--proxy-mode", metavar="MODE", help="iptables | nftables | ipvs: how to read the rules; live, which listings to run (default: kube-proxy's configuration, else detected)", show_default=False)] = None,
    kubeconfig: Annotated[Optional[str], typer.Option("--kubeconfig", metavar="PATH", help="Path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config)", show_default=False)] = None,
    context: Annotated[Optional[str], typer.Option("--context", metavar="CONTEXT", help="The kubeconfig context to use", show_default=False)] = None,
    request_timeout: Annotated[Optional[str], typer.Option("--request-timeout", metavar="DURATION", help="Timeout for each API request and exec (1s, 2m, 1m30s; 0 for none)  [default: 30s]", show_default=False)] = None,
    trace: Annotated[Optional[str], typer.Option("--trace", metavar="FROM", help="Follow one new connection through the rules: FROM is an address, pod/NAME, NS/pod/NAME, node (the node's own traffic) or outside (a client off the cluster, address not given)", show_default=False)] = None,
    trace_to: Annotated[Optional[str], typer.Option("--to", metavar="ADDR:PORT", help="With --trace: the destination (default: every entry of the Service)", show_default=False)] = None,
    trace_proto: Annotated[Optional[str], typer.Option("--proto", metavar="PROTO", help="With --trace: tcp | udp | sctp (default: the service port's)", show_default=False)] = None,
    node_ip: Annotated[Optional[list[str]], typer.Option("--node-ip", metavar="IP", help="With --trace: an address of the node (repeatable; live: read from the Node)", show_default=False)] = None,
    color: Annotated[str, typer.Option("--color", metavar="WHEN", help="auto | always | never (auto honours NO_COLOR)")] = "auto",
    as_user: Annotated[Optional[str], typer.Option("--as", metavar="USER", help="Username to impersonate (kubectl --as)", show_default=False)] = None,
    as_group: Annotated[Optional[list[str]], typer.Option("--as-group", metavar="GROUP", help="Group to impersonate, repeatable (needs --as)", show_default=False)] = None,
    as_uid: Annotated[Optional[str], typer.Option("--as-uid", metavar="UID", help="UID to impersonate (needs --as)", show_default=False)] = None,
    server: Annotated[Optional[str], typer.Option("-s", "--server", metavar="URL", help="The API server's address, instead of the kubeconfig's", show_default=False)] = None,
    token: Annotated[Optional[str], typer.Option("--token", metavar="TOKEN", help="Bearer token for the API server, instead of the kubeconfig user's", show_default=False)] = None,
    user: Annotated[Optional[str], typer.Option("--user", metavar="NAME", help="The kubeconfig user to use, instead of the context's", show_default=False)] = None,
    cluster: Annotated[Optional[str], typer.Option("--cluster", metavar="NAME", help="The kubeconfig cluster to use, instead of the context's", show_default=False)] = None,
    certificate_authority: Annotated[Optional[str], typer.Option("--certificate-authority", metavar="PATH", help="CA certificate file to verify the API server with", show_default=False)] = None,
    client_certificate: Annotated[Optional[str], typer.Option("--client-certificate", metavar="PATH", help="Client certificate file for TLS", show_default=False)] = None,
    client_key: Annotated[Optional[str], typer.Option("--client-key", metavar="PATH", help="Client key file for TLS", show_default=False)] = None,
    insecure_skip_tls_verify: Annotated[bool, typer.Option("--insecure-skip-tls-verify", help="Do not verify the API server's certificate (insecure)")] = False,
    tls_server_name: Annotated[Optional[str], typer.Option("--tls-server-name", metavar="NAME", help="Server name to verify the API server's certificate against", show_default=False)] = None,
    verbosity: Annotated[int, typer.Option("-v", "--v", metavar="N", help="Log level; above 0, every API request on stderr (method, URL, status, time)")] = 0,
    print_rbac: Annotated[bool, typer.Option("--print-rbac", help="Print the minimal RBAC this plugin needs, and exit")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="On an internal error, print the traceback")] = False,
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit")] = None,
) -> None:
    flags = dict(locals())  # every parameter is a flag: handed on by name (a new flag is its line above + its Options field)
    from kubectl_svcpath.app import Env, run

    try:
        code = run(_options(flags), Env.from_process())
    except BrokenPipeError:  # the reader went away (| head): typer's click would make it exit 1, "a bug"
        code = ExitCode.OK
    raise SystemExit(code)


# ConnectFlags' fields (kubectl's connection overrides) by the flag that sets them (the flag as kubectl spells it:
# the stderr warning names them so)
_CLUSTER_FLAGS = {"--cluster": "cluster", "--user": "user", "--server": "server", "--token": "token",
                  "--certificate-authority": "certificate_authority", "--client-certificate": "client_certificate",
                  "--client-key": "client_key", "--insecure-skip-tls-verify": "insecure_skip_tls_verify",
                  "--tls-server-name": "tls_server_name", "--as": "as_user", "--as-group": "as_groups", "--as-uid": "as_uid",
                  "-v": "verbosity"}
# the fields whose svcpath() parameter has the field's name (--as-group's is as_group, a list: made a tuple)
_CONNECT_FLAGS = tuple(field for field in _CLUSTER_FLAGS.values() if field != "as_groups")


def _options(flags: dict[str, Any]) -> Options:
    """typer's flags -> Options: a flag named as its Options field passes as it is; the others are
    grouped (ConnectFlags), parsed (durations), renamed (repeatable flags to lists) or lower-cased here."""
    from kubectl_svcpath.options import COLORS, OUTPUTS, ConnectFlags, Options, parse_timeout

    f = {k: v for k, v in flags.items() if k != "version"}  # --version: its eager callback has answered
    connect = ConnectFlags(**{k: f.pop(k) for k in _CONNECT_FLAGS}, as_groups=tuple(f.pop("as_group") or ()))
    request_timeout = f.pop("request_timeout")
    given = [f"--{name.replace('_', '-')}" for name in ("kubeconfig", "context") if f[name] is not None]
    given += ["--request-timeout"] if request_timeout is not None else []
    given += [flag for flag, value in _CLUSTER_FLAGS.items() if getattr(connect, value)]
    shaped: dict[str, Any] = {
        "cluster_flags": tuple(given),
        "connect": connect,
        "request_timeout": parse_timeout(request_timeout) if request_timeout is not None else 30.0,
        "rules_files": list(f.pop("rules_file") or []),
        "manifests": list(f.pop("manifest") or []),
        "since": list(f.pop("since") or []),
        "interval": _interval(f.pop("interval")),
        "output": _known(f.pop("output"), OUTPUTS),
        "color": _known(f.pop("color"), COLORS),
        "node_ips": list(f.pop("node_ip") or []),
    }
    return Options(**f, **shaped)


def _known(value: str, known: tuple[str, ...]) -> str:
    """A format or colour choice in lower case (-o JSON); an unknown one as typed, for the error to quote."""
    return value.lower() if value.lower() in known else value


def _interval(value: str) -> float:
    from kubectl_svcpath.options import parse_timeout

    try:
        return parse_timeout(value) or 0.0
    except UsageError:
        raise UsageError(f'invalid --interval "{value}": use a duration such as 2s or 500ms') from None


def _fail(message: str, hint: str | None, code: int) -> int:
    from kubectl_svcpath.render.text import safe

    if sys.stderr.isatty():  # a live run's progress line may stand there, without a newline: erase it
        sys.stderr.write("\r\x1b[K")
    sys.stderr.write(f"error: {safe(message)}\n")
    if hint:
        sys.stderr.write(f"hint: {safe(hint)}\n")
    return code


# kubectl flags with no meaning here: say so rather than offer a look-alike (--selector -> --port?)
KUBECTL_ONLY = {
    "--field-selector": "svcpath reads one Service: name it (or use --all)",
    "--username": "basic auth is gone from Kubernetes: use --token or a kubeconfig user (--user)",
    "--password": "basic auth is gone from Kubernetes: use --token or a kubeconfig user (--user)",
    "--cache-dir": "svcpath keeps no discovery cache",
    "--log-file": "-v N logs to stderr; redirect it: 2>FILE",
    "--logtostderr": "-v N logs to stderr already",
    "--match-server-version": "svcpath reads only stable APIs (v1, discovery.k8s.io/v1)",
    "--show-labels": "use kubectl get to see labels",
    "--sort-by": "findings are sorted by severity, then port",
    "--no-headers": "use -o json or -o yaml for machine-readable output",
}


def _suggestions(typed: str, known: list[str]) -> list[str]:
    """Options the user plausibly meant: one is a prefix of the other, or a letter or two off.

    click's difflib cutoff (0.6) offered --all for --as: a different flag, dangerous to follow.
    """
    import difflib

    typed_l = typed.lower()
    out = []
    for k in known:
        if not k.startswith("--"):
            continue
        prefix = len(typed_l) >= 5 and (k.startswith(typed_l) or typed_l.startswith(k))
        if prefix or difflib.SequenceMatcher(None, typed_l, k).ratio() >= 0.8:
            out.append(k)
    return sorted(out)


def _no_such_option(name: str, known: list[str]) -> tuple[str, str]:
    """(message, hint) for an unknown option."""
    from kubectl_svcpath.render.text import safe

    flag = name.split("=", 1)[0]
    if flag in KUBECTL_ONLY:
        return f"kubectl's {flag} is not a svcpath option", KUBECTL_ONLY[flag]
    close = _suggestions(flag, known)
    if close:
        return f"no such option: {safe(flag)}", "did you mean " + " or ".join(close) + "?"
    return f"no such option: {safe(flag)}", "see 'kubectl svcpath --help'"


_SHORT_WITH_VALUE = ("-n=", "-o=", "-l=", "-f=", "-s=", "-v=")  # the short flags that take a value


def _kubectl_style(args: list[str]) -> list[str]:
    """kubectl's spellings click does not take: `-v=6`, `-n=shop` (a short option with '=': click read
    "=shop" as the namespace)."""
    out: list[str] = []
    for i, a in enumerate(args):
        if a == "--":
            out.extend(args[i:])
            break
        if a.startswith(_SHORT_WITH_VALUE):
            out += [a[:2], a[3:]]
        else:
            out.append(a)
    return out


_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+|\d+(?:\.\d+)?")  # what --interval takes (1m30s too); no Service name starts with a digit


def _watch_interval(args: list[str]) -> list[str]:
    """`--watch [INTERVAL]`: click has no option with an optional value, so `--watch 5s` and
    `--watch=5s` become `--watch --interval 5s`. Only a word that is a duration is taken (a Service
    name is a DNS label and starts with a letter): `--watch web` still names the Service web."""
    out: list[str] = []
    given: list[str] = []  # how the interval was given, to refuse two
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            out.extend(args[i:])
            break
        nxt = args[i + 1] if i + 1 < len(args) else None
        if a.startswith(("--watch=", "-w=")):
            value = a.split("=", 1)[1]
            if not _DURATION.fullmatch(value):
                raise UsageError(f'invalid --watch "{value}": use a duration such as 2s or 500ms (or --watch alone: every 2s)')
            out += ["--watch", "--interval", value]
            given.append(f"--watch={value}")
        elif a in ("--watch", "-w") and nxt is not None and _DURATION.fullmatch(nxt):
            out += ["--watch", "--interval", nxt]
            given.append(f"{a} {nxt}")
            i += 1
        else:
            if a == "--interval" or a.startswith("--interval="):
                given.append(a if "=" in a else f"{a} {nxt or ''}".strip())
            out.append(a)
        i += 1
    if len(given) > 1 and any(g.startswith(("--watch", "-w")) for g in given):
        raise UsageError(f"the --watch interval is given twice ({' and '.join(given)}): give it once")
    return out


def _plain_kind(annotation: Any) -> Any:
    """str, int, bool or list (of str) for such a flag's annotation (Optional or not), else None."""
    import types
    import typing

    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = rest[0] if len(rest) == 1 else None
    if annotation in (str, int, bool):
        return annotation
    return list if typing.get_origin(annotation) is list and typing.get_args(annotation) == (str,) else None


def _plain_coercion() -> None:
    """typer >= 0.26 checks each flag's value with a pydantic TypeAdapter it builds while parsing:
    importing pydantic for that was ~0.1 s and 14 MB of every run. This command's flags are str,
    int, bool and lists of str: their plain values are taken as typer takes them, and anything
    else (a number with a sign, a bad number, another type) goes to typer's own adapter, which
    says what is wrong in its own words. Older typers (no typer._coercion) are left as they are."""
    try:
        from typer import _coercion, core
    except ImportError:
        return
    build, base = getattr(core, "build_runtime_param", None), getattr(_coercion, "RuntimeParam", None)
    if build is None or base is None or getattr(build, "plain", False):
        return
    from dataclasses import dataclass

    typer_build: Any = build

    @dataclass(frozen=True)
    class Plain(base):  # type: ignore[misc, valid-type]
        descriptor: Any = None
        kind: Any = None

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            kind = self.kind
            if (kind is str and type(value) is str) or (kind is bool and type(value) is bool) or (kind is int and type(value) is int):
                return value
            if kind is int and type(value) is str and value.isascii() and value.isdigit() and len(value) <= 18:
                return int(value)
            if kind is list and isinstance(value, (list, tuple)) and all(type(v) is str for v in value):
                return list(value)
            return typer_build(self.descriptor)._coerce_value(value, param=param, ctx=ctx)

    def plain(descriptor: Any) -> Any:
        info, kind = descriptor.parameter_info, _plain_kind(descriptor.annotation)
        if (kind is None or descriptor.file_annotation is not None or getattr(info, "min", None) is not None
                or getattr(info, "max", None) is not None or getattr(info, "parser", None) is not None
                or getattr(info, "click_type", None) is not None):
            return typer_build(descriptor)
        try:
            return Plain(parameter_info=info, annotation=descriptor.annotation, descriptor=descriptor, kind=kind)
        except TypeError:  # a typer whose RuntimeParam takes other fields: its own, as it is
            return typer_build(descriptor)

    plain.plain = True  # type: ignore[attr-defined]
    plain.typer_build = build  # type: ignore[attr-defined]
    core.build_runtime_param = plain


_NO_BREAK_HYPHEN = "\u2011"  # stands in for "-" while click wraps the help, so that it breaks at spaces only
_NO_BREAK_SPACE = "\u00a0"  # and for the space of "[default: 16]", which stays on one row
_STACKED = 4  # write_dl's col_max under which every flag is longer: each flag on its own line, its text under it


def _kubectl_help(command: Any) -> None:
    """--help as kubectl's reads, in a terminal of 60 columns or more:

    - wrapped at spaces only: click's wrapper also breaks after a hyphen, which split "kube-"/"proxy" and
      "node-"/"role.kubernetes.io/worker" at some widths. The help's hyphens are non-breaking while it is
      wrapped and plain again in the text written;
    - the hand-laid blocks (where rules come from, the examples) fitted to the width (help_layout): click
      prints them as written, 78 columns wide;
    - where a word of the flags' texts would not fit beside the flags (under 66 columns; click broke
      "node-role.kubern"/"etes.io/worker"), each flag on its own line and its text under it, as kubectl does;
    - the argument named as the usage line names it, SERVICE (typer 0.2x wrote "SERVICE <str>"), and the usage
      line showing it optional, "[SERVICE]" (--all takes none), whatever typer brackets (0.15 wrote "SERVICE");
    - typer's "[default: …]" without the backslash typer 0.15 puts before it for rich markup, which it does
      not use here (it printed "\\[default: table]")."""
    for param in command.params:
        if param.param_type_name == "argument" and param.help:
            name = param.metavar or param.name.upper()
            record = (name, param.help)
            param.get_help_record = lambda ctx, record=record: record
            piece = name if param.required else f"[{name}]"
            param.get_usage_pieces = lambda ctx, piece=piece: [piece]
    base = command.context_class

    class Formatter(base.formatter_class):  # type: ignore[name-defined]
        def write_text(self, text: str) -> None:
            from kubectl_svcpath.help_layout import fit_blocks

            text = fit_blocks(text, self.width - self.current_indent)
            super().write_text(text.replace("-", _NO_BREAK_HYPHEN))

        def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
            rows = [(term, text.replace("\\[", "[").replace("-", _NO_BREAK_HYPHEN).replace("[default: ", "[default:" + _NO_BREAK_SPACE))
                    for term, text in rows]
            # the room click leaves a text beside the flags (HelpFormatter.write_dl)
            room = self.width - min(max(len(term) for term, _ in rows), col_max) - col_spacing - 2
            if any(len(word) > room for _, text in rows for word in text.split()):
                col_max = _STACKED
            super().write_dl(rows, col_max, col_spacing)

        def getvalue(self) -> str:
            return str(super().getvalue()).replace(_NO_BREAK_HYPHEN, "-").replace(_NO_BREAK_SPACE, " ")

    class Context(base):  # type: ignore[misc,valid-type]
        formatter_class = Formatter

    command.context_class = Context


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: never lets a traceback reach the user (unless --debug)."""
    _plain_coercion()
    # click's exceptions reached from typer's public API: typer < 0.26 uses click, later ones a
    # vendored copy (typer._click) that older typers lack
    usage_error: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
    click_exc = sys.modules[usage_error.__module__]

    args = _kubectl_style(sys.argv[1:] if argv is None else argv)
    command = typer.main.get_command(app)
    _kubectl_help(command)
    try:
        args = _watch_interval(args)
        code = command.main(args=args, prog_name="kubectl svcpath", standalone_mode=False)
        code = code if isinstance(code, int) else 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 0
    except click_exc.NoSuchOption as e:
        known = [o for p in command.params for o in (*p.opts, *p.secondary_opts)]
        message, hint = _no_such_option(e.option_name, known)
        code = _fail(message, hint, ExitCode.USAGE)
    except usage_error as e:
        message = e.format_message()  # type: ignore[attr-defined]
        code = _fail(_in_our_words(message, args), _usage_hint(message, args), ExitCode.USAGE)
    except typer.Abort:
        code = _fail("interrupted", None, ExitCode.INTERRUPTED)
    except SvcpathError as e:
        code = _fail(e.message, e.hint, e.exit_code)
    except KeyboardInterrupt:
        code = _fail("interrupted", None, ExitCode.INTERRUPTED)
    except BrokenPipeError:
        code = ExitCode.OK
    except Exception as e:  # a bug: one line, the traceback only on request
        if "--debug" in args:
            raise
        code = _fail(f"internal error ({type(e).__name__}: {str(e)[:200]})", "rerun with --debug and report it", ExitCode.INTERNAL)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    if argv is None:  # the installed command: its answer is written, nothing is left to do
        _exit_now(code)
    raise SystemExit(code)


_NEEDS_VALUE = re.compile(r"Option '(\S+)' requires an argument\.")
_EXTRA = re.compile(r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)")  # click 8.1: "argument", later "argument(s)"
_INVALID = re.compile(r"Invalid value for '([^']+)'(?: / '([^']+)')?: (.*)", re.S)


def _in_our_words(message: str, args: list[str]) -> str:
    """click's usage errors as kubectl words them, in lower case like every other error line: "flag needs an
    argument: --port" (was "Option '--port' requires an argument."); 'invalid argument "x" for --sample: a
    whole number' (was pydantic's "Input should be a valid integer, unable to parse string as an integer")."""
    if m := _NEEDS_VALUE.fullmatch(message):
        return f"flag needs an argument: {m.group(1)}"
    if m := _EXTRA.fullmatch(message):
        extra = m.group(1).split()
        named = ", ".join('"' + a + '"' for a in extra)
        return (f"unexpected argument{'s' if len(extra) > 1 else ''} {named}: kubectl svcpath takes one Service "
                "(NAME, svc/NAME or NAMESPACE/NAME)")
    if m := _INVALID.fullmatch(message):
        names, why = [n for n in m.groups()[:2] if n], m.group(3)
        flag = names[-1]
        if "integer" in why:
            given = [a.split("=", 1)[1] if "=" in a else nxt for a, nxt in zip(args, [*args[1:], ""], strict=True)
                     if a in names or a.split("=", 1)[0] in names]
            return f'invalid argument "{given[-1] if given else ""}" for {flag}: a whole number is expected'
        return f"invalid value for {flag}: {why}"
    return message[:1].lower() + message[1:]


def _usage_hint(message: str, args: list[str]) -> str:
    """kubectl's `get svc web` habit: `kubectl svcpath svc web` names the Service as svc/web; `deploy web`, another
    kind, gets the hint of deploy/web (service_arg.py)."""
    kinds = [a for a in args if a in ("svc", "service", "services")]
    if message.startswith("Got unexpected extra argument") and kinds:
        i = args.index(kinds[0])
        name = args[i + 1] if i + 1 < len(args) and not args[i + 1].startswith("-") else "NAME"
        return f"name the Service in one word: kubectl svcpath {kinds[0]}/{name} (or just {name})"
    extra = _EXTRA.fullmatch(message)
    if extra and extra.group(1).split()[0] in args:
        from kubectl_svcpath.service_arg import is_kind, not_a_service

        at = args.index(extra.group(1).split()[0])
        if at and is_kind(args[at - 1]):
            namespaces = _flag_values(args, "-n", "--namespace")
            return not_a_service(args[at - 1], args[at], namespaces[-1] if namespaces else None, _offline(args)).hint or ""
    return "see 'kubectl svcpath --help'"


def _flag_values(args: list[str], *names: str) -> list[str]:
    """The values given to one of ``names`` (-n shop, --namespace=shop), in order, as click takes them."""
    values = []
    for i, a in enumerate(args):
        name, eq, value = a.partition("=")
        if name in names:
            values.append(value if eq else (args[i + 1] if i + 1 < len(args) else ""))
    return values


def _offline(args: list[str]) -> list[str] | None:
    """The flags of a run that reads no cluster, for a hint's commands (options.offline_flags, before parsing)."""
    if "--example" in args:
        return ["--example"]
    return [w for f in _flag_values(args, "-f", "--rules-file") for w in ("--rules-file", f)] or None


def _exit_now(code: int) -> None:
    """End the process without the interpreter's teardown: freeing a 35 MB dump, every module and the
    client's objects one by one took 20-80 ms of CPU after the answer was out (a live run's threads
    are all done or abandoned, and the plugin holds nothing to save or close: read-only)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass
    os._exit(code)
