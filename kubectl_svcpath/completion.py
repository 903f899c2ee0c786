"""Shell completion for ``kubectl svcpath``, in kubectl's plugin completion protocol.

kubectl (>= 1.26) answers ``kubectl __complete svcpath ARGS...`` by running the executable
``kubectl_complete-svcpath ARGS...`` from PATH and relaying what it prints: one candidate per
line (``value<TAB>description`` allowed), then a last line ``:<directive>`` (cobra's
ShellCompDirective bits). The last argument is the word being completed ("" after a space).

This module is that executable (console script ``kubectl_complete-svcpath``). It runs on every
TAB press, so it must start fast: stdlib only, no typer, and no kubernetes client. Names from the
cluster come from ``kubectl get`` run as a child process with a short timeout: kubectl is
certainly on PATH when kubectl calls us, it starts in ~0.1 s where importing the kubernetes
client takes over a second, and it resolves kubeconfig, contexts and auth plugins exactly as the
user's kubectl does. Any failure just yields no candidates.

The flag table below mirrors the typer CLI in ``cli.py``; tests/unit/test_completion.py fails when the
two drift apart.
"""

from __future__ import annotations

import os
import sys

# cobra's ShellCompDirective values (spf13/cobra completions.go).
DIRECTIVE_DEFAULT = 0  # the shell may fall back to file names
DIRECTIVE_ERROR = 1
DIRECTIVE_NO_SPACE = 2
DIRECTIVE_NO_FILE_COMP = 4

# kubectl --request-timeout for name look-ups, and a hard stop for the child process.
REQUEST_TIMEOUT = "2s"
HARD_TIMEOUT_SECONDS = 3.0

# What a flag's value completes to.
FILES = "files"  # let the shell complete file names
SERVICES = "services"
NODES = "nodes"
NAMESPACES = "namespaces"
CONTEXTS = "contexts"
PORTS = "ports"  # of the Service named on the command line


class Flag:
    """One CLI option as completion needs it."""

    __slots__ = ("long", "short", "help", "takes_value", "choices", "complete", "repeatable")

    def __init__(
        self,
        long: str,
        help: str,
        short: str | None = None,
        takes_value: bool = False,
        choices: tuple[tuple[str, str], ...] = (),
        complete: str | None = None,
        repeatable: bool = False,
    ) -> None:
        self.long = long
        self.short = short
        self.help = help
        self.takes_value = takes_value
        self.choices = choices  # (value, description)
        self.complete = complete
        self.repeatable = repeatable


OUTPUT_CHOICES = (
    ("table", "one row per hop (default)"),
    ("wide", "table with more columns"),
    ("tree", "the packet's path as a tree"),
    ("json", "the report as JSON"),
    ("yaml", "the report as YAML"),
)
PROXY_MODE_CHOICES = (
    ("iptables", "kube-proxy --proxy-mode=iptables"),
    ("nftables", "kube-proxy --proxy-mode=nftables"),
    ("ipvs", "kube-proxy --proxy-mode=ipvs"),
)
COLOR_CHOICES = (
    ("auto", "colour when stdout is a terminal and NO_COLOR is unset"),
    ("always", "always colour"),
    ("never", "never colour"),
)

