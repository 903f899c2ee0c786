"""The API connection: kubeconfig, context, namespace, ApiClient, and the one error translator.

kubectl's rules, as far as they matter here: ``--kubeconfig`` wins; else ``$KUBECONFIG`` (a
``:``-separated list, merged); else ``~/.kube/config``; with none of them present inside a pod,
the in-cluster service account. The namespace is ``-n``, else the context's, else ``default``.
The client reads ``$KUBECONFIG`` once at import time, so the path is always passed explicitly.

``translate()`` is the only place that turns client, urllib3, websocket and kubeconfig
exceptions into the plugin's errors (``kubectl_svcpath.errors``).
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from collections.abc import Callable
from urllib.parse import quote, urlencode

from kubectl_svcpath import __version__
from kubectl_svcpath.errors import ApiUnreachable, Forbidden, NotFound, SvcpathError, Unauthorized
from kubectl_svcpath.options import ConnectFlags

USER_AGENT = f"kubectl-svcpath/{__version__}"
_SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def one_line(text: str, limit: int = 200) -> str:
    """First non-empty line, control characters removed, shortened: safe to print on a terminal."""
    for line in str(text).splitlines():
        line = _CONTROL.sub("", line).strip()
        if line:
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


@dataclass(frozen=True, slots=True)
class Call:
    """What a request was doing, for error messages and RBAC hints."""

    verb: str  # get | list | create (pods/exec)
    resource: str  # services, endpointslices, pods, nodes, configmaps, pods/exec
    name: str | None = None
    namespace: str | None = None
    group: str = ""  # API group, "" = core

    def describe(self, verb: bool = False) -> str:
        """'service "web" in namespace "shop"'; with verb: 'get service "web" in namespace "shop"'."""
        what = self.resource.rstrip("s") if self.name else self.resource
        if self.resource == "pods/exec":
            what = "exec into pod"
        target = f'{what} "{self.name}"' if self.name else what
        where = f' in namespace "{self.namespace}"' if self.namespace else ""
        if verb and self.resource != "pods/exec":
            target = f"{self.verb} {target}"
        return f"{target}{where}"

    def can_i(self) -> str:
        ns = f" -n {self.namespace}" if self.namespace else ""
        if not self.namespace and self.resource not in _CLUSTER_SCOPED:  # a LIST across namespaces (-A): without
            ns = " -A"  # the flag, can-i asks about the context's namespace only, and may say yes
        res = f"{self.resource}.{self.group}" if self.group else self.resource
        if self.name and self.resource != "pods/exec":  # TYPE/NAME: a rule granted by resourceNames (kube-proxy's
            res += f"/{self.name}"  # ConfigMap) answers "no" to the type alone
        return f"kubectl auth can-i {self.verb} {res}{ns}"


_CLUSTER_SCOPED = frozenset({"nodes", "namespaces"})


@dataclass(slots=True)
class Kube:
    """A loaded kubeconfig: the client configuration and the defaults it implies."""

    configuration: Any  # kubernetes.client.Configuration
    namespace: str  # the context's namespace, or "default"
    context: str | None
    server: str
    timeout: float | None  # seconds per request; None = no timeout
    headers: list[tuple[str, str]] = field(default_factory=list)  # sent with every request: --as/--as-group/--as-uid
    log: Callable[[str], None] | None = None  # -v N: one line per request
    kubeconfig: str | None = None  # --kubeconfig as given (for the kubectl commands of hints)
    _api: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    closing: threading.Event = field(default_factory=threading.Event, repr=False)  # set by close(): execs still read give up

    @property
    def api(self) -> Any:
        """The run's ApiClient, shared by the reads and (kubernetes >= 37) the concurrent execs."""
        with self._lock:
            if self._api is None:
                self._api = self.new_api_client()
            return self._api

    def new_api_client(self) -> Any:
        from kubernetes import client

        api = client.ApiClient(self.configuration)
        api.user_agent = USER_AGENT
        return api

    def log_request(self, method: str, path: str, path_params: dict[str, str], query: list[tuple[str, Any]],
                    outcome: BaseException | int, started: float) -> None:
        """-v N: `GET https://server/path?query 200 OK in 12 ms` on stderr; never a header value."""
        if self.log is None:
            return
        import time

        for key, value in path_params.items():
            path = path.replace("{%s}" % key, quote(value, safe=""))
        pairs = [(k, str(x).lower() if isinstance(x, bool) else str(x))
                 for k, v in query for x in (v if isinstance(v, list) else [v])]
        url = self.server + path + ("?" + urlencode(pairs) if pairs else "")
        ms = (time.monotonic() - started) * 1000
        self.log(f"{method} {one_line(url, 2000)} {request_status(outcome)} in {ms:.0f} ms")

    def close(self) -> None:
        self.closing.set()
        if self._api is not None:
            try:
                self._api.close()
            except Exception:  # closing is best effort  # noqa: BLE001
                pass
            self._api = None


