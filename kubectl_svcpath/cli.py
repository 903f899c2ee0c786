"""The command line: kubectl-style flags -> Options -> app.run(); errors -> one line + exit code.

The only module that imports typer. Nothing heavy is imported before the command runs, so
--help and offline runs start fast (the kubernetes client loads only for a live cluster).
"""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from kubectl_svcpath import __version__
from kubectl_svcpath.errors import ExitCode, SvcpathError

HELP = """Where does a packet sent to this Service go, on this node, right now?

For every port of the Service: the entry rule (cluster IP, NodePort, LoadBalancer, external IP)
-> the service chain -> each endpoint with its share of new connections -> the DNAT target, with
the packet/byte counters of each hop, set against the Service's EndpointSlices. Then findings:
what is wrong, in plain words, with the evidence. Read-only: it only GETs/LISTs and runs
read-only commands (iptables-save, nft list, ipvsadm -Ln) in kube-proxy pods.

Rules come from one of three places:

\b
  live (default)   the node's kube-proxy pod, through the API server (pods/exec)
  --local          this machine's own netfilter tables (run it on the node, as root)
  --rules-file F   files someone collected: iptables-save [-c], '-A' lines, grep output,
                   iptables -L -n -v, nft [-j] list table, ipvsadm -Ln [--stats]
"""

EPILOG = """\b
Examples:
  # live: rules of the node of a ready endpoint, read in its kube-proxy pod
  kubectl svcpath hello-service
  # one node, as a tree
  kubectl svcpath shop/web --node worker-2 -o tree
  # every node; flags nodes whose rules disagree
  kubectl svcpath web --all-nodes
  # on the node itself, reading its own tables (API for the Service, or --manifest)
  sudo kubectl svcpath web --local
  # offline: a dump someone sent you, with the API objects
  kubectl svcpath web --rules-file nat.txt --manifest svc.yaml
  # every Service in a dump, one line each
  kubectl svcpath --rules-file iptables-save.txt --all
  # the bundled hello-service story (no cluster needed)
  kubectl svcpath --example

Exit codes: 0 ok, 1 internal error, 2 usage, 3 error-level findings, 4 not found,
5 forbidden (RBAC), 6 API unreachable or timed out, 7 collecting rules failed,
8 bad or truncated dump, 9 unsupported proxy mode, 130 interrupted.
"""

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None,
                  context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})


def _version(value: bool) -> None:
    if value:
        print(f"kubectl-svcpath {__version__}")
        raise typer.Exit()


@app.command(help=HELP, epilog=EPILOG)
def svcpath(
    service: Annotated[Optional[str], typer.Argument(metavar="SERVICE", help="NAME, svc/NAME or NAMESPACE/NAME", show_default=False)] = None,
    namespace: Annotated[Optional[str], typer.Option("-n", "--namespace", metavar="NAMESPACE", help="Namespace of the Service (default: the kubeconfig context's)", show_default=False)] = None,
    output: Annotated[str, typer.Option("-o", "--output", metavar="FORMAT", help="table | wide | tree | json | yaml")] = "table",
    port: Annotated[Optional[str], typer.Option("--port", metavar="PORT", help="Show one service port only (name or number)", show_default=False)] = None,
    node: Annotated[Optional[str], typer.Option("--node", metavar="NODE", help="Node whose rules to read (default: the node of a ready endpoint)", show_default=False)] = None,
    all_nodes: Annotated[bool, typer.Option("--all-nodes", help="Read every node's rules and report where they disagree")] = False,
    local: Annotated[bool, typer.Option("--local", help="Read this machine's own netfilter tables (run on the node, as root)")] = False,
    rules_file: Annotated[Optional[list[str]], typer.Option("--rules-file", "-f", metavar="FILE", help="Rule dump to read instead of a node (repeatable; - for stdin)", show_default=False)] = None,
    manifest: Annotated[Optional[list[str]], typer.Option("--manifest", metavar="FILE", help="kubectl get service,endpointslices -o yaml|json output, instead of the API (repeatable)", show_default=False)] = None,
    all_services: Annotated[bool, typer.Option("--all", help="With --rules-file: one line of health for every Service in the dump")] = False,
    example: Annotated[bool, typer.Option("--example", help="Run on the bundled hello-service example (no cluster needed)")] = False,
    lenient: Annotated[bool, typer.Option("--lenient", help="Skip dump lines that cannot be read (with a note) instead of failing")] = False,
    proxy_mode: Annotated[Optional[str], typer.Option("--proxy-mode", metavar="MODE", help="iptables | nftables | ipvs (default: detected)", show_default=False)] = None,
    kubeconfig: Annotated[Optional[str], typer.Option("--kubeconfig", metavar="PATH", help="Path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config)", show_default=False)] = None,
    context: Annotated[Optional[str], typer.Option("--context", metavar="CONTEXT", help="The kubeconfig context to use", show_default=False)] = None,
    request_timeout: Annotated[Optional[str], typer.Option("--request-timeout", metavar="DURATION", help="Timeout for each API request and exec (1s, 2m; 0 = none) [default: 30s]", show_default=False)] = None,
    color: Annotated[str, typer.Option("--color", metavar="WHEN", help="auto | always | never (auto honours NO_COLOR)")] = "auto",
    print_rbac: Annotated[bool, typer.Option("--print-rbac", help="Print the minimal RBAC this plugin needs, and exit")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="On an internal error, print the traceback")] = False,
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit")] = None,
) -> None:
    from kubectl_svcpath.app import Env, run
    from kubectl_svcpath.options import Options, parse_timeout

    opts = Options(
        service=service, namespace=namespace, kubeconfig=kubeconfig, context=context,
        request_timeout=parse_timeout(request_timeout) if request_timeout is not None else 30.0,
        node=node, all_nodes=all_nodes, local=local, rules_files=list(rules_file or []), manifests=list(manifest or []),
        example=example, all_services=all_services, port=port, output=output.lower(), color=color.lower(),
        lenient=lenient, proxy_mode=proxy_mode, print_rbac=print_rbac, debug=debug,
    )
    raise SystemExit(run(opts, Env.from_process()))


def _fail(message: str, hint: str | None, code: int) -> int:
    from kubectl_svcpath.render.text import safe

    sys.stderr.write(f"error: {safe(message)}\n")
    if hint:
        sys.stderr.write(f"hint: {safe(hint)}\n")
    return code


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: never lets a traceback reach the user (unless --debug)."""
    # click's UsageError through typer's public API: typer < 0.26 uses click, later ones a vendored copy
    usage_error = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")

    args = sys.argv[1:] if argv is None else argv
    command = typer.main.get_command(app)
    try:
        code = command.main(args=args, prog_name="kubectl svcpath", standalone_mode=False)
        code = code if isinstance(code, int) else 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 0
    except usage_error as e:
        code = _fail(e.format_message(), "see 'kubectl svcpath --help'", ExitCode.USAGE)
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
    raise SystemExit(code)
