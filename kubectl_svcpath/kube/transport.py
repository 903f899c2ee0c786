"""Requests through the official client's own request path, without its generated API classes.

In kubernetes 37 the modules of ``CoreV1Api`` and ``DiscoveryV1Api`` import some 300 pydantic
model modules (~2 s at every start); the plugin needs none of them, since it reads raw JSON and
execs over a WebSocket. So each request is built the way the generated method builds it (path
template and parameters, query, ``Accept``, auth settings ``["BearerToken"]``, through which
``Configuration`` applies tokens, refreshes them and runs exec-credential plugins; client
certificates sit in the configuration) and sent by ``ApiClient`` (GET/LIST), or opened as a
WebSocket (pods/exec) the way ``kubernetes.stream.ws_client.create_websocket`` does, with two
differences: the handshake is bounded by the request timeout (``WebSocket().connect()`` ignores
``websocket.setdefaulttimeout``: an upgrade that is never answered hung forever) and it carries
the User-Agent and the impersonation headers (the client forwards only the authorization header).

The client has had two ApiClients, both supported (pyproject says kubernetes>=29):

- 37 and later: ``param_serialize()`` builds (method, url, headers, body, form); ``call_api()``
  sends it; a non-2xx answer is raised as the generated methods do for ``_preload_content=False``.
- up to 36: ``call_api(resource_path, method, ...)`` builds and sends a GET, raising on non-2xx
  (its timeout must be an int or a (connect, read) pair: 29 ignores a float). For exec, where
  ``stream()`` swaps the client's ``request`` for ``websocket_call`` and lets ``call_api`` build
  the request (30-36 then lose a refused upgrade's error, decoding its empty body), the same
  steps are taken here: default headers, ``update_params_for_auth``, path, query.
"""

from __future__ import annotations

import functools
from typing import Any
from collections.abc import Sequence
from urllib.parse import quote

AUTH_SETTINGS = ["BearerToken"]  # what every core/discovery operation declares
EXEC_PATH = "/api/v1/namespaces/{namespace}/pods/{name}/exec"


def is_modern(api: Any) -> bool:
    """True for kubernetes >= 37 (openapi-generator "python"), False for the "python-legacy" client."""
    return hasattr(api, "param_serialize")


def get(api: Any, path: str, path_params: dict[str, str], query: list[tuple[str, str]],
        timeout: float | None, extra_headers: Sequence[tuple[str, str]] = ()) -> bytes:
    """GET ``path`` (``{name}`` placeholders filled from path_params): the raw body.

    ``extra_headers`` (impersonation) go out as they are, a repeated name as repeated header lines
    (Impersonate-Group: the API server reads each line as one group; a joined value would be one
    group named "a, b"). ``ApiClient.default_headers`` is a dict and cannot repeat a name.

    Raises what the generated ``read_*``/``list_*`` methods raise: ``ApiException`` (and its
    subclasses) for an HTTP error or a TLS failure, urllib3 errors for connection trouble.
    """
    accept = {"Accept": api.select_header_accept(["application/json"])}
    if is_modern(api):
        method, url, headers, body, form = api.param_serialize(
            method="GET", resource_path=path, path_params=path_params, query_params=query,
            header_params=accept, auth_settings=AUTH_SETTINGS)
        resp = api.call_api(method, url, _with_headers(headers, extra_headers), body, form, _request_timeout=timeout)
        data = resp.read()
        if not 200 <= resp.status <= 299:
            from kubernetes.client.exceptions import ApiException

            raise ApiException.from_response(http_resp=resp, body=None, data=None)
        return data
    legacy_timeout = (timeout, timeout) if timeout else None
    if extra_headers:  # the legacy call_api folds headers into a dict: send it as call_api would, by hand
        config = api.configuration
        headers = _with_headers({**accept, **api.default_headers}, extra_headers)
        api.update_params_for_auth(headers, query, AUTH_SETTINGS)
        resp = api.request("GET", config.host + _fill(path, path_params, config), query_params=query, headers=headers,
                           _preload_content=False, _request_timeout=legacy_timeout)
        return resp.data
    resp = api.call_api(path, "GET", path_params, query, accept, auth_settings=AUTH_SETTINGS,
                        _return_http_data_only=True, _preload_content=False, _request_timeout=legacy_timeout)
    return resp.data


