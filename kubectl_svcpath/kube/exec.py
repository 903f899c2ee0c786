"""Run a read-only command in a pod (pods/exec), from a fixed allow-list, with no shell.

``is_allowed(argv)`` is pure and is checked before any request is made: the plugin can only
ever run the listings below. The exec reads stdout, stderr and the exit status separately
(the client's simple form mixes the streams, hides the exit code and silently truncates on a
timeout: shared/docs/ecosystem-notes.md §2.4) over the client's WebSocket (transport.open_exec)
and stops at the request timeout.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubectl_svcpath.errors import ApiUnreachable, CollectFailed, ExitCode, SvcpathError
from kubectl_svcpath.kube import retry, transport
from kubectl_svcpath.kube.client import Call, Kube, one_line, translate

# Exact argv vectors that may be run.
ALLOWED: frozenset[tuple[str, ...]] = frozenset({
    ("iptables-save", "-c"),
    ("iptables-save", "-c", "-t", "nat"),
    ("iptables-save", "-c", "-t", "filter"),
    ("ip6tables-save", "-c"),
    ("ip6tables-save", "-c", "-t", "nat"),
    ("ip6tables-save", "-c", "-t", "filter"),
    ("iptables", "--version"),
    ("ip6tables", "--version"),
    ("nft", "-j", "list", "table", "ip", "kube-proxy"),
    ("nft", "-j", "list", "table", "ip6", "kube-proxy"),
    ("nft", "-j", "list", "table", "ip", "nat"),
    ("nft", "-j", "list", "table", "ip6", "nat"),
    ("ipvsadm", "-Ln", "--stats", "--exact"),
    ("ipvsadm", "-Ln"),
    ("cat", "/proc/net/ip_vs"),  # the kernel's IPVS table, where the image has no ipvsadm (upstream's has none)
    ("ipset", "list"),  # IPVS mode's sets (KUBE-CLUSTER-IP, KUBE-NODE-PORT-TCP, …): upstream's image has ipset
})

# conntrack: only the listing (-L), filtered by these options with plain values
_CONNTRACK_FILTERS = {
    "-p": r"tcp|udp|sctp", "--proto": r"tcp|udp|sctp",
    "-f": r"ipv4|ipv6", "--family": r"ipv4|ipv6",
    "-s": r"[0-9a-fA-F.:]+", "--orig-src": r"[0-9a-fA-F.:]+",
    "-d": r"[0-9a-fA-F.:]+", "--orig-dst": r"[0-9a-fA-F.:]+",
    "-r": r"[0-9a-fA-F.:]+", "--reply-src": r"[0-9a-fA-F.:]+",
    "-q": r"[0-9a-fA-F.:]+", "--reply-dst": r"[0-9a-fA-F.:]+",
    "--orig-port-src": r"\d{1,5}", "--orig-port-dst": r"\d{1,5}",
    "--reply-port-src": r"\d{1,5}", "--reply-port-dst": r"\d{1,5}",
    "-o": r"extended|id|ktimestamp",
}


_STOP_CHECK = 0.25  # seconds: how often a read waiting for data checks whether it is still wanted


class NotAllowed(SvcpathError):
    """A command outside the allow-list was about to be run: a bug in the plugin, never sent."""

    exit_code = ExitCode.INTERNAL


def is_allowed(argv: list[str] | tuple[str, ...]) -> bool:
    """True only for the read-only listings above (and ``conntrack -L`` with plain filters)."""
    argv = tuple(argv)
    if argv in ALLOWED:
        return True
    if len(argv) >= 2 and argv[0] == "conntrack" and argv[1] in ("-L", "--dump"):
        rest = argv[2:]
        if len(rest) % 2:
            return False
        for opt, value in zip(rest[::2], rest[1::2], strict=True):
            pattern = _CONNTRACK_FILTERS.get(opt)
            if pattern is None or not re.fullmatch(pattern, value):
                return False
        return True
    return False


@dataclass(slots=True)
class ExecResult:
    argv: list[str]
    stdout: str
    stderr: str
    returncode: int
    seconds: float

    @property
    def command(self) -> str:
        return " ".join(self.argv)


def exec_status(raw: str) -> tuple[int | None, str]:
    """(exit code, message) from the status channel; (None, msg) for a failure without an exit code."""
    raw = raw.strip()
    if not raw:
        return None, ""
    try:
        status = json.loads(raw)
    except ValueError:
        return None, one_line(raw)
    if not isinstance(status, dict):
        return None, one_line(raw)
    if status.get("status") == "Success":
        return 0, ""
    message = one_line(str(status.get("message") or status.get("reason") or ""), limit=2000)
    if status.get("reason") == "NonZeroExitCode":
        for cause in (status.get("details") or {}).get("causes") or []:
            if isinstance(cause, dict) and cause.get("reason") == "ExitCode":
                try:
                    return int(str(cause.get("message"))), message
                except (TypeError, ValueError):
                    break
    return None, message


def run(kube: Kube, pod: str, namespace: str, container: str | None, argv: list[str]) -> ExecResult:
    """Exec argv in the pod; returns whatever the command printed and its exit code.

    Raises Forbidden (RBAC), NotFound (pod gone), ApiUnreachable (connection, timeout) and
    CollectFailed (the runtime could not start the command, or the stream broke off).
    """
    return start(kube, pod, namespace, container, argv).finish()


def start(kube: Kube, pod: str, namespace: str, container: str | None, argv: list[str]) -> Running:
    """Open the exec (the WebSocket upgrade): a refused exec (RBAC, pod gone) raises here, before
    anything else is tried; ``Running.finish()`` then reads the command's output."""
    if not is_allowed(argv):
        raise NotAllowed(f"refusing to run `{' '.join(argv)}` in pod {namespace}/{pod}: not a read-only listing")
    call = Call("create", "pods/exec", pod, namespace)
    try:
        ws, started = _open(kube, call, pod, namespace, _exec_query(argv, container))
    except SvcpathError:
        raise
    except Exception as e:  # noqa: BLE001 - client/websocket errors are translated in one place
        raise translate(e, call, server=kube.server, timeout=kube.timeout, kube=kube) from None
    return Running(kube, pod, namespace, list(argv), ws, started)