def kubeconfig_path(flag: str | None) -> str:
    """The kubeconfig path list kubectl would use (not yet checked for existence)."""
    if flag:
        return os.path.expanduser(flag)
    env = os.environ.get("KUBECONFIG", "")
    if env.strip(os.pathsep):
        return env
    return os.path.expanduser("~/.kube/config")


def _any_exists(paths: str) -> bool:
    return any(p and os.path.exists(os.path.expanduser(p)) for p in paths.split(os.pathsep))


def connect(kubeconfig: str | None = None, context: str | None = None, timeout: float | None = None,
            flags: ConnectFlags | None = None, log: Callable[[str], None] | None = None) -> Kube:
    """Load the kubeconfig like kubectl does, with kubectl's override flags; raises ApiUnreachable (exit 6).

    ``log``: where ``-v N`` request lines go (method, URL, status, time; never a header value).
    """
    from kubernetes import client, config
    from kubernetes.config.kube_config import KubeConfigLoader, KubeConfigMerger

    flags = flags or ConnectFlags()
    path = kubeconfig_path(kubeconfig)
    cfg = client.Configuration()
    cfg.retries = False  # one try: urllib3's default 3 retries quadruple every timeout
    cfg.host = ""  # not the default http://localhost: a context without a server is caught below
    try:
        if not kubeconfig and not _any_exists(path) and not flags.server and os.environ.get("KUBERNETES_SERVICE_HOST"):
            config.load_incluster_config(client_configuration=cfg)
            _override_incluster(cfg, flags)
            namespace = _incluster_namespace()
            ctx_name = None
        else:
            if kubeconfig and not os.path.exists(path):
                raise ApiUnreachable(f"kubeconfig {path} does not exist", hint="check --kubeconfig")
            if not _any_exists(path) and not flags.server:
                raise ApiUnreachable(f"no kubeconfig found (looked at {path})",
                                     hint="pass --kubeconfig FILE, set KUBECONFIG, --server URL, or run on a machine where kubectl works")
            merged = KubeConfigMerger(path).config if _any_exists(path) else None
            doc = merged if merged is not None else {}
            raw = merged.value if merged is not None else doc
            ctx_name, namespace = _apply_flags(raw, context, flags, path)
            loader = KubeConfigLoader(config_dict=doc, active_context=ctx_name, config_base_path=None)
            from kubectl_svcpath.kube.credentials import failed_login, keep_client_errors

            keep_client_errors()  # (a failing exec plugin is logged by the client, not raised)
            loader.load_and_set(cfg)
            failed = failed_login(*_user_of(raw, ctx_name))
            if failed is not None:
                raise failed
    except SvcpathError:
        raise
    except Exception as e:  # noqa: BLE001 - ConfigException, YAML errors, unreadable files: all "bad kubeconfig"
        raise translate(e, None, kubeconfig=path, context=context) from None
    if not cfg.verify_ssl:  # insecure-skip-tls-verify: kubectl stays quiet, so does the plugin
        import warnings

        import urllib3

        warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
    if not re.match(r"^https?://[^/]", cfg.host or ""):
        raise ApiUnreachable(f'kubeconfig {path}: context "{ctx_name}" has no usable server address ({cfg.host or "none"})',
                             hint="check the cluster's server: kubectl config view --minify, or pass --server URL")
    return Kube(configuration=cfg, namespace=namespace, context=ctx_name, server=cfg.host, timeout=timeout or None,
                kubeconfig=kubeconfig,
                headers=flags.impersonation_headers(), log=log if flags.verbosity > 0 else None)


_FLAGS_ENTRY = "svcpath-flags"  # the name of a cluster/user/context made from flags alone


