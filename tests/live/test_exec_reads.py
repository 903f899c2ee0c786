"""An exec's output as the plugin reads it off the TLS socket, through the fake API server's real
WebSocket exec: the execs after a run's first take the upgrade's response headers from one TLS read
(kube/transport's read-ahead socket) and give the same output, exit code and stderr as the first.
"""

from __future__ import annotations

import ssl

import pytest

from kubectl_svcpath.kube import exec as kexec
from kubectl_svcpath.kube import transport
from kubectl_svcpath.kube.client import connect
from tests.live.conftest import Scenario, hello_scenario

pytestmark = [pytest.mark.lab, pytest.mark.api]


def test_execs_after_the_first_read_the_same_output_with_a_read_ahead_socket(scenario: Scenario):
    hello_scenario(scenario, "legacy")
    pod = next(name for kind, _, name in scenario.cluster.objects if kind == "Pod")
    scenario.cluster.faults.exec_exit["ip6tables-save"] = (1, "ip6tables-save: no such table\n")
    kube = connect(str(scenario.kubeconfig()), timeout=20.0)
    try:
        runs = []
        for argv in (["iptables-save", "-c"], ["iptables-save", "-c"], ["iptables", "--version"], ["ip6tables-save", "-c"]):
            running = kexec.start(kube, pod, "kube-system", "kube-proxy", argv)
            kind = type(running.ws.sock.sock)
            result = running.finish()
            runs.append((kind, result.stdout, result.stderr, result.returncode))
    finally:
        kube.close()
    first, again, version, failed = runs
    assert first[0] is ssl.SSLSocket and again[0] is transport._read_ahead_class()
    assert _timeless(first) == _timeless(again) and "\n*nat\n" in first[1] and first[1].count("\nCOMMIT\n") == 2
    assert version[0] is again[0] and version[1].startswith("iptables v") and version[3] == 0
    assert failed[0] is again[0] and failed[2:] == ("ip6tables-save: no such table\n", 1)  # (stderr, exit code)
    scenario.assert_read_only()


def _timeless(run: tuple) -> tuple:
    """An exec's output, stderr and exit code, without iptables-save's "# Generated/Completed on <time>" lines."""
    return ("\n".join(ln for ln in run[1].split("\n") if not ln.startswith("# ")), *run[2:])


def test_bytes_read_ahead_are_the_streams_first(scenario: Scenario):
    """What the socket read ahead of the headers (a server may send the first frames in the same TLS
    record as the upgrade's answer) comes first in the output, before anything read off the socket."""
    hello_scenario(scenario, "legacy")
    pod = next(name for kind, _, name in scenario.cluster.objects if kind == "Pod")
    kube = connect(str(scenario.kubeconfig()), timeout=20.0)
    try:
        whole = kexec.run(kube, pod, "kube-system", "kube-proxy", ["iptables-save", "-c"]).stdout
        running = kexec.start(kube, pod, "kube-system", "kube-proxy", ["iptables-save", "-c"])
        sock = running.ws.sock.sock
        head = sock.recv(7)  # a small read: the socket reads a record ahead and keeps the rest of it
        assert len(head) == 7 and sock.pending() > 0
        ahead = transport.take_read_ahead(sock)
        sock._ahead = head + ahead  # (handed back, as if the upgrade's answer had ended before them)
        assert _timeless((None, running.finish().stdout)) == _timeless((None, whole))
    finally:
        kube.close()