FLAGS: tuple[Flag, ...] = (
    Flag("--namespace", "namespace of the Service", short="-n", takes_value=True, complete=NAMESPACES),
    Flag("--output", "output format", short="-o", takes_value=True, choices=OUTPUT_CHOICES),
    Flag("--explain", "findings with evidence, explanations and fixes"),
    Flag("--port", "show one service port only", takes_value=True, complete=PORTS),
    Flag("--node", "node whose rules to read", takes_value=True, complete=NODES),
    Flag("--all-nodes", "read every node's rules and compare them"),
    Flag("--nodes", "read these nodes: a label selector or names (a,b)", takes_value=True),
    Flag("--sample", "read N nodes taken in turn from each zone", takes_value=True),
    Flag("--max-parallel", "nodes read at once (default 16)", takes_value=True),
    Flag("--local", "read this machine's own netfilter tables"),
    Flag("--rules-file", "rule dump to read instead of a node", short="-f", takes_value=True,
         complete=FILES, repeatable=True),
    Flag("--manifest", "Service/EndpointSlices YAML or JSON instead of the API", takes_value=True,
         complete=FILES, repeatable=True),
    Flag("--all", "audit every Service (of the namespace, or the dump)"),
    Flag("--all-namespaces", "with --all: every namespace", short="-A"),
    Flag("--selector", "with live --all: only Services with these labels", short="-l", takes_value=True),
    Flag("--since", "an earlier dump: the traffic between the two", takes_value=True, complete=FILES, repeatable=True),
    Flag("--watch", "show each hop's traffic every interval", short="-w"),
    Flag("--interval", "time between --watch samples", takes_value=True),
    Flag("--samples", "with --watch: stop after N samples", takes_value=True),
    Flag("--problems", "with --all: only Services with errors or warnings"),
    Flag("--example", "run on the bundled hello-service example"),
    Flag("--lenient", "skip dump lines that cannot be read"),
    Flag("--proxy-mode", "kube-proxy mode (default: detected)", takes_value=True, choices=PROXY_MODE_CHOICES),
    Flag("--kubeconfig", "path to the kubeconfig file", takes_value=True, complete=FILES),
    Flag("--context", "kubeconfig context to use", takes_value=True, complete=CONTEXTS),
    Flag("--request-timeout", "timeout per API request (1s, 2m; 0 = none)", takes_value=True),
    Flag("--trace", "follow one connection: an address, pod/NAME, node or outside", takes_value=True,
         choices=(("node", "the node's own traffic (OUTPUT)"), ("outside", "a client outside the cluster"))),
    Flag("--to", "with --trace: destination ADDR:PORT", takes_value=True),
    Flag("--proto", "with --trace: protocol", takes_value=True,
         choices=(("tcp", "TCP"), ("udp", "UDP"), ("sctp", "SCTP"))),
    Flag("--node-ip", "with --trace: an address of the node", takes_value=True, repeatable=True),
    Flag("--as", "username to impersonate", takes_value=True),
    Flag("--as-group", "group to impersonate", takes_value=True, repeatable=True),
    Flag("--as-uid", "UID to impersonate", takes_value=True),
    Flag("--server", "API server address", short="-s", takes_value=True),
    Flag("--token", "bearer token for the API server", takes_value=True),
    Flag("--user", "kubeconfig user to use", takes_value=True),
    Flag("--cluster", "kubeconfig cluster to use", takes_value=True),
    Flag("--certificate-authority", "CA certificate file", takes_value=True, complete=FILES),
    Flag("--client-certificate", "client certificate file", takes_value=True, complete=FILES),
    Flag("--client-key", "client key file", takes_value=True, complete=FILES),
    Flag("--insecure-skip-tls-verify", "do not verify the API server's certificate"),
    Flag("--tls-server-name", "server name to verify the certificate against", takes_value=True),
    Flag("--v", "log level; above 0 logs API requests", short="-v", takes_value=True),
    Flag("--color", "colour the output", takes_value=True, choices=COLOR_CHOICES),
    Flag("--print-rbac", "print the RBAC this plugin needs"),
    Flag("--debug", "print the traceback of an internal error"),
    Flag("--version", "print the version"),
    Flag("--help", "show the help", short="-h"),
)


# With these the plugin reads no Service from the cluster, so SERVICE is not completed from it.
OFFLINE_FLAGS = frozenset({"--example", "--rules-file", "--manifest", "--all", "--print-rbac", "--version", "--help"})
# svc/NAME, service/NAME: the resource spelled out, not a namespace
SERVICE_RESOURCE_NAMES = frozenset({"svc", "service", "services"})

# Flags whose values kubectl itself understands: passed on to the `kubectl get` we run, so the
# names come from the same cluster, user and namespace the plugin would use.
KUBECTL_PASSTHROUGH = ("--kubeconfig", "--context", "--namespace", "--cluster", "--user", "--server", "--token",
                       "--as", "--as-uid", "--certificate-authority", "--client-certificate", "--client-key",
                       "--tls-server-name")


def _flag_index(flags: tuple[Flag, ...]) -> dict[str, Flag]:
    index: dict[str, Flag] = {}
    for flag in flags:
        index[flag.long] = flag
        if flag.short:
            index[flag.short] = flag
    return index


class Parsed:
    """What the words before the one being completed say."""

    __slots__ = ("values", "seen", "positionals", "pending")

    def __init__(self) -> None:
        self.values: dict[str, str] = {}  # long flag -> last value given
        self.seen: set[str] = set()  # long flags present
        self.positionals: list[str] = []
        self.pending: Flag | None = None  # the last word was a flag still waiting for its value