def _entries(doc: dict[str, Any], kind: str) -> list[Any]:
    if not isinstance(doc.get(kind), list):
        doc[kind] = []
    return doc[kind]


def _entry(doc: dict[str, Any], kind: str, name: str | None) -> dict[str, Any] | None:
    """The named item of clusters/users/contexts (merged kubeconfigs hold ConfigNode items)."""
    for item in _entries(doc, kind):
        value = getattr(item, "value", item)
        if isinstance(value, dict) and value.get("name") == name:
            return value
    return None


def _apply_flags(doc: dict[str, Any], context: str | None, flags: ConnectFlags, path: str) -> tuple[str, str]:
    """Apply kubectl's override flags to the (merged) kubeconfig in memory; (context name, namespace).

    As client-go's clientcmd does: --cluster/--user replace the context's choice; --server, --token,
    the certificates and --tls-server-name replace fields; --certificate-authority drops the
    inline CA data, --insecure-skip-tls-verify drops the CA, --token drops the other ways to get one.
    File paths given as flags are relative to the working directory, as kubectl's are.
    """
    ctx_name, ctx = _flagged_context(doc, context, flags, path)
    _choose_cluster_and_user(doc, ctx, flags, path)
    _override_cluster(_entry(doc, "clusters", ctx["cluster"])["cluster"], flags)  # type: ignore[index]
    _override_user(_entry(doc, "users", ctx["user"])["user"], flags)  # type: ignore[index]
    return ctx_name, ctx.get("namespace") or "default"


def _user_of(doc: dict[str, Any], ctx_name: str) -> tuple[dict[str, Any] | None, str | None]:
    """The context's user entry (its ``user`` mapping) and name, as _apply_flags left them."""
    ctx = (_entry(doc, "contexts", ctx_name) or {}).get("context")
    name = ctx.get("user") if isinstance(ctx, dict) else None
    entry = _entry(doc, "users", name) if isinstance(name, str) else None
    user = entry.get("user") if entry is not None else None
    return (user if isinstance(user, dict) else None), (name if isinstance(name, str) else None)


def _flagged_context(doc: dict[str, Any], context: str | None, flags: ConnectFlags, path: str) -> tuple[str, dict[str, Any]]:
    """The context --context names (or the current one); one made from the flags when there is none."""
    ctx_name = context or doc.get("current-context") or ""
    ctx_entry = _entry(doc, "contexts", ctx_name)
    if ctx_entry is None:
        if context:
            raise ApiUnreachable(f'context "{context}" not found in kubeconfig {path}',
                                 hint="list contexts with: kubectl config get-contexts")
        if not (flags.server or flags.cluster):
            raise ApiUnreachable(f"kubeconfig {path} has no current context",
                                 hint="choose one with --context NAME, or give --server URL")
        ctx_name = _FLAGS_ENTRY
        ctx_entry = {"name": ctx_name, "context": {}}
        _entries(doc, "contexts").append(ctx_entry)
    ctx = ctx_entry.get("context")
    if not isinstance(ctx, dict):
        ctx = ctx_entry["context"] = {}
    return ctx_name, ctx


def _choose_cluster_and_user(doc: dict[str, Any], ctx: dict[str, Any], flags: ConnectFlags, path: str) -> None:
    """--cluster/--user replace the context's choice; the chosen entries exist afterwards (empty if new)."""
    if flags.cluster:
        if _entry(doc, "clusters", flags.cluster) is None and not flags.server:
            raise ApiUnreachable(f'cluster "{flags.cluster}" not found in kubeconfig {path}',
                                 hint="list clusters with: kubectl config get-clusters")
        ctx["cluster"] = flags.cluster
    if flags.user:
        if _entry(doc, "users", flags.user) is None:
            raise ApiUnreachable(f'user "{flags.user}" not found in kubeconfig {path}',
                                 hint="list users with: kubectl config get-users")
        ctx["user"] = flags.user
    ctx.setdefault("cluster", _FLAGS_ENTRY)
    ctx.setdefault("user", _FLAGS_ENTRY)
    for kind, key, name in (("clusters", "cluster", ctx["cluster"]), ("users", "user", ctx["user"])):
        if _entry(doc, kind, name) is None:
            _entries(doc, kind).append({"name": name, key: {}})
        entry = _entry(doc, kind, name)
        assert entry is not None
        if not isinstance(entry.get(key), dict):
            entry[key] = {}