@dataclass(slots=True)
class Running:
    """An exec whose upgrade was accepted: the command runs in the pod."""

    kube: Kube
    pod: str
    namespace: str
    argv: list[str]
    ws: Any
    started: float

    def finish(self, stop: threading.Event | None = None, on_stdout: Callable[[str], None] | None = None) -> ExecResult:
        """Read stdout, stderr and the exit status until the stream ends or the request timeout.

        Gives up within a quarter of a second when ``stop`` is set (another listing of the node
        failed) or the connection is closed (the run ended early): nobody waits for the answer.
        ``on_stdout`` is handed stdout as it arrives, decoded, in pieces that end at a newline (the
        last piece: whatever follows the last newline, if anything); their concatenation is
        ``ExecResult.stdout``, so a reader can start on the text while the command still writes it.
        """
        kube, cmd = self.kube, " ".join(self.argv)
        deadline = self.started + kube.timeout if kube.timeout else None

        def stopped() -> bool:
            return kube.closing.is_set() or (stop is not None and stop.is_set())

        try:
            read = _read_frames(self.ws, deadline, stopped, on_stdout)
            if stopped() and not read.ended:  # given up, not ended
                raise CollectFailed(f"`{cmd}` in pod {self.namespace}/{self.pod}: stopped before its end (no longer needed)")
            if read.timed_out:
                raise ApiUnreachable(f"`{cmd}` in pod {self.namespace}/{self.pod} did not finish within {kube.timeout:g}s",
                                     hint="the node may be slow or the tables very large: raise --request-timeout (e.g. 2m)")
            code, message = exec_status(read.status.decode("utf-8", "replace"))
        except SvcpathError:
            raise
        except Exception as e:  # noqa: BLE001 - client/websocket errors are translated in one place
            call = Call("create", "pods/exec", self.pod, self.namespace)
            raise translate(e, call, server=kube.server, timeout=kube.timeout, kube=kube) from None
        finally:  # given up: no wait for the server's close frame either
            _close(self.ws, deadline=time.monotonic() if stopped() else deadline)
        if code is None:
            raise _not_started(self.argv, self.pod, self.namespace, message)
        return ExecResult(self.argv, read.out, read.err, code, time.monotonic() - self.started)


def _exec_query(argv: list[str], container: str | None) -> list[tuple[str, Any]]:
    query: list[tuple[str, Any]] = [("command", list(argv))]  # connect_get_namespaced_pod_exec's order
    if container:
        query.append(("container", container))
    return query + [("stderr", True), ("stdin", False), ("stdout", True), ("tty", False)]


def _open(kube: Kube, call: Call, pod: str, namespace: str, query: list[tuple[str, Any]]) -> tuple[Any, float]:
    """The exec websocket and when its try began, each try logged (with -v) as kubectl logs its upgrade
    request. An upgrade answered 429 or 5xx with a Retry-After is sent again (retry.py): no command started."""
    params = {"namespace": namespace, "name": pod}

    def attempt(started: float) -> tuple[Any, float]:
        ws = transport.open_exec(kube.api, pod, namespace, query, kube.timeout, kube.headers)
        kube.log_request("GET", transport.EXEC_PATH, params, query, 101, started)
        return ws, started

    def failed(e: BaseException, started: float) -> None:
        kube.log_request("GET", transport.EXEC_PATH, params, query, e, started)

    return retry.send(kube, call, attempt, failed)


