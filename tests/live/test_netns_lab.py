"""The lab itself: cleanup, the stale sweep, traffic outcomes, and the read-only fingerprint."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.lab import kpgen
from tests.lab.netns import Lab, list_namespaces, sweep_stale

pytestmark = pytest.mark.lab


def test_namespaces_are_deleted_even_when_the_test_fails(lab: Lab):
    inner = Lab()
    with pytest.raises(RuntimeError):
        with inner:
            node = inner.add_node("n")
            inner.add_pod(node, "p", "10.244.0.9", ports=[8080])
            names = list(inner.namespaces)
            assert set(names) <= set(list_namespaces())
            raise RuntimeError("test failed here")
    assert not set(names) & set(list_namespaces())


def test_sweep_removes_only_namespaces_of_dead_processes(lab: Lab):
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = f"svp-{dead.pid}-dead00-node"
    subprocess.run(["ip", "netns", "add", stale], check=True)
    try:
        node = lab.add_node("alive")
        assert stale in sweep_stale()
        assert stale not in list_namespaces()
        assert node.ns in list_namespaces()  # this process is alive: its lab stays
    finally:
        subprocess.run(["ip", "netns", "del", stale], capture_output=True)


def test_traffic_outcomes_follow_the_rules(lab: Lab):
    web = kpgen.ServiceSpec("default", "web", "10.96.1.1", [kpgen.PortSpec("http", 80, 8080)], endpoints=["10.244.1.5"])
    empty = kpgen.ServiceSpec("default", "empty", "10.96.1.2", [kpgen.PortSpec("http", 80, 8080)])
    node = lab.add_node("cp01")
    lab.add_pod(node, "web-0", "10.244.1.5", ports=[8080])
    lab.load_iptables(node, kpgen.generate([web, empty], kpgen.ProxyConfig(jumps=True)))
    assert lab.connect(node, "10.96.1.1", 80, n=2) == ["web-0 10.244.1.5:8080"] * 2
    assert lab.connect(node, "10.96.1.2", 80) == ["refused"]  # filter KUBE-SERVICES REJECT
    assert lab.connect(node, "10.96.1.3", 80, timeout=0.3) == ["timeout"]  # no rule: goes nowhere
    assert lab.connect(node, node.ip, 30080, raw=True) == ["refused"]  # the node itself, nothing listening
    saved = lab.save(node)
    assert "[2:120] -A KUBE-SVC-" in saved and "[1:60] -A KUBE-SERVICES -d 10.96.1.2/32" in saved


def test_fingerprint_ignores_counters_and_sees_any_change(lab: Lab):
    web = kpgen.ServiceSpec("default", "web", "10.96.1.1", [kpgen.PortSpec("http", 80, 8080)], endpoints=["10.244.1.5"])
    node = lab.add_node("cp01")
    lab.add_pod(node, "web-0", "10.244.1.5", ports=[8080])
    lab.load_iptables(node, kpgen.generate([web], kpgen.ProxyConfig(jumps=True)), backend="legacy")
    before = lab.fingerprint(node)
    lab.connect(node, "10.96.1.1", 80, n=3)
    assert lab.fingerprint(node) == before
    lab.run(node, ["iptables-legacy", "-t", "nat", "-A", "KUBE-SERVICES", "-j", "RETURN"])
    assert lab.fingerprint(node) != before
    before = lab.fingerprint(node)
    lab.load_nft(node, "table ip probe {\n chain c {\n }\n}\n")
    assert lab.fingerprint(node) != before


def test_lab_names_carry_the_owner_pid(lab: Lab):
    node = lab.add_node("cp01")
    assert node.ns.startswith(f"svp-{os.getpid()}-") and node.ns.endswith("-cp01")