def _override_cluster(cluster: dict[str, Any], flags: ConnectFlags) -> None:
    if flags.server:
        cluster["server"] = flags.server
    if flags.certificate_authority:
        cluster["certificate-authority"] = os.path.abspath(os.path.expanduser(flags.certificate_authority))
        cluster.pop("certificate-authority-data", None)
    if flags.insecure_skip_tls_verify:
        cluster["insecure-skip-tls-verify"] = True
        cluster.pop("certificate-authority", None)
        cluster.pop("certificate-authority-data", None)
    if flags.tls_server_name:
        cluster["tls-server-name"] = flags.tls_server_name


def _override_user(user: dict[str, Any], flags: ConnectFlags) -> None:
    if flags.token:
        for key in ("tokenFile", "auth-provider", "exec", "username", "password"):
            user.pop(key, None)
        user["token"] = flags.token
    for flag, key in ((flags.client_certificate, "client-certificate"), (flags.client_key, "client-key")):
        if flag:
            user[key] = os.path.abspath(os.path.expanduser(flag))
            user.pop(f"{key}-data", None)


def _override_incluster(cfg: Any, flags: ConnectFlags) -> None:
    """Inside a pod (no kubeconfig): the same flags, applied to the service account's configuration."""
    if flags.server:
        cfg.host = flags.server.rstrip("/")
    if flags.token:
        cfg.api_key = {"BearerToken": f"Bearer {flags.token}"}
        cfg.refresh_api_key_hook = None
    if flags.certificate_authority:
        cfg.ssl_ca_cert = os.path.abspath(os.path.expanduser(flags.certificate_authority))
    if flags.insecure_skip_tls_verify:
        cfg.verify_ssl = False
    if flags.client_certificate:
        cfg.cert_file = os.path.abspath(os.path.expanduser(flags.client_certificate))
    if flags.client_key:
        cfg.key_file = os.path.abspath(os.path.expanduser(flags.client_key))
    if flags.tls_server_name:
        cfg.tls_server_name = flags.tls_server_name


def _incluster_namespace() -> str:
    try:
        with open(os.path.join(_SA_DIR, "namespace")) as f:
            return f.read().strip() or "default"
    except OSError:
        return "default"


# --- the one translator ------------------------------------------------------------

_HANDSHAKE = re.compile(r"Handshake status (\d{3})")


def _status_message(body: Any) -> str:
    """The ``message`` of a Kubernetes Status body, or the body's first line."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not body:
        return ""
    text = str(body)
    if "-+-+-" in text:  # websocket handshake failures: "reason -+-+- headers -+-+- body"
        text = text.rsplit("-+-+-", 1)[-1].strip()
    try:
        data = json.loads(text)
    except ValueError:
        return one_line(text)
    if isinstance(data, dict):
        return one_line(str(data.get("message") or data.get("reason") or ""))
    return one_line(text)


def _is_timeout(exc: BaseException, text: str) -> bool:
    names = {type(e).__name__ for e in _chain(exc)}
    return bool(names & {"ReadTimeoutError", "ConnectTimeoutError", "TimeoutError", "timeout",
                         "WebSocketTimeoutException", "TimeoutExpired"}) or "timed out" in text.lower()


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and the ones it wraps (urllib3 keeps the cause in ``.reason``)."""
    seen: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and e not in seen:
        seen.append(e)
        reason = getattr(e, "reason", None)
        e = reason if isinstance(reason, BaseException) else (e.__cause__ or e.__context__)
    return seen


def translate(exc: BaseException, call: Call | None, *, server: str | None = None, timeout: float | None = None,
              kubeconfig: str | None = None, context: str | None = None, kube: Kube | None = None) -> SvcpathError:
    """Client/urllib3/websocket/kubeconfig exception -> the plugin's error, with a one-line hint."""
    if isinstance(exc, SvcpathError):
        return exc
    if type(exc).__name__ == "ConfigException" or call is None:
        return _kubeconfig_error(exc, kubeconfig, context)
    where = f" at {server}" if server else ""
    if any(c.__name__ == "ApiException" for c in type(exc).__mro__):  # the client's HTTP errors
        err = _api_exception_error(exc, call, where, timeout)
        if kube is not None and kube.context and kube.context != _FLAGS_ENTRY and isinstance(err, Unauthorized):
            import shlex  # (whose login to renew, and the kubectl command that shows the same refusal)

            flags = ([f"--kubeconfig {shlex.quote(kube.kubeconfig)}"] if kube.kubeconfig else []) + [
                f"--context {shlex.quote(kube.context)}"]
            err.hint = (f'log in again or refresh the token of context "{kube.context}"; check with: kubectl '
                        f"{' '.join(flags)} get --raw /version")
        return err
    return _transport_error(exc, call, where, timeout)