_READ = 1 << 16  # bytes asked of the socket at once (TLS hands over at most one 16 KiB record per read)
_STDOUT, _STDERR, _STATUS = 1, 2, 3  # the channels (v4/v5.channel.k8s.io): a message's first byte
_CLOSE, _PING = 0x8, 0x9  # WebSocket opcodes; 0x0 continues a message, 0x1 and 0x2 carry one


@dataclass(slots=True)
class _Read:
    out: str
    err: str
    status: bytes  # the status channel: the command's exit (exec_status)
    timed_out: bool
    ended: bool  # the server's close frame came, or the connection ended


def _read_frames(ws: Any, deadline: float | None, stopped: Callable[[], bool] = lambda: False,
                 on_stdout: Callable[[str], None] | None = None) -> _Read:
    """The exec's frames, read from its socket until the server closes the stream, the deadline
    passes or ``stopped()``. With ``on_stdout``, stdout is decoded piece by piece (cut after a
    newline, which no UTF-8 sequence contains: the same text as decoding it whole) and each piece
    handed over as soon as it is complete.

    The frames are read here, not by ``WSClient.update()`` (a new poll object per call, a frame's
    header and payload read apart, each payload copied three times: ~2.6 ms of CPU for a 0.7 MB
    ``iptables-save`` on a many-node run): the socket decrypts into one reused buffer (``recv_into``),
    each message's data is copied once, to its channel's, and a read waits on the socket's own
    timeout. Pings are answered, fragmented messages joined, a close frame answered as the client
    does (``websocket-client``'s WebSocket still sends, closes and owns the TLS socket).
    """
    sock = ws.sock.sock
    out = _Pieces(on_stdout)
    err, status = bytearray(), bytearray()
    channels: dict[int, Callable[[Any], Any]] = {_STDOUT: out.add, _STDERR: err.extend, _STATUS: status.extend}
    ahead = transport.take_read_ahead(sock)  # (read with the upgrade's response: the stream's first bytes)
    buf = bytearray(max(_READ, 2 * len(ahead)))
    buf[:len(ahead)] = ahead
    view = memoryview(buf)
    filled = len(ahead)  # buf[:filled]: what was read and not yet taken (the start of a frame)
    parts: list[bytes] = []  # a fragmented message's parts so far
    ended = timed_out = False
    wait = None  # the socket's timeout, set only when it changes (each setting is two fcntl calls)
    try:
        filled = _consume(ws, view, filled, parts, channels) if filled else 0
        ended = filled < 0
        while not ended and not stopped():
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                timed_out = True
                break
            timeout = _STOP_CHECK if remaining is None else min(_STOP_CHECK, remaining)
            if timeout != wait:  # (a frame that starts but never ends must not outlast the deadline)
                sock.settimeout(timeout)
                wait = timeout
            if filled == len(buf):  # a frame bigger than the buffer: room for more of it
                view.release()
                buf.extend(bytes(len(buf)))
                view = memoryview(buf)
            try:
                n = sock.recv_into(view[filled:])
            except TimeoutError:
                continue
            if not n:  # the connection ended without a close frame: no status
                ended = True
                break
            filled = _consume(ws, view, filled + n, parts, channels)
            if filled < 0:
                ended = True
                break
    except Exception:  # noqa: BLE001 - the connection broke off without a close frame: no status
        timed_out = deadline is not None and time.monotonic() >= deadline
        ended = True
    finally:
        view.release()
    return _Read(out.text(), err.decode("utf-8", "replace"), bytes(status), timed_out, ended)


def _consume(ws: Any, view: memoryview, filled: int, parts: list[bytes], channels: dict[int, Callable[[Any], Any]]) -> int:
    """Take the complete frames at the start of ``view[:filled]`` and move the rest (the start of the next
    frame, if any) to the front: the bytes left, -1 when a close frame came."""
    used = _take_frames(ws, view, filled, parts, channels)
    if used > 0:
        view[:filled - used] = view[used:filled]
    return -1 if used < 0 else filled - used


