"""The netfilter lab: nodes and pods as network namespaces, real rules, real traffic.

Everything lives in namespaces this module creates; the host's tables and interfaces are never
touched, and traffic never leaves the lab (node uplinks are veth pairs whose both ends stay in the
node namespace). Needs root (CAP_NET_ADMIN + CAP_SYS_ADMIN) and ``ip`` / ``iptables-*`` / ``nft``.

    from tests.lab.netns import Lab

    with Lab() as lab:                                   # names: svp-<pid>-<rand>-<name>
        node = lab.add_node("cp01")                      # node IP 172.18.0.2 on its uplink eth0
        lab.add_pod(node, "web-0", "10.244.1.5", ports=[8080, 9090])   # + HTTP server on both ports
        lab.load_iptables(node, restore_text, backend="nft")            # or "legacy"; counters=True for [p:b]
        lab.load_nft(node, "table ip kube-proxy { ... }")               # nft -f
        lab.connect(node, "10.96.0.10", 80, n=2)         # -> ["web-0 10.244.1.5:8080", ...]
        lab.run(node, ["iptables-save", "-c"]).stdout    # any argv, no shell, inside the namespace
        lab.save(node)                                   # iptables-save -c with the node's backend
        lab.fingerprint(node)                            # every ruleset, counters stripped
    # namespaces deleted and servers stopped here, also when the test failed

Wiring, and why (the answer to "how does a cluster IP route inside a namespace"):
- Node namespace: ``lo`` up; an uplink veth pair ``eth0``/``eth0p`` with both ends in the node,
  the node IP on ``eth0`` (/24) and ``default dev eth0``. connect() to a cluster IP needs a route
  *before* netfilter runs (the route picks the source address); the default route gives it one,
  the OUTPUT nat chain then DNATs and the kernel re-routes to the pod. Packets nobody DNATs go out
  ``eth0``, come back on ``eth0p`` and are dropped: they never leave the namespace. (No dummy
  device: this kernel has no dummy module, veth is always there.) ``ip_forward=1`` and
  ``proxy_arp`` on pod veths are set *inside the node namespace only*.
- Pod namespace (Calico-style): ``eth0`` with ``IP/32``, ``default via 169.254.1.1 dev eth0``
  (onlink); the node side ``vpN`` answers ARP for it by proxy ARP and routes ``IP/32 dev vpN``.
  Masquerade from the node works: the kernel takes the node IP from the uplink.
- A pod belongs to one node. Rules may DNAT to pod IPs that exist nowhere (endpoints on "other
  nodes"): the nat counters still count the SYN; the connection just times out.

Cleanup: ``Lab.cleanup()`` (context exit, pytest finalizer), an ``atexit`` hook for labs still
open, and ``sweep_stale()`` at session start, which deletes ``svp-<pid>-…`` namespaces whose
creating process is gone (never those of a live process: parallel sessions share the machine).

Only IPv4 pods for now (IPv6 rules can still be loaded and listed).
"""

from __future__ import annotations

import atexit
import ipaddress
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
HTTP_SERVER = HERE / "httpserver.py"
CLIENT = HERE / "client.py"

# iptables binaries per backend; "nft" = iptables-nft (what current kube-proxy images use)
BACKENDS = {
    "nft": {"restore": "iptables-nft-restore", "save": "iptables-nft-save", "iptables": "iptables-nft",
            "restore6": "ip6tables-nft-restore", "save6": "ip6tables-nft-save"},
    "legacy": {"restore": "iptables-legacy-restore", "save": "iptables-legacy-save", "iptables": "iptables-legacy",
               "restore6": "ip6tables-legacy-restore", "save6": "ip6tables-legacy-save"},
}
TOOLS = ("ip", "iptables-nft-restore", "iptables-legacy-restore", "nft")

_live_labs: weakref.WeakSet[Lab] = weakref.WeakSet()


class LabError(RuntimeError):
    pass


def unavailable_reason() -> str | None:
    """Why the lab cannot run here (not root, tools missing, netns denied), or None."""
    if sys.platform != "linux":
        return "the netns lab needs Linux"
    if os.geteuid() != 0:
        return "the netns lab needs root (network namespaces, iptables)"
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        return f"the netns lab needs {', '.join(missing)} (make system-deps)"
    probe = f"svp-{os.getpid()}-probe{secrets.token_hex(2)}"
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if r.returncode != 0:
        return f"cannot create a network namespace: {r.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def skip_or_fail(reason: str) -> None:
    """pytest.skip with the reason, except under CI=true, where a skipped lab test is a failure."""
    import pytest

    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"lab test cannot run under CI: {reason}")
    pytest.skip(reason)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def list_namespaces() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def _kill_ns_processes(ns: str) -> None:
    """Stop processes still running in one of *our* namespaces (lab servers), by pid."""
    out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout
    for pid in (int(p) for p in out.split() if p.isdigit()):
        try:
            os.kill(pid, 15)
        except ProcessLookupError:
            pass