def _kubeconfig_error(exc: BaseException, kubeconfig: str | None, context: str | None) -> SvcpathError:
    """Loading the kubeconfig failed: a missing context, or a file unreadable, not YAML, malformed."""
    text = str(exc)
    if type(exc).__name__ == "ConfigException":
        m = re.search(r"Expected object with name (\S+) in .*contexts list", text)
        if m:
            return ApiUnreachable(f'context "{context or m.group(1)}" not found in kubeconfig {kubeconfig}',
                                  hint="list contexts with: kubectl config get-contexts")
        return ApiUnreachable(f"cannot use kubeconfig {kubeconfig}: {one_line(text)}",
                              hint="check the file with: kubectl config view --minify")
    return ApiUnreachable(f"cannot read kubeconfig {kubeconfig}: {one_line(text)}",
                          hint="check the file with: kubectl config view --minify")


def _api_exception_error(exc: BaseException, call: Call, where: str, timeout: float | None) -> SvcpathError:
    """The client's ApiException: an HTTP status from the server, or status 0 for its own failures."""
    status = getattr(exc, "status", None)
    reason = str(getattr(exc, "reason", "") or "")
    body = getattr(exc, "body", None)
    acting = call.describe(verb=True)
    if status == 0:  # raised by the client itself: websocket handshake, TLS, socket errors
        m = _HANDSHAKE.search(reason)
        if not m:
            return _client_side_error(exc, reason, acting, where, timeout)
        status = int(m.group(1))
        body = reason
    return _http_status_error(status, _status_message(body) or one_line(reason), call, where, timeout)


def _client_side_error(exc: BaseException, reason: str, acting: str, where: str, timeout: float | None) -> SvcpathError:
    if "SSLError" in reason or "CERTIFICATE" in reason.upper():
        hint = "check the kubeconfig's certificate-authority and server address"
        if "Hostname mismatch" in reason or "IP address mismatch" in reason:  # kubectl: "x509: certificate is valid for …"
            from urllib.parse import urlsplit

            at = urlsplit(where.removeprefix(" at ")).netloc or "HOST:PORT"
            hint = ("the server's certificate does not name this address: connect by a name it holds, or give that name "
                    f"with --tls-server-name NAME; its names: openssl s_client -connect {at} </dev/null | "
                    "openssl x509 -noout -ext subjectAltName")
        return ApiUnreachable(f"TLS error talking to the API server{where}: {one_line(reason.splitlines()[-1])}", hint=hint)
    if _is_timeout(exc, reason):
        return _timed_out(acting, timeout, where)
    return ApiUnreachable(f"cannot {acting}{where}: {one_line(reason)}",
                          hint="is the API server reachable? try: kubectl cluster-info")