def parse_words(words: list[str], flags: tuple[Flag, ...] = FLAGS) -> Parsed:
    """Walk the complete words the way the CLI would, tolerating flags it does not know."""
    index = _flag_index(flags)
    parsed = Parsed()
    only_positionals = False
    for word in words:
        if parsed.pending is not None:
            parsed.values[parsed.pending.long] = word
            parsed.pending = None
            continue
        if only_positionals or word == "-" or not word.startswith("-"):
            parsed.positionals.append(word)
            continue
        if word == "--":
            only_positionals = True
            continue
        name, eq, value = word.partition("=")
        flag = index.get(name)
        if flag is None and not word.startswith("--") and len(word) > 2:
            # -oyaml, -nteam: a short flag with its value attached
            flag = index.get(word[:2])
            if flag is not None and flag.takes_value:
                name, eq, value = word[:2], "=", word[2:]
            else:
                flag = None
        if flag is None:
            # unknown flag (maybe a newer CLI): remember it for kubectl, assume no value
            parsed.seen.add(name)
            if eq:
                parsed.values[name] = value
            continue
        parsed.seen.add(flag.long)
        if flag.takes_value:
            if eq:
                parsed.values[flag.long] = value
            else:
                parsed.pending = flag
    return parsed


def complete(
    words: list[str],
    lister: Lister | None = None,
    flags: tuple[Flag, ...] = FLAGS,
) -> tuple[list[str], int]:
    """Candidates and the cobra directive for ``words`` (the last one is being completed)."""
    if lister is None:
        lister = Lister()
    to_complete = words[-1] if words else ""
    parsed = parse_words(words[:-1], flags)
    index = _flag_index(flags)

    if parsed.pending is not None:
        return _complete_value(parsed.pending, to_complete, "", parsed, lister)

    if to_complete.startswith("-") and not _after_double_dash(words[:-1]):
        name, eq, value = to_complete.partition("=")
        if eq and name.startswith("--"):
            flag = index.get(name)
            if flag is None or not flag.takes_value:
                return [], DIRECTIVE_NO_FILE_COMP
            return _complete_value(flag, value, name + "=", parsed, lister)
        return _complete_flags(to_complete, parsed, flags), DIRECTIVE_NO_FILE_COMP

    # The one positional: the Service, as NAME, NAMESPACE/NAME or svc/NAME (none in offline modes).
    if parsed.positionals or parsed.seen & OFFLINE_FLAGS:
        return [], DIRECTIVE_NO_FILE_COMP
    head, slash, _ = to_complete.partition("/")
    if not slash:
        return _filter(lister.list(SERVICES, parsed), to_complete), DIRECTIVE_NO_FILE_COMP
    namespace = None if head in SERVICE_RESOURCE_NAMES else head
    found = [f"{head}/{c}" for c in lister.list(SERVICES, parsed, namespace=namespace)]
    return _filter(found, to_complete), DIRECTIVE_NO_FILE_COMP


def service_ref(parsed: Parsed) -> tuple[str | None, str | None]:
    """(namespace, name) of the Service on the command line, as the CLI reads SERVICE."""
    if not parsed.positionals:
        return None, None
    head, slash, tail = parsed.positionals[0].partition("/")
    if not slash:
        return None, head
    return (None if head in SERVICE_RESOURCE_NAMES else head), tail


def _after_double_dash(words: list[str]) -> bool:
    return "--" in words


def _complete_flags(prefix: str, parsed: Parsed, flags: tuple[Flag, ...]) -> list[str]:
    out = []
    for flag in flags:
        if flag.long in parsed.seen and not flag.repeatable:
            continue  # cobra hides flags already given, too
        for form in (flag.long, flag.short):
            if form and form.startswith(prefix):
                out.append(f"{form}\t{flag.help}")
    return out


def _complete_value(
    flag: Flag, prefix: str, emit_prefix: str, parsed: Parsed, lister: Lister
) -> tuple[list[str], int]:
    if flag.choices:
        found = [f"{value}\t{desc}" for value, desc in flag.choices]
    elif flag.complete == FILES:
        if emit_prefix:
            # --kubeconfig=<TAB>: shells cannot file-complete after '='; offer nothing
            return [], DIRECTIVE_NO_FILE_COMP
        return [], DIRECTIVE_DEFAULT
    elif flag.complete in (NODES, NAMESPACES, CONTEXTS):
        found = lister.list(flag.complete, parsed)
    elif flag.complete == PORTS:
        namespace, name = service_ref(parsed)
        found = lister.list(PORTS, parsed, namespace=namespace, name=name) if name else []
    else:
        return [], DIRECTIVE_NO_FILE_COMP
    return [emit_prefix + c for c in _filter(found, prefix)], DIRECTIVE_NO_FILE_COMP


