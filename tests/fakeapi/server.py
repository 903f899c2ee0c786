"""A strict fake kube-apiserver for the live tests: stdlib HTTPS, real pods/exec over WebSocket.

Serves exactly what kubectl-svcpath (and real ``kubectl get``/``exec``) read, nothing else:

    GET /version /api /apis /api/v1 /apis/discovery.k8s.io/v1            discovery (kubectl needs it)
    GET /api/v1/namespaces/NS/services/NAME                              a Service
    GET /apis/discovery.k8s.io/v1/namespaces/NS/endpointslices?labelSelector=…
    GET /api/v1/namespaces/NS/services, /api/v1/services                 LIST (the --all audit)
    GET /apis/discovery.k8s.io/v1/namespaces/NS/endpointslices, /apis/discovery.k8s.io/v1/endpointslices
    GET /api/v1/nodes,  GET /api/v1/nodes/NAME
    GET /api/v1/namespaces/NS/pods?labelSelector=…&fieldSelector=spec.nodeName=…
    GET /api/v1/namespaces/NS/pods/NAME,  GET /api/v1/namespaces/NS/configmaps/NAME
    GET /api/v1/namespaces/NS/pods/NAME/exec?command=…  (WebSocket, v5.channel.k8s.io / v4.channel.k8s.io)

The exec runs the real argv, no shell, in the network namespace of the pod's node
(``ip netns exec NODE-NS argv``), with the node's iptables backend substituted for ``iptables*``
the way the kube-proxy image's iptables wrapper does; its stdout goes out in 32 KiB frames while
the command writes it, as the kubelet streams it. Anything else - another path, a verb other
than GET, a watch - answers a Kubernetes ``Status`` 404/405 *and* is recorded in ``violations``
(the fixture fails the test). Every request is recorded in ``requests``.

Faults (``cluster.faults``): 403 on exec, another status for the exec upgrade (``exec_reject``:
401, 404...), a missing binary, a non-zero exit, truncated output ("cut": half the output then
success; "drop": half the output then the connection dies), slow answers (``delay``/``exec_delay``
seconds), an exec upgrade never answered (``exec_no_upgrade``), 401 for a wrong token, a REST path or an exec upgrade
answered 404/429/500/503 with or without ``Retry-After`` (``statuses``). "API
unreachable" is a kubeconfig pointing at a closed port (``closed_port()``).

Credentials: the bearer token ``cluster.token``, or - with ``FakeApiServer(..., client_ca=cert)``
- a TLS client certificate signed by that CA whose CN is ``cluster.cert_user`` (``make_cert(...,
client=True)`` makes one that is its own CA).

    cluster = FakeCluster()
    cluster.add_node("cp01", netns=node.ns, backend="nft")      # + a kube-proxy pod on it
    cluster.add_objects(kpgen.api_objects(spec, node_of={...}))
    with FakeApiServer(cluster, cert) as api:
        api.write_kubeconfig(path)
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import http.server
import itertools
import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")  # server preference
CHUNK = 32 * 1024
_EXEC_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}
K8S_VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.0-fake", "gitCommit": "0" * 40,
               "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23",
               "compiler": "gc", "platform": "linux/amd64"}


# --- certificates -------------------------------------------------------------------------

@dataclass(frozen=True)
class Cert:
    cert: Path
    key: Path

    @property
    def ca_data(self) -> str:
        return base64.b64encode(self.cert.read_bytes()).decode()


def make_cert(directory: Path, client: str | None = None, dns_name: str | None = None) -> Cert:
    """A throw-away self-signed certificate (openssl CLI; the venv has no cryptography).

    For the server at 127.0.0.1; with ``dns_name`` for that DNS name only (so a client must ask
    for it with --tls-server-name); or with ``client="NAME"`` a client certificate with CN=NAME
    (trusted by passing it as the server's ``client_ca``).
    """
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"client-{client}" if client else (f"apiserver-{dns_name}" if dns_name else "apiserver")
    cert, key = directory / f"{stem}.crt", directory / f"{stem}.key"
    san = f"DNS:{dns_name}" if dns_name else "IP:127.0.0.1"
    ext = ["-addext", "extendedKeyUsage=clientAuth"] if client else ["-addext", f"subjectAltName={san}"]
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", f"/CN={client or 'fake-apiserver'}", *ext,
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    return Cert(cert, key)


def closed_port() -> int:
    """A local port nobody listens on (for "API unreachable")."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- state ----------------------------------------------------------------------------------

@dataclass
class Faults:
    exec_forbidden: bool = False
    exec_reject: int | None = None  # answer the exec upgrade with this status (401, 403, 404...)
    missing_binaries: set[str] = field(default_factory=set)  # argv[0] the "image" lacks
    exec_exit: dict[str, tuple[int, str]] = field(default_factory=dict)  # argv[0] -> (exit code, stderr)
    truncate: str | None = None  # "cut" | "drop"
    delay: float = 0.0  # seconds before answering any REST request
    exec_delay: float = 0.0  # seconds before running an exec'd command (after the upgrade: a stalled stream)
    exec_no_upgrade: bool = False  # read the exec request, never answer it (until the client goes away)
    expire_continue: int = 0  # answer this many LIST requests that carry a continue token 410 Expired
    forbidden_paths: list[str] = field(default_factory=list)  # regexes of REST paths answered 403
    statuses: list[StatusFault] = field(default_factory=list)  # REST paths answered another status (429, 500, 503)


@dataclass
class StatusFault:
    """GETs of paths matching ``path`` (a regex; pods/exec upgrades too) answered ``code`` with a Kubernetes Status, ``times`` times
    (None: always), with a ``Retry-After`` header when ``retry_after`` is set (as API Priority and Fairness
    answers 429, and client-go then waits and retries)."""

    path: str
    code: int
    retry_after: str | None = None
    times: int | None = None


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    status: int = 0
    argv: list[str] | None = None  # exec only
    exec_rc: int | None = None
    user_agent: str = ""
    subprotocol: str | None = None
    credential: str | None = None  # how the request authenticated: "token", "cert:<CN>", None (rejected)
    at: float = field(default_factory=time.monotonic)  # when it arrived (time.monotonic, this machine)
    # Impersonate-User / -Group (every header line) / -Uid as received; {} when none was sent
    impersonate: dict[str, Any] = field(default_factory=dict)
    sni: str | None = None  # the TLS server name the client asked for (None: no SNI, e.g. an IP address)


@dataclass
class NodeInfo:
    name: str
    netns: str | None
    backend: str = "nft"  # which iptables-* the pod's "iptables" wrapper runs


class FakeCluster:
    """The objects the fake API server serves and the lab namespaces its execs run in."""

    def __init__(self, token: str = "svcpath-test-token", cert_user: str = "svcpath-cert-user") -> None:
        self.token = token
        self.cert_user = cert_user  # the CN a client certificate must carry (servers with a client_ca)
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}  # (kind, ns, name); ns "" for nodes
        self.nodes: dict[str, NodeInfo] = {}
        self.faults = Faults()
        self.protocols: tuple[str, ...] = PROTOCOLS  # channel protocols served, in preference order
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        # continue tokens handed out: token -> (path, labelSelector, fieldSelector, key of the last item sent)
        self.continues: dict[str, tuple[str, str, str, tuple[str, str]]] = {}
        self.lock = threading.Lock()
        # a test's hook, called with the argv of each exec'd command just before it runs (in the
        # server's thread): e.g. to send traffic or rewrite a chain between two --watch samples
        self.before_exec: Callable[[list[str]], None] | None = None
        # the same for each REST request (a GET or LIST), just before it is answered
        self.before_rest: Callable[[Recorded], None] | None = None
        # called when an exec's stdout has all been sent, before its exit status goes out (the client
        # cannot have finished reading the exec yet): e.g. to see what it did with the output meanwhile
        self.before_exec_status: Callable[[list[str]], None] | None = None
        # (benchmarks) (node namespace, argv) -> stdout recorded there earlier: streamed with exit code 0
        # instead of running the command again, to take the node's own work off this machine
        self.replay: dict[tuple[str, tuple[str, ...]], bytes] = {}
        self._sorted: dict[str, tuple[set[tuple[str, str, str]], list[tuple[str, str, str]]]] = {}  # kind -> (its keys, sorted)

    def sorted_keys(self, kind: str) -> list[tuple[str, str, str]]:
        """The keys of ``kind``'s objects in name order (a LIST's order), sorted again only when they changed:
        10,000 Services are listed in 21 pages without sorting every object 21 times."""
        current = [k for k in self.objects if k[0] == kind]
        cached = self._sorted.get(kind)
        if cached is None or len(cached[0]) != len(current) or not cached[0].issuperset(current):
            cached = (set(current), sorted(current))
            self._sorted[kind] = cached
        return cached[1]

    def add(self, obj: dict[str, Any]) -> None:
        meta = obj.get("metadata") or {}
        kind = obj["kind"]
        ns = "" if kind == "Node" else (meta.get("namespace") or "default")
        self.objects[(kind, ns, meta["name"])] = json.loads(json.dumps(obj))

    def add_objects(self, objs: list[dict[str, Any]]) -> None:
        for o in objs:
            self.add(o)

    def remove(self, kind: str, namespace: str, name: str) -> None:
        self.objects.pop((kind, namespace, name), None)

    def add_node(self, name: str, netns: str | None, backend: str = "nft", kube_proxy: bool = True,
                 label: str = "k8s-app=kube-proxy", command: list[str] | None = None, phase: str = "Running",
                 pod_name: str | None = None) -> None:
        """A Node object, where its execs run, and (by default) its kube-proxy pod."""
        self.nodes[name] = NodeInfo(name, netns, backend)
        self.add({"apiVersion": "v1", "kind": "Node",
                  "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
                  "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
        if kube_proxy:
            self.add_kube_proxy_pod(name, pod_name or f"kube-proxy-{hashlib.sha1(name.encode()).hexdigest()[:5]}",
                                    label, command, phase)

    def add_kube_proxy_pod(self, node: str, name: str, label: str = "k8s-app=kube-proxy",
                           command: list[str] | None = None, phase: str = "Running") -> None:
        key, value = label.split("=", 1)
        self.add({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "kube-system", "labels": {key: value}},
            "spec": {"nodeName": node, "containers": [{
                "name": "kube-proxy", "image": "registry.k8s.io/kube-proxy:v1.32.0",
                "command": command if command is not None else
                ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf", "--hostname-override=$(NODE_NAME)"],
                "volumeMounts": [{"name": "kube-proxy", "mountPath": "/var/lib/kube-proxy"},
                                 {"name": "xtables-lock", "mountPath": "/run/xtables.lock"},
                                 {"name": "lib-modules", "mountPath": "/lib/modules", "readOnly": True}],
            }], "volumes": [  # kubeadm's DaemonSet: its configuration is ConfigMap kube-proxy's key config.conf
                {"name": "kube-proxy", "configMap": {"name": "kube-proxy", "defaultMode": 420}},
                {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}},
                {"name": "lib-modules", "hostPath": {"path": "/lib/modules", "type": ""}}]},
            "status": {"phase": phase, "podIP": "172.18.0.1"},
        })

    def set_proxy_config(self, mode: str | None) -> None:
        """ConfigMap kube-system/kube-proxy with ``mode: <mode>`` (None: no ConfigMap at all)."""
        if mode is None:
            self.remove("ConfigMap", "kube-system", "kube-proxy")
            return
        conf = ("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n"
                "clusterCIDR: 10.244.0.0/16\niptables:\n  masqueradeBit: 14\n  syncPeriod: 30s\n"
                f"mode: {json.dumps(mode)}\n")
        self.add({"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": "kube-proxy", "namespace": "kube-system"},
                  "data": {"config.conf": conf, "kubeconfig.conf": "apiVersion: v1\nkind: Config\n"}})

    def record(self, rec: Recorded) -> None:
        with self.lock:
            self.requests.append(rec)

    def violation(self, text: str) -> None:
        with self.lock:
            self.violations.append(text)

    # what tests assert on
    def execs(self) -> list[list[str]]:
        return [r.argv for r in self.requests if r.argv is not None]

    def methods(self) -> set[str]:
        return {r.method for r in self.requests}