def sweep_stale(prefix: str = "svp") -> list[str]:
    """Delete lab namespaces left by dead test processes; returns the names deleted."""
    pattern = re.compile(rf"^{re.escape(prefix)}-(\d+)-")
    deleted = []
    for ns in list_namespaces():
        m = pattern.match(ns)
        if not m or _pid_alive(int(m.group(1))):
            continue
        _kill_ns_processes(ns)
        if subprocess.run(["ip", "netns", "del", ns], capture_output=True).returncode == 0:
            deleted.append(ns)
    return deleted


@dataclass
class Pod:
    name: str
    ns: str
    ip: str
    node: Node
    ports: list[int] = field(default_factory=list)
    veth: str = ""  # node-side interface name


@dataclass
class Node:
    name: str
    ns: str
    ip: str
    pods: list[Pod] = field(default_factory=list)
    backend: str | None = None  # iptables backend of the last load_iptables(), None before

    def iptables_binary(self, tool: str) -> str:
        """The backend-specific binary for a generic name ("iptables-save" -> "iptables-nft-save")."""
        backend = self.backend or "nft"
        return tool.replace("iptables", f"iptables-{backend}", 1) if tool.startswith(("iptables", "ip6tables")) else tool




def _ns(target: str | Node | Pod) -> str:
    return target if isinstance(target, str) else target.ns