def _with_headers(headers: Any, extra: Sequence[tuple[str, str]]) -> Any:
    if not extra:
        return headers
    from urllib3 import HTTPHeaderDict

    merged = HTTPHeaderDict(headers)
    for name, value in extra:
        merged.add(name, value)
    return merged


def _fill(path: str, path_params: dict[str, str], config: Any) -> str:
    for key, value in path_params.items():
        path = path.replace("{%s}" % key, quote(value, safe=config.safe_chars_for_path_param))
    return path


def open_exec(api: Any, pod: str, namespace: str, query: list[tuple[str, Any]], timeout: float | None,
              extra_headers: Sequence[tuple[str, str]] = ()) -> Any:
    """Open pods/exec as a WebSocket; a ``WSClient`` (its socket, sending and closing; exec.py reads the frames).

    ``query`` is what ``connect_get_namespaced_pod_exec`` sends, in its order: command (one
    entry, a list, sent repeated), container, stderr, stdin, stdout, tty. A refused upgrade
    (401/403/404...) raises ``ApiException(status=0, reason="Handshake status 403 ...")``.
    """
    from kubernetes.stream import ws_client

    path_params = {"name": pod, "namespace": namespace}
    accept = {"Accept": api.select_header_accept(["*/*"])}
    if is_modern(api):
        _, url, headers, _, _ = api.param_serialize(
            method="GET", resource_path=EXEC_PATH, path_params=path_params, query_params=query,
            header_params=accept, auth_settings=AUTH_SETTINGS, collection_formats={"command": "multi"})
        query = []
    else:  # what the legacy ApiClient.__call_api does before handing the request to stream()'s websocket_call
        config = api.configuration
        headers = {**accept, **api.default_headers}
        if api.cookie:
            headers["Cookie"] = api.cookie
        api.update_params_for_auth(headers, query, AUTH_SETTINGS)
        url = config.host + _fill(EXEC_PATH, path_params, config)
    try:
        sock = _connect(api.configuration, ws_client.get_websocket_url(url, query or None), headers,
                        [*_user_agent(api), *extra_headers], timeout=timeout)
    except Exception as e:  # noqa: BLE001 - raised as websocket_call raises it: translate() reads the reason
        from kubernetes.client.exceptions import ApiException

        raise ApiException(status=0, reason=str(e)) from e
    return _exec_client_class()(sock)


def _user_agent(api: Any) -> list[tuple[str, str]]:
    agent = getattr(api, "user_agent", None)
    return [("User-Agent", agent)] if agent else []


def _connect(configuration: Any, url: str, headers: dict[str, str], extra_headers: Sequence[tuple[str, str]],
             timeout: float | None) -> Any:
    """``ws_client.create_websocket`` with a socket timeout for connect and handshake, and more headers.

    The client's version forwards only Authorization and Sec-WebSocket-Protocol: here the
    User-Agent and the impersonation headers (--as/--as-group/--as-uid, without which an exec
    would silently run as the real user) go on the upgrade request too.
    """
    import ssl

    import certifi
    from kubernetes.stream import ws_client
    from websocket import WebSocket

    lower = {k.lower(): v for k, v in (headers or {}).items()}
    header = []
    if "authorization" in lower:
        header.append(f"authorization: {lower['authorization']}")
    channels = [getattr(ws_client, "V5_CHANNEL_PROTOCOL", None), getattr(ws_client, "V4_CHANNEL_PROTOCOL", "v4.channel.k8s.io")]
    header.append("sec-websocket-protocol: " + (lower.get("sec-websocket-protocol") or ",".join(filter(None, channels))))
    header += [f"{name}: {value}" for name, value in extra_headers]
    if url.startswith("wss://") and configuration.verify_ssl:
        ssl_opts: dict[str, Any] = {"cert_reqs": ssl.CERT_REQUIRED,
                                    "ca_certs": configuration.ssl_ca_cert or certifi.where()}
        if configuration.assert_hostname is not None:
            ssl_opts["check_hostname"] = configuration.assert_hostname
    else:
        ssl_opts = {"cert_reqs": ssl.CERT_NONE}
    if configuration.cert_file:
        ssl_opts["certfile"] = configuration.cert_file
    if configuration.key_file:
        ssl_opts["keyfile"] = configuration.key_file
    if getattr(configuration, "tls_server_name", None):
        ssl_opts["server_hostname"] = configuration.tls_server_name
    connect_opt: dict[str, Any] = {"header": header, "timeout": timeout or None}
    if configuration.proxy or configuration.proxy_headers:
        connect_opt = ws_client.websocket_proxycare(connect_opt, configuration, url, headers)
    context = getattr(configuration, _SSL_CONTEXT, None)
    if context is not None:
        ssl_opts["context"] = context
    sock = WebSocket(sslopt=ssl_opts, skip_utf8_validation=False)
    try:
        sock.connect(url, **connect_opt)
    except BaseException:
        sock.shutdown()
        raise
    tls = getattr(sock, "sock", None)
    if context is None and isinstance(tls, ssl.SSLSocket):
        tls.context.sslsocket_class = _read_ahead_class()  # (the next execs' sockets: see _read_ahead_class)
        setattr(configuration, _SSL_CONTEXT, tls.context)
    return sock