# --- selectors ---------------------------------------------------------------------------------

def _labels_match(selector: str, labels: dict[str, str]) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "=" in term:
            k, v = re.split(r"==?", term, maxsplit=1)
            if labels.get(k.strip()) != v.strip():
                return False
        elif labels.get(term) is None:  # existence
            return False
    return True


_FIELDS = {"spec.nodeName": lambda o: (o.get("spec") or {}).get("nodeName"),
           "metadata.name": lambda o: (o.get("metadata") or {}).get("name"),
           "metadata.namespace": lambda o: (o.get("metadata") or {}).get("namespace"),
           "status.phase": lambda o: (o.get("status") or {}).get("phase")}


def _fields_match(selector: str, obj: dict[str, Any]) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        neg = "!=" in term
        k, v = re.split(r"!=|==?", term, maxsplit=1)
        actual = _FIELDS[k.strip()](obj)
        if (actual == v.strip()) == neg:
            return False
    return True


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


# what kube-apiserver says with these statuses (a resource type it does not serve, APF's 429, etcd trouble, a server
# starting or going away)
_STATUS_TEXT = {404: ("NotFound", "the server could not find the requested resource"),  # (a group/version not served)
                429: ("TooManyRequests", "Too many requests, please try again later."),
                500: ("InternalError", "Internal error occurred: etcdserver: leader changed"),
                503: ("ServiceUnavailable", "the server is currently unable to handle the request")}