class Lab:
    """A set of node and pod namespaces, deleted together. See the module docstring."""

    def __init__(self, prefix: str = "svp") -> None:
        self.prefix = prefix
        self.tag = f"{prefix}-{os.getpid()}-{secrets.token_hex(3)}"
        self.nodes: dict[str, Node] = {}
        self.namespaces: list[str] = []
        self._procs: list[subprocess.Popen] = []
        self._closed = False
        _live_labs.add(self)

    # --- life cycle ---------------------------------------------------------

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    def cleanup(self) -> None:
        """Stop the servers we started, delete our namespaces. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for proc in self._procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self._procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        for ns in reversed(self.namespaces):
            _kill_ns_processes(ns)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self.namespaces.clear()

    # --- building -------------------------------------------------------------

    def _sh(self, argv: list[str], input: str | None = None) -> str:
        r = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise LabError(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr.strip()}")
        return r.stdout

    def _new_ns(self, name: str) -> str:
        ns = f"{self.tag}-{name}"
        self._sh(["ip", "netns", "add", ns])
        self.namespaces.append(ns)
        self._sh(["ip", "-n", ns, "link", "set", "lo", "up"])
        return ns

    def add_node(self, name: str = "node", ip: str | None = None) -> Node:
        """A node namespace with an uplink and a default route (see the module docstring)."""
        if name in self.nodes:
            raise LabError(f"node {name} exists")
        ip = ip or f"172.18.0.{len(self.nodes) + 2}"
        ns = self._new_ns(name)
        self._sh(["ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p"])
        self._sh(["ip", "-n", ns, "link", "set", "eth0", "up"])
        self._sh(["ip", "-n", ns, "link", "set", "eth0p", "up"])
        self._sh(["ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", "eth0"])
        self._sh(["ip", "-n", ns, "route", "add", "default", "dev", "eth0"])
        self._sh(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
        node = self.nodes[name] = Node(name, ns, ip)
        return node

    def add_pod(self, node: Node, name: str, ip: str, ports: list[int] | tuple[int, ...] = (),
                serve: bool = True) -> Pod:
        """A pod namespace wired to ``node``; with ports and serve=True an HTTP server answers on each."""
        if ipaddress.ip_address(ip).version != 4:
            raise LabError("the lab wires IPv4 pods only")
        ns = self._new_ns(name)
        veth = f"vp{len(node.pods)}"
        self._sh(["ip", "-n", node.ns, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns])
        self._sh(["ip", "-n", node.ns, "link", "set", veth, "up"])
        self._sh(["ip", "-n", ns, "link", "set", "eth0", "up"])
        self._sh(["ip", "-n", ns, "addr", "add", f"{ip}/32", "dev", "eth0"])
        self._sh(["ip", "-n", ns, "route", "add", "169.254.1.1", "dev", "eth0", "scope", "link"])
        self._sh(["ip", "-n", ns, "route", "add", "default", "via", "169.254.1.1", "dev", "eth0"])
        self._sh(["ip", "netns", "exec", node.ns, "sysctl", "-q", "-w", f"net.ipv4.conf.{veth}.proxy_arp=1"])
        self._sh(["ip", "-n", node.ns, "route", "add", f"{ip}/32", "dev", veth])
        pod = Pod(name, ns, ip, node, list(ports), veth)
        node.pods.append(pod)
        if ports and serve:
            self.serve(pod, list(ports))
        return pod

    def serve(self, pod: Pod, ports: list[int]) -> None:
        """Start the lab HTTP server in the pod on these ports; returns once they listen."""
        argv = ["ip", "netns", "exec", pod.ns, sys.executable, str(HTTP_SERVER), "--name", pod.name, "--ip", pod.ip]
        for p in ports:
            argv += ["--port", str(p)]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._procs.append(proc)
        line = proc.stdout.readline() if proc.stdout else ""
        if line.strip() != "ready":
            proc.kill()
            err = proc.stderr.read() if proc.stderr else ""
            raise LabError(f"HTTP server in {pod.ns} did not start: {err.strip()[-300:]}")

    # --- rules ----------------------------------------------------------------

    def load_iptables(self, target: str | Node, text: str, backend: str = "nft", counters: bool = False,
                      noflush: bool = False, ipv6: bool = False) -> None:
        """iptables-restore the text in the namespace with the chosen backend ("nft" | "legacy")."""
        tools = BACKENDS[backend]
        argv = ["ip", "netns", "exec", _ns(target), tools["restore6" if ipv6 else "restore"]]
        if counters:
            argv.append("--counters")
        if noflush:
            argv.append("--noflush")
        self._sh(argv, input=text)
        if isinstance(target, Node):
            target.backend = backend

    def load_nft(self, target: str | Node, text: str) -> None:
        """nft -f - in the namespace (e.g. a kube-proxy nftables-mode table)."""
        self._sh(["ip", "netns", "exec", _ns(target), "nft", "-f", "-"], input=text)

    def save(self, target: str | Node, backend: str | None = None, table: str | None = None) -> str:
        """iptables-save -c [-t table] with the node's backend (or the given one)."""
        backend = backend or (target.backend if isinstance(target, Node) else None) or "nft"
        argv = [BACKENDS[backend]["save"], "-c"] + (["-t", table] if table else [])
        return self.run(target, argv).stdout

    def fingerprint(self, target: str | Node) -> str:
        """Every ruleset in the namespace, counters and timestamps stripped: equal before and after = untouched.

        Reads legacy tables with iptables-legacy-save (which creates none) and nf_tables with
        ``nft list ruleset`` (kube-proxy's own tables and iptables-nft's alike).
        """
        parts = []
        for argv in (["iptables-legacy-save"], ["ip6tables-legacy-save"], ["nft", "list", "ruleset"]):
            out = self.run(target, argv).stdout
            out = re.sub(r"^#.*\n?", "", out, flags=re.M)  # "# Generated by ... on <date>"
            out = re.sub(r"\[\d+:\d+\]", "[-]", out)
            out = re.sub(r"counter packets \d+ bytes \d+", "counter", out)
            parts.append(f"== {' '.join(argv)}\n{out}")
        return "".join(parts)

    # --- running things inside -------------------------------------------------

    def run(self, target: str | Node | Pod, argv: list[str], input: str | None = None, check: bool = True,
            timeout: float = 60) -> subprocess.CompletedProcess:
        """Run argv (no shell) inside the namespace; raise LabError on failure when check."""
        r = subprocess.run(["ip", "netns", "exec", _ns(target), *argv], input=input, capture_output=True,
                           text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise LabError(f"{' '.join(argv)} in {_ns(target)} failed ({r.returncode}): {r.stderr.strip()}")
        return r

    def connect(self, source: str | Node | Pod, ip: str, port: int, n: int = 1, timeout: float = 3.0,
                raw: bool = False) -> list[str]:
        """n new TCP connections from the namespace to ip:port; one outcome each (see tests/lab/client.py)."""
        import json

        argv = [sys.executable, str(CLIENT), ip, str(port), "-n", str(n), "--timeout", str(timeout)]
        if raw:
            argv.append("--raw")
        r = self.run(source, argv, timeout=n * (timeout + 1) + 10)
        return json.loads(r.stdout)


@atexit.register
def _cleanup_all() -> None:
    for lab in list(_live_labs):
        lab.cleanup()


def wait_until(pred, timeout: float = 5.0, step: float = 0.05) -> bool:
    """Poll pred() until true or timeout (for readiness only, never to measure time)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return bool(pred())