def _filter(candidates: list[str], prefix: str) -> list[str]:
    return [c for c in candidates if c.split("\t", 1)[0].startswith(prefix)]


def _printable(text: str) -> str:
    # Descriptions come from the cluster: keep control characters away from the terminal.
    return "".join(ch for ch in text if ch.isprintable())


class Lister:
    """Names from the cluster (or kubeconfig) via the user's own kubectl; empty on any failure."""

    # kubectl arguments per kind; jsonpath prints "name<TAB>description" lines.
    QUERIES = {
        SERVICES: ["get", "services", "-o",
                   'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.spec.type} {.spec.clusterIP}{"\\n"}{end}'],
        NODES: ["get", "nodes", "-o",
                'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.status.nodeInfo.kubeletVersion}{"\\n"}{end}'],
        NAMESPACES: ["get", "namespaces", "-o",
                     'jsonpath={range .items[*]}{.metadata.name}{"\\n"}{end}'],
        CONTEXTS: ["config", "get-contexts", "-o", "name"],
        # one Service's ports: the name if it has one (what --port accepts), else the number
        PORTS: ["get", "service", "{name}", "-o",
                'jsonpath={range .spec.ports[*]}{.name}{"\\t"}{.port}/{.protocol}{"\\n"}{end}'],
    }

    def __init__(self, kubectl: str | None = None) -> None:
        self.kubectl = kubectl

    def command(self, kind: str, parsed: Parsed, namespace: str | None = None, name: str | None = None) -> list[str] | None:
        import shutil

        kubectl = self.kubectl or shutil.which("kubectl")
        if kubectl is None:
            return None
        argv = [kubectl, *(a.replace("{name}", name or "") for a in self.QUERIES[kind])]
        for long in KUBECTL_PASSTHROUGH:
            value = parsed.values.get(long)
            if long == "--namespace" and namespace:
                value = namespace  # NAMESPACE/NAME wins over -n, as in the CLI
            if not value:
                continue
            if long == "--namespace" and kind in (NODES, NAMESPACES, CONTEXTS):
                continue  # cluster-scoped: a namespace flag would only be noise
            if kind == CONTEXTS and long != "--kubeconfig":
                continue
            argv.append(f"{long}={value}")
        if kind != CONTEXTS:
            if "--insecure-skip-tls-verify" in parsed.seen:
                argv.append("--insecure-skip-tls-verify")
            argv.append(f"--request-timeout={REQUEST_TIMEOUT}")
        return argv

    def list(self, kind: str, parsed: Parsed, namespace: str | None = None, name: str | None = None) -> list[str]:
        argv = self.command(kind, parsed, namespace, name)
        if argv is None:
            return []
        import subprocess

        _debug(f"running {argv}")
        try:
            proc = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                timeout=HARD_TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            _debug(f"kubectl failed: {exc}")
            return []
        if proc.returncode != 0:
            _debug(f"kubectl exit {proc.returncode}: {proc.stderr.decode(errors='replace').strip()}")
            return []
        out = []
        for line in proc.stdout.decode(errors="replace").splitlines():
            value, _, desc = line.partition("\t")
            value, desc = value.strip(), _printable(desc).strip()
            if kind == PORTS and not value:
                value, desc = desc.split("/", 1)[0], desc  # an unnamed port: its number
            if not value or not value.isprintable() or " " in value:
                continue
            out.append(f"{value}\t{desc}" if desc else value)
        return out if kind == PORTS else sorted(out)


def _debug(message: str) -> None:
    # cobra's convention: completion scripts set BASH_COMP_DEBUG_FILE to trace what happens.
    path = os.environ.get("BASH_COMP_DEBUG_FILE")
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"[kubectl_complete-svcpath] {message}\n")
    except OSError:
        pass


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``kubectl_complete-svcpath``: print candidates and the directive."""
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        candidates, directive = complete(words)
    except Exception as exc:  # completion must never print a traceback into the user's shell
        _debug(f"internal error: {exc!r}")
        candidates, directive = [], DIRECTIVE_ERROR
    out = "".join(f"{c}\n" for c in candidates) + f":{directive}\n"
    try:
        sys.stdout.write(out)
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