# --- discovery -----------------------------------------------------------------------------------

def _resource(name: str, kind: str, namespaced: bool, verbs: list[str], short: tuple[str, ...] = ()) -> dict[str, Any]:
    r: dict[str, Any] = {"name": name, "singularName": "" if "/" in name else kind.lower(), "namespaced": namespaced,
                         "kind": kind, "verbs": verbs}
    if short:
        r["shortNames"] = list(short)
    return r


def _discovery(path: str, port: int) -> dict[str, Any] | None:
    if path == "/version":
        return K8S_VERSION
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{port}"}]}
    if path == "/apis":
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [{
            "name": "discovery.k8s.io", "versions": [{"groupVersion": "discovery.k8s.io/v1", "version": "v1"}],
            "preferredVersion": {"groupVersion": "discovery.k8s.io/v1", "version": "v1"}}]}
    if path == "/api/v1":
        return {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
            _resource("services", "Service", True, ["get", "list"], ("svc",)),
            _resource("pods", "Pod", True, ["get", "list"], ("po",)),
            _resource("pods/exec", "PodExecOptions", True, ["create", "get"]),
            _resource("nodes", "Node", False, ["get", "list"], ("no",)),
            _resource("configmaps", "ConfigMap", True, ["get"], ("cm",)),
        ]}
    if path == "/apis/discovery.k8s.io/v1":
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "discovery.k8s.io/v1",
                "resources": [_resource("endpointslices", "EndpointSlice", True, ["get", "list"])]}
    return None