def _take_frames(ws: Any, buf: memoryview, size: int, parts: list[bytes], channels: dict[int, Callable[[Any], Any]]) -> int:
    """Hand each complete frame at the start of ``buf[:size]`` to its channel (a view of its data, to
    copy); the bytes they took (-1: a close frame)."""
    pos = 0
    while size - pos >= 2:
        head, second = buf[pos], buf[pos + 1]
        at, n = pos + 2, second & 0x7F
        if n >= 126:
            width = 2 if n == 126 else 8
            if size - at < width:
                break
            n = int.from_bytes(buf[at:at + width], "big")
            at += width
        mask = None
        if second & 0x80:  # a server must not mask; read anyway, as websocket-client does
            if size - at < 4:
                break
            mask = bytes(buf[at:at + 4])
            at += 4
        if size - at < n:
            break
        pos, opcode = at + n, head & 0x0F
        if head & 0x80 and mask is None and not parts and opcode in (0x1, 0x2):  # a whole message: the usual case
            if n and (take := channels.get(buf[at])) is not None:
                take(buf[at + 1:pos])
            continue
        payload = bytes(buf[at:pos]) if mask is None else bytes(b ^ mask[i % 4] for i, b in enumerate(buf[at:pos]))
        if opcode == _CLOSE:
            ws.sock.send_close()  # the reply the server waits for before it closes the connection
            return -1
        if opcode == _PING:
            ws.sock.pong(payload)
        elif opcode in (0x0, 0x1, 0x2):
            parts.append(payload)
            if head & 0x80:  # the message's last frame
                whole = b"".join(parts)
                parts.clear()
                if whole and (take := channels.get(whole[0])) is not None:
                    take(memoryview(whole)[1:])
    return pos


class _Pieces:
    """stdout as it arrives: raw bytes joined and decoded at the end, or, for a reader that wants
    it early (``on_stdout``), decoded up to each newline and handed over piece by piece."""

    def __init__(self, on_stdout: Callable[[str], None] | None) -> None:
        self.on_stdout = on_stdout
        self.raw = bytearray()  # (no on_stdout) every byte so far, decoded once at the end
        self.pending = bytearray()  # (on_stdout) the bytes after the last newline seen
        self.pieces: list[str] = []

    def add(self, data: bytes | bytearray | memoryview) -> None:
        """Take a copy of ``data`` (a view of the read buffer, reused for the next frames)."""
        if self.on_stdout is None:
            self.raw += data
            return
        self.pending += data
        cut = self.pending.rfind(b"\n") + 1
        if cut:
            self._hand_over(self.pending[:cut].decode("utf-8", "replace"))
            del self.pending[:cut]

    def _hand_over(self, piece: str) -> None:
        self.pieces.append(piece)
        assert self.on_stdout is not None
        self.on_stdout(piece)

    def text(self) -> str:
        if self.on_stdout is None:
            return self.raw.decode("utf-8", "replace")
        if self.pending:
            self._hand_over(self.pending.decode("utf-8", "replace"))
            self.pending.clear()
        return "".join(self.pieces)


def _not_started(argv: list[str], pod: str, namespace: str, message: str) -> CollectFailed:
    """No exit status: the runtime refused to start the command (its message), or the stream broke off."""
    cmd = " ".join(argv)
    missing = re.search(r'exec: "([^"]+)": executable file not found in \$PATH', message)
    if missing:
        message = f'"{missing.group(1)}" is not in the container (executable file not found in $PATH)'
    message = one_line(message, limit=300)
    if message:
        # the runtime refused to start it (binary missing: "executable file not found in $PATH")
        failed = CollectFailed(f"cannot run `{cmd}` in pod {namespace}/{pod}: {message}", hint=_missing_hint(argv, message))
        failed.missing_binary = missing is not None and missing.group(1) == argv[0]
        return failed
    return CollectFailed(f"`{cmd}` in pod {namespace}/{pod}: the exec stream ended without an exit status "
                         "(connection lost; the output may be truncated)",
                         hint="run it again; if it keeps failing, check the API server and kubelet logs")


def _missing_hint(argv: list[str], message: str) -> str:
    # (shown only when /proc/net/ip_vs could not be read in the pod either: --local would read that same file)
    if argv[0] == "ipvsadm" and ("not found" in message or "no such file" in message.lower()):
        return (f"the kube-proxy image has no `ipvsadm`: run `{' '.join(argv)}` and `iptables-save -c` on the node "
                "and pass both outputs with --rules-file")
    if "not found" in message or "no such file" in message.lower():
        return (f"the kube-proxy image has no `{argv[0]}`: run `{' '.join(argv)}` on the node and pass the output "
                "with --rules-file, or run `kubectl svcpath SERVICE --local` on the node")
    return "check the kube-proxy pod: kubectl describe pod -n kube-system POD"


def _close(ws: Any, deadline: float | None) -> None:
    """Close the stream; past the deadline without waiting for the server's close frame.

    ``WebSocket.close()`` waits up to 3 s for the reply: a stalled server made a timed-out exec
    end 3 s after ``--request-timeout``.
    """
    remaining = 1.0 if deadline is None else min(1.0, max(0.0, deadline - time.monotonic()))
    try:
        ws.close(timeout=remaining)  # sends our close frame, waits at most `remaining` for the reply
    except Exception:  # noqa: BLE001 - closing is best effort
        pass