def _http_status_error(status: Any, detail: str, call: Call, where: str, timeout: float | None) -> SvcpathError:
    """What an HTTP status means for this call, and what to try."""
    doing = call.describe()
    if status == 401:
        from kubectl_svcpath.kube.credentials import reason

        # (not "the kubeconfig's": --token, --client-certificate or --user may have chosen them)
        failed = reason()  # a token refresh that failed during the run (its exec plugin's words)
        return Unauthorized(f"unauthorized{where}: the API server rejected the credentials ({detail})"
                         + (f"; getting new ones failed: {failed}" if failed else ""),
                         hint="log in again or refresh the token; check with: kubectl get --raw /version")
    if status == 403:
        hint = call.can_i() + "; `kubectl svcpath --print-rbac` prints the minimal Role"
        if call.resource == "pods/exec":
            hint = ("exec needs `create` on pods/exec in kube-system: " + call.can_i()
                    + "; `kubectl svcpath --print-rbac` prints the minimal Role")
        return Forbidden(f"forbidden: cannot {call.describe(verb=True)}: {detail}", hint=hint, subject=call.resource if call.name else None)  # (pods/exec: "exec into pod")
    if status == 404 and call.name is None and call.verb == "list":  # a collection is never "not found": its type is
        return _no_resource_type(call)  # not served (a LIST of an empty or missing namespace answers no items)
    if status == 404:
        return NotFound(f"{doing} not found", hint=_not_found_hint(call), subject=call.resource if call.name else None)
    if status in (408, 504) or (status == 500 and "timeout" in detail.lower()):
        return _timed_out(call.describe(verb=True), timeout, where)
    acting = call.describe(verb=True)
    if status == 429:  # API Priority and Fairness sheds load (client-go waited out its Retry-After, as here)
        return ApiUnreachable(f"the API server answered {request_status(status)} to {acting}: {detail}",
                              hint="the API server is shedding load (API Priority and Fairness): retry in a minute")
    return ApiUnreachable(f"the API server answered {request_status(status)} to {acting}: {detail}",
                          hint="retry; if it persists, check the API server's health: kubectl get --raw='/readyz?verbose'")


def _no_resource_type(call: Call) -> SvcpathError:
    """kubectl's 'the server doesn't have a resource type': EndpointSlices of discovery.k8s.io/v1 are served
    from Kubernetes 1.21 (v1beta1 before, which this plugin does not read)."""
    from kubectl_svcpath.errors import Unsupported

    version = f"{call.group}/v1" if call.group else "v1"
    check = f"kubectl api-resources --api-group={call.group}" if call.group else "kubectl api-resources"
    message = f'the API server does not serve resource type "{call.resource}" ({version}): LIST answered 404'
    if call.resource == "endpointslices":
        return Unsupported(message, hint=f"kubectl-svcpath reads {version} EndpointSlices, served from Kubernetes 1.21; "
                                         f"check with: {check}")
    return NotFound(message, hint=f"check with: {check}")


def _transport_error(exc: BaseException, call: Call, where: str, timeout: float | None) -> SvcpathError:
    """urllib3 MaxRetryError / NewConnectionError / ProtocolError, socket errors, websocket errors."""
    text = str(exc)
    if _is_timeout(exc, text):
        return _timed_out(call.describe(verb=True), timeout, where)
    inner = _chain(exc)[-1]
    msg = one_line(str(getattr(inner, "strerror", None) or inner)) or type(exc).__name__
    refused = "refused" in text.lower() or isinstance(inner, ConnectionRefusedError)
    if refused:
        msg = "connection refused"
    return ApiUnreachable(f"cannot reach the API server{where}: {msg}",
                          hint="check the server address and your network; try: kubectl cluster-info")


def request_status(outcome: BaseException | int) -> str:
    """An HTTP status as kubectl -v prints it ("200 OK"), or what kept the request from getting one."""
    status = outcome if isinstance(outcome, int) else getattr(outcome, "status", None)
    if status == 0 and not isinstance(outcome, int):  # the client's own errors: websocket handshake, TLS...
        m = _HANDSHAKE.search(str(getattr(outcome, "reason", "")))
        status = int(m.group(1)) if m else None
    if isinstance(status, int) and status > 0:
        try:
            return f"{status} {HTTPStatus(status).phrase}"
        except ValueError:
            return str(status)
    assert not isinstance(outcome, int)
    return f"failed ({type(outcome).__name__})"


def _timed_out(doing: str, timeout: float | None, where: str) -> ApiUnreachable:
    after = f" after {timeout:g}s" if timeout else ""
    return ApiUnreachable(f"request timed out{after}: {doing}{where}",
                          hint="the API server or the node is slow: raise --request-timeout (e.g. 2m) and retry")


def _not_found_hint(call: Call | None) -> str | None:
    if call is None:
        return None
    if call.resource == "services":
        return f"check the name and the namespace (-n): kubectl get services -n {call.namespace}"
    if call.resource == "namespaces":
        return "list namespaces with: kubectl get namespaces"
    if call.resource == "pods" and call.verb == "get":  # a pod the user named (--trace pod/NAME)
        return f"check the name and the namespace: kubectl get pods -n {call.namespace}"
    if call.resource in ("pods", "pods/exec"):  # kube-proxy's pod, found a moment ago
        return "the pod may have been replaced; run the command again"
    return None