# The SSLContext websocket-client built from ``sslopt`` for the first exec of a run, kept on the run's
# Configuration and handed back (``sslopt["context"]``) for the next ones: the same verification and
# client certificate, without a new context and the CA file read again per exec (~1 ms of CPU each).
_SSL_CONTEXT = "_svcpath_exec_ssl_context"


_AHEAD = 1 << 14  # a TLS record's plaintext at most: what one read of the socket can hand over


@functools.cache
def _read_ahead_class() -> type:
    """The TLS socket of the execs after a run's first (``SSLContext.sslsocket_class``): websocket-client
    reads the upgrade's response headers one byte per call (``recv_line``), ~170 TLS reads of one byte
    each; here a small read takes the whole record at once and the next ``recv`` calls are served from
    it, in order, before the socket is read again. ``recv_into`` (exec.py's frames) is the socket's own,
    for speed: its reader takes what is left first (``take_read_ahead``)."""
    import ssl

    class ReadAheadSocket(ssl.SSLSocket):
        _ahead = b""  # read and not yet handed over (SSLContext.wrap_socket makes it without __init__)

        def recv(self, buflen: int = 1024, flags: int = 0) -> bytes:
            if self._ahead:
                data, self._ahead = self._ahead[:buflen], self._ahead[buflen:]
                return data
            if buflen >= _AHEAD or flags:
                return super().recv(buflen, flags)
            data = super().recv(_AHEAD)
            self._ahead = data[buflen:]
            return data[:buflen]

        def pending(self) -> int:
            return len(self._ahead) + super().pending()

    return ReadAheadSocket


def take_read_ahead(sock: Any) -> bytes:
    """What an exec socket read ahead of its ``recv`` callers and has not handed over (the stream's first
    bytes, when its first record held more than the upgrade's headers); b"" for any other socket."""
    data: bytes = getattr(sock, "_ahead", b"")
    if data:
        sock._ahead = b""
    return data


@functools.cache
def _exec_client_class() -> Any:
    from kubernetes.stream import ws_client

    class ExecClient(ws_client.WSClient):
        """A ``WSClient`` on a socket opened by ``_connect`` (its own ``__init__`` would open another)."""

        def __init__(self, sock: Any) -> None:  # WSClient's fields, in its order
            self._connected = False
            self._channels = {}  # (exec._read_frames reads the frames: WSClient's buffers stay empty)
            self._closed_channels = set()
            self.binary = True  # bytes per channel, no per-frame UTF-8 decoding (kubernetes 29 decodes anyway)
            self.newline = b"\n"
            self._all = _Discard()  # type: ignore[assignment]  # capture_all=False: no second copy of stdout+stderr that is never read
            self.sock = sock
            self.subprotocol = getattr(sock, "subprotocol", None)
            self._connected = True
            self._returncode = None

    return ExecClient


class _Discard:
    def write(self, _data: Any) -> None:
        pass