# --- the server --------------------------------------------------------------------------------------

class _Refused(Exception):
    def __init__(self, code: int, status: dict[str, Any]) -> None:
        super().__init__(code)
        self.code, self.status = code, status


_ROUTES = [
    ("service", re.compile(r"^/api/v1/namespaces/([^/]+)/services/([^/]+)$")),
    ("services", re.compile(r"^/api/v1/namespaces/([^/]+)/services$")),
    ("all-services", re.compile(r"^/api/v1/services$")),
    ("endpointslices", re.compile(r"^/apis/discovery\.k8s\.io/v1/namespaces/([^/]+)/endpointslices$")),
    ("all-endpointslices", re.compile(r"^/apis/discovery\.k8s\.io/v1/endpointslices$")),
    ("nodes", re.compile(r"^/api/v1/nodes$")),
    ("node", re.compile(r"^/api/v1/nodes/([^/]+)$")),
    ("pods", re.compile(r"^/api/v1/namespaces/([^/]+)/pods$")),
    ("pod", re.compile(r"^/api/v1/namespaces/([^/]+)/pods/([^/]+)$")),
    ("configmap", re.compile(r"^/api/v1/namespaces/([^/]+)/configmaps/([^/]+)$")),
    ("exec", re.compile(r"^/api/v1/namespaces/([^/]+)/pods/([^/]+)/exec$")),
]
_LIST_PARAMS = {"labelSelector", "fieldSelector", "limit", "continue", "resourceVersion", "timeoutSeconds"}


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as a real API server (Go) sets it: headers and body go out as two writes, and
    # with Nagle on the body would wait ~40 ms for the client's delayed ACK on every request
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    # every verb other than GET is a violation of the read-only promise
    def _refuse(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        rec = Recorded(self.command, path, {}, 405, user_agent=self.headers.get("User-Agent", ""))
        self.server.cluster.record(rec)
        self.server.cluster.violation(f"{self.command} {path}")
        self._drain_body()
        self._json(405, _status(405, "MethodNotAllowed", f"the fake API server is read-only: {self.command} not allowed"))

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _refuse  # noqa: N815

    def _drain_body(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)

    def _json(self, code: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        cluster = self.server.cluster
        split = urllib.parse.urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        rec = Recorded("GET", path, query, user_agent=self.headers.get("User-Agent", ""))
        cluster.record(rec)

        rec.credential = self._credential()
        rec.sni = getattr(self.connection, "svcpath_sni", None)
        if rec.credential is None:
            rec.status = 401
            return self._json(401, _status(401, "Unauthorized", "Unauthorized"))
        rec.impersonate = {k: v for k, v in (("user", self.headers.get("Impersonate-User")),
                                             ("groups", self.headers.get_all("Impersonate-Group") or []),
                                             ("uid", self.headers.get("Impersonate-Uid"))) if v}
        if set(rec.impersonate) - {"user"} and "user" not in rec.impersonate:  # what kube-apiserver refuses
            rec.status = 400
            return self._json(400, _status(400, "BadRequest", "requested groups or uid without impersonating a user"))
        if "watch" in query and query["watch"][0] not in ("", "0", "false"):
            cluster.violation(f"watch {path}")
            rec.status = 405
            return self._json(405, _status(405, "MethodNotAllowed", "watch is not served"))

        disc = _discovery(path, self.server.server_address[1])
        if disc is not None:
            rec.status = 200
            return self._json(200, disc)

        for name, rx in _ROUTES:  # noqa: B007 - name is read after the loop
            m = rx.match(path)
            if m:
                break
        else:
            cluster.violation(f"GET {path} (not a route)")
            rec.status = 404
            return self._json(404, _status(404, "NotFound", "the server could not find the requested resource"))

        if name == "exec":
            return self._exec(rec, *m.groups())
        if cluster.faults.delay:
            time.sleep(cluster.faults.delay)
        for rx in cluster.faults.forbidden_paths:
            if re.search(rx, path):
                rec.status = 403
                return self._json(403, _status(403, "Forbidden", f'forbidden: User "test" cannot get resource at {path}'))
        if self._status_fault(rec):
            return None
        if cluster.before_rest is not None:
            cluster.before_rest(rec)
        code, obj = self._rest(name, m.groups(), query)
        rec.status = code
        self._json(code, obj)

    def _status_fault(self, rec: Recorded) -> bool:
        """Answer with the first of ``faults.statuses`` whose path matches, if any has tries left."""
        for fault in self.server.cluster.faults.statuses:
            if re.search(fault.path, rec.path) and fault.times != 0:
                if fault.times is not None:
                    fault.times -= 1
                rec.status = fault.code
                reason, message = _STATUS_TEXT.get(fault.code, ("InternalError", "Internal error occurred"))
                headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                self._json(fault.code, _status(fault.code, reason, message), headers)
                return True
        return False

    def _credential(self) -> str | None:
        """A bearer token wins; else a verified client certificate with the expected CN."""
        cluster = self.server.cluster
        if self.headers.get("Authorization") == f"Bearer {cluster.token}":
            return "token"
        peer = self.connection.getpeercert() if isinstance(self.connection, ssl.SSLSocket) else None
        cn = next((v for rdn in (peer or {}).get("subject", ()) for k, v in rdn if k == "commonName"), None)
        if cn is not None and cn == cluster.cert_user:
            return f"cert:{cn}"
        return None

    def _rest(self, route: str, groups: tuple[str, ...], query: dict[str, list[str]]) -> tuple[int, Any]:
        cluster = self.server.cluster
        extra = set(query) - _LIST_PARAMS
        if extra:
            cluster.violation(f"unexpected query parameters {sorted(extra)}")
        labels = (query.get("labelSelector") or [""])[0]
        fields = (query.get("fieldSelector") or [""])[0]
        for term in filter(None, fields.split(",")):
            if re.split(r"!=|==?", term, maxsplit=1)[0].strip() not in _FIELDS:
                cluster.violation(f"unsupported field selector {term}")
                return 400, _status(400, "BadRequest", f'field label not supported: {term}')

        try:
            limit, after = self._page(query)
        except _Refused as refused:
            return refused.code, refused.status

        def lst(kind: str, ns: str | None, api_version: str) -> dict[str, Any]:
            items = []
            more = False
            keys = cluster.sorted_keys(kind)
            start = bisect.bisect_right(keys, (kind, *after)) if after is not None else 0  # (the items after the token's)
            for key in itertools.islice(keys, start, None):
                _, ons, oname = key
                obj = cluster.objects[key]
                if ns is not None and ons != ns:
                    continue
                if labels and not _labels_match(labels, (obj.get("metadata") or {}).get("labels") or {}):
                    continue
                if fields and not _fields_match(fields, obj):
                    continue
                if limit is not None and len(items) == limit:
                    more = True
                    break
                # a real LIST omits kind/apiVersion on items (a shallow copy: the page is sent before any change)
                item = {f: v for f, v in obj.items() if f not in ("kind", "apiVersion")}
                items.append(item)
                last = (ons, oname)
            meta: dict[str, Any] = {"resourceVersion": "1"}
            if more:
                meta["continue"] = self._continue_token(last, labels, fields)
            return {"kind": f"{kind}List", "apiVersion": api_version, "metadata": meta, "items": items}

        def get(kind: str, ns: str, name: str, resource: str) -> tuple[int, Any]:
            obj = cluster.objects.get((kind, ns, name))
            if obj is None:
                return 404, _status(404, "NotFound", f'{resource} "{name}" not found')
            return 200, obj

        if route == "service":
            return get("Service", groups[0], groups[1], "services")
        if route == "configmap":
            return get("ConfigMap", groups[0], groups[1], "configmaps")
        if route == "pod":
            return get("Pod", groups[0], groups[1], "pods")
        if route == "services":
            return 200, lst("Service", groups[0], "v1")
        if route == "all-services":
            return 200, lst("Service", None, "v1")
        if route == "endpointslices":
            return 200, lst("EndpointSlice", groups[0], "discovery.k8s.io/v1")
        if route == "all-endpointslices":
            return 200, lst("EndpointSlice", None, "discovery.k8s.io/v1")
        if route == "pods":
            return 200, lst("Pod", groups[0], "v1")
        if route == "nodes":
            return 200, lst("Node", None, "v1")
        if route == "node":
            return get("Node", "", groups[0], "nodes")
        raise AssertionError(route)

    def _page(self, query: dict[str, list[str]]) -> tuple[int | None, tuple[str, str] | None]:
        """(limit, key after which to start) of a LIST; raises _Refused for a continue token the server
        did not hand out for this very list (same path, same selectors), as strict as a real one."""
        cluster = self.server.cluster
        path = urllib.parse.urlsplit(self.path).path.rstrip("/")
        raw_limit = (query.get("limit") or [""])[0]
        limit = int(raw_limit) if raw_limit.isdigit() and int(raw_limit) > 0 else None
        token = (query.get("continue") or [""])[0]
        if not token:
            return limit, None
        if "resourceVersion" in query:
            cluster.violation(f"continue with resourceVersion on {path}")
            raise _Refused(400, _status(400, "BadRequest", "specifying resource version is not allowed when using continue"))
        if cluster.faults.expire_continue > 0:
            cluster.faults.expire_continue -= 1
            raise _Refused(410, _status(410, "Expired", "The provided continue parameter is too old to display a consistent list result."))
        labels, fields = (query.get("labelSelector") or [""])[0], (query.get("fieldSelector") or [""])[0]
        issued = cluster.continues.get(token)
        if issued is None or issued[:3] != (path, labels, fields):
            cluster.violation(f"continue token {token[:20]}... not issued for {path}?labelSelector={labels}&fieldSelector={fields}")
            raise _Refused(400, _status(400, "BadRequest", "continue key is not valid for this list"))
        return limit, issued[3]

    def _continue_token(self, last: tuple[str, str], labels: str, fields: str) -> str:
        cluster = self.server.cluster
        path = urllib.parse.urlsplit(self.path).path.rstrip("/")
        with cluster.lock:
            token = base64.urlsafe_b64encode(json.dumps({"v": "meta.k8s.io/v1", "rv": 1, "n": len(cluster.continues),
                                                         "start": "/".join(last)}).encode()).decode()
            cluster.continues[token] = (path, labels, fields, last)
        return token

    # --- pods/exec over WebSocket -------------------------------------------------------------

    def _exec(self, rec: Recorded, ns: str, pod_name: str) -> None:
        cluster = self.server.cluster
        argv = self._exec_query(rec)
        rec.argv = argv
        if self.headers.get("Upgrade", "").lower() != "websocket":
            cluster.violation(f"exec without a websocket upgrade: {argv}")
            rec.status = 400
            return self._json(400, _status(400, "BadRequest", "Upgrade request required"))
        if self._status_fault(rec):  # (an upgrade refused as a read is: 429 or 5xx, with a Retry-After)
            return None
        if cluster.faults.exec_no_upgrade:
            rec.status = 0
            self.close_connection = True
            self.connection.settimeout(60)
            try:
                while self.rfile.read(1):  # until the client gives up and closes
                    pass
            except (OSError, ssl.SSLError):
                pass
            return
        reject = cluster.faults.exec_reject
        if reject is not None and reject != 403:
            rec.status = reject
            reason = {401: "Unauthorized", 404: "NotFound"}.get(reject, "InternalError")
            message = f'pods "{pod_name}" not found' if reject == 404 else reason
            return self._json(reject, _status(reject, reason, message))
        if cluster.faults.exec_forbidden or reject == 403:
            rec.status = 403
            return self._json(403, _status(403, "Forbidden",
                                           f'pods "{pod_name}" is forbidden: User "test" cannot create resource "pods/exec" '
                                           f'in API group "" in the namespace "{ns}"'))
        pod = cluster.objects.get(("Pod", ns, pod_name))
        if pod is None:
            rec.status = 404
            return self._json(404, _status(404, "NotFound", f'pods "{pod_name}" not found'))
        containers = [c["name"] for c in pod["spec"]["containers"]]
        container = (rec.query.get("container") or [containers[0]])[0]
        if container not in containers:
            rec.status = 400
            return self._json(400, _status(400, "BadRequest", f"container {container} is not valid for pod {pod_name}"))
        offered = [p.strip() for p in self.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
        proto = next((p for p in cluster.protocols if p in offered), None)
        if proto is None:
            cluster.violation(f"exec offered no supported protocol: {offered}")
            rec.status = 400
            return self._json(400, _status(400, "BadRequest", "no supported channel protocol offered"))
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.wfile.write((f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: {proto}\r\n\r\n").encode())
        self.wfile.flush()
        rec.status = 101
        rec.subprotocol = proto
        self.close_connection = True
        try:
            self._run_and_stream(rec, pod, argv)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass  # the client went away (timeout tests)

    def _exec_query(self, rec: Recorded) -> list[str]:
        q = rec.query
        allowed = {"command", "container", "stdout", "stderr", "stdin", "tty"}
        extra = set(q) - allowed
        if extra:
            self.server.cluster.violation(f"unexpected exec parameters {sorted(extra)}")
        if (q.get("tty") or ["false"])[0].lower() in ("true", "1") or (q.get("stdin") or ["false"])[0].lower() in ("true", "1"):
            self.server.cluster.violation(f"interactive exec requested: {q}")
        return list(q.get("command") or [])

    def _send(self, payload: bytes, opcode: int = 0x2) -> None:
        n = len(payload)
        if n < 126:
            head = bytes([0x80 | opcode, n])
        elif n < 1 << 16:
            head = bytes([0x80 | opcode, 126]) + n.to_bytes(2, "big")
        else:
            head = bytes([0x80 | opcode, 127]) + n.to_bytes(8, "big")
        self.wfile.write(head + payload)

    def _stream_command(self, cmd: list[str]) -> tuple[bytes, int]:
        """Run cmd; each CHUNK of its stdout is sent as a frame as soon as it is written. (stderr, exit code)"""
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_EXEC_ENV) as proc:
            assert proc.stdout is not None and proc.stderr is not None
            buf = b""
            while True:
                data = proc.stdout.read1(CHUNK)
                buf += data
                if len(buf) >= CHUNK or (not data and buf):
                    self._send(b"\x01" + buf[:CHUNK])
                    buf = buf[CHUNK:]
                    continue
                if not data:
                    break
            err = proc.stderr.read()
            return err, proc.wait(timeout=300)

    def _run_and_stream(self, rec: Recorded, pod: dict[str, Any], argv: list[str]) -> None:
        cluster = self.server.cluster
        faults = cluster.faults
        if faults.exec_delay:
            time.sleep(faults.exec_delay)
        if cluster.before_exec is not None:
            cluster.before_exec(argv)
        node = cluster.nodes.get(pod["spec"]["nodeName"])
        binary = argv[0] if argv else ""
        real = binary
        if node is not None and re.match(r"^ip6?tables(-save|-restore)?$", binary):
            real = binary.replace("tables", f"tables-{node.backend}", 1)
        status: dict[str, Any]
        out, err, rc = b"", b"", None
        recorded = cluster.replay.get((node.netns or "", tuple(argv))) if node is not None else None
        if binary in faults.exec_exit:  # the command ran and failed
            rc, text = faults.exec_exit[binary]
            err = text.encode()
            status = {}
        elif recorded is not None:
            out, rc = recorded, 0
        elif not argv or binary in faults.missing_binaries or shutil.which(real) is None or node is None or not node.netns:
            msg = (f'Internal error occurred: error executing command in container: failed to exec in container: '
                   f'failed to start exec: OCI runtime exec failed: exec failed: unable to start container process: '
                   f'exec: "{binary}": executable file not found in $PATH: unknown')
            status = {"metadata": {}, "status": "Failure", "message": msg, "reason": "InternalError",
                      "details": {"causes": [{"message": msg}]}, "code": 500}
        elif faults.truncate:  # the whole output first: half of it is sent
            proc = subprocess.run(["ip", "netns", "exec", node.netns, real, *argv[1:]], capture_output=True,
                                  timeout=300, env=_EXEC_ENV)
            out, err, rc = proc.stdout, proc.stderr, proc.returncode
        else:  # stdout goes out while the command writes it, as the kubelet streams it (io.Copy, 32 KiB)
            err, rc = self._stream_command(["ip", "netns", "exec", node.netns, real, *argv[1:]])
        if rc is not None:
            if rc == 0:
                status = {"metadata": {}, "status": "Success"}
            else:
                status = {"metadata": {}, "status": "Failure",
                          "message": f"command terminated with non-zero exit code: error executing command {argv}, exit code {rc}",
                          "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": str(rc)}]}}
        rec.exec_rc = rc
        if faults.truncate:
            out = out[: len(out) // 2]
        for i in range(0, len(out), CHUNK):
            self._send(b"\x01" + out[i:i + CHUNK])
        if faults.truncate == "drop":
            self.connection.close()  # no status, no close frame: the stream just dies
            return
        if err:
            self._send(b"\x02" + err)
        if cluster.before_exec_status is not None:
            cluster.before_exec_status(argv)
        self._send(b"\x03" + json.dumps(status).encode())
        self._send((1000).to_bytes(2, "big"), opcode=0x8)
        self.connection.settimeout(0.5)
        try:
            self.rfile.read(2)  # the client's close frame, if it sends one
        except (OSError, ssl.SSLError):
            pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    cluster: FakeCluster

    def handle_error(self, request: Any, client_address: Any) -> None:  # clients that time out break pipes
        pass


class FakeApiServer:
    """Runs a FakeCluster on https://127.0.0.1:<random port> in a thread; a context manager."""

    def __init__(self, cluster: FakeCluster, cert: Cert | None, client_ca: Cert | None = None) -> None:
        self.cluster = cluster
        self.cert = cert
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.cluster = cluster
        if cert is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(str(cert.cert), str(cert.key))

            def remember_sni(sock: ssl.SSLSocket, name: str | None, _ctx: ssl.SSLContext) -> None:
                sock.svcpath_sni = name  # type: ignore[attr-defined]

            ctx.sni_callback = remember_sni
            if client_ca is not None:  # ask for a client certificate; a token still works without one
                ctx.verify_mode = ssl.CERT_OPTIONAL
                ctx.load_verify_locations(str(client_ca.cert))
            self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True,
                                                  do_handshake_on_connect=False)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="fake-apiserver")

    @property
    def url(self) -> str:
        return f"{'https' if self.cert else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> FakeApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeApiServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def write_kubeconfig(self, path: Path, server: str | None = None, token: str | None = None,
                         namespace: str | None = None, insecure: bool = False,
                         user: dict[str, Any] | None = None) -> Path:
        """Contexts: "lab" (namespace from the argument, if any, current) and "lab-team" (namespace team).

        ``user`` replaces the token credentials (client certificate, exec plugin...)."""
        return write_kubeconfig(path, server or self.url, self.cert, token or self.cluster.token, namespace, insecure,
                                user)


def write_kubeconfig(path: Path, server: str, cert: Cert | None, token: str, namespace: str | None = None,
                     insecure: bool = False, user: dict[str, Any] | None = None) -> Path:
    cluster: dict[str, Any] = {"server": server}
    if insecure:
        cluster["insecure-skip-tls-verify"] = True
    elif cert is not None:
        cluster["certificate-authority-data"] = cert.ca_data
    lab_ctx: dict[str, Any] = {"cluster": "lab", "user": "lab-user"}
    if namespace:
        lab_ctx["namespace"] = namespace
    cfg = {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": "lab", "cluster": cluster}],
        "users": [{"name": "lab-user", "user": user if user is not None else {"token": token}}],
        "contexts": [{"name": "lab", "context": lab_ctx},
                     {"name": "lab-team", "context": {"cluster": "lab", "user": "lab-user", "namespace": "team"}}],
        "current-context": "lab",
    }
    path.write_text(json.dumps(cfg, indent=1))  # JSON is YAML: kubectl and the client read it
    return path
