"""kube-proxy before 1.21 wrote each cluster IP's masquerade rule in KUBE-SERVICES, just above the jump to the service
chain (pkg/proxy/iptables/proxier.go: "! -s PODCIDR -d CIP --dport P -j KUBE-MARK-MASQ", comment "SPN cluster IP", then
the same match "-j KUBE-SVC-…"). Pasted alone (a grep that caught one line, a cut), the plugin said "No Service in the
input" (--all) and 'service "kubernetes" … not found in the rules' (exit 4), though the rule names the port, its cluster
IP and port. Now the port is read from it: its cluster IP and port are seen; the jump and the service chain (the one the
port's name hashes to) are not in the input, and the report says so. --trace says the rule matched a Service's address."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import svcpath_on

TWIN = ('-A KUBE-SERVICES ! -s 10.244.0.0/16 -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster '
        'IP" -m tcp --dport 443 -j KUBE-MARK-MASQ\n')
JUMP = ('-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp '
        '--dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y\n')


def test_the_masquerade_rule_alone_names_the_port_and_its_cluster_ip(tmp_path: Path) -> None:
    code, out, err = svcpath_on(tmp_path, TWIN, "default/kubernetes")
    assert code == 0, err
    flat = " ".join(out.split())
    assert "cluster IP 10.96.0.1" in flat, out
    assert "https 443/TCP clusterIP 10.96.0.1:443 - KUBE-SVC-NPX46M4PTMTKRN6Y KUBE-SVC-NPX46M4PTMTKRN6Y: not in the input" in flat, out
    assert ("KUBE-SVC-NPX46M4PTMTKRN6Y: not in the input, nor the jump to it (the clusterIP rule's masquerade twin above "
            "it is") in flat, out
    assert ("only the clusterIP rule's masquerade twin is in the input; the jump to KUBE-SVC-NPX46M4PTMTKRN6Y and the "
            "chain are not") in flat, out
    doc = json.loads(svcpath_on(tmp_path, TWIN, "default/kubernetes", "-o", "json")[1])
    path = doc["ports"][0]["paths"][0]
    assert (path["entry"], path["address"], path["port"], path["verdict"], path["packets"]) == (
        "clusterIP", "10.96.0.1", 443, "not-in-input", None), path
    code, out, err = svcpath_on(tmp_path, TWIN, "--all")
    assert code == 0 and out.splitlines()[1].split()[:5] == ["default", "kubernetes", "?", "10.96.0.1", "443"], out


def test_with_its_jump_the_twin_changes_nothing(tmp_path: Path) -> None:
    code, out, err = svcpath_on(tmp_path, TWIN + JUMP, "default/kubernetes")
    assert code == 0, err
    flat = " ".join(out.split())
    assert "the clusterIP rule jumps to KUBE-SVC-NPX46M4PTMTKRN6Y, which is not in the input" in flat, out
    assert "masquerade twin" not in flat, out


def test_trace_says_the_twin_matched_a_service_address(tmp_path: Path) -> None:
    code, out, err = svcpath_on(tmp_path, TWIN, "default/kubernetes", "--trace", "node", "--node-ip", "192.168.1.5")
    assert code == 0, err
    assert "not a Service address" not in out, out
    assert "no rule shown rewrote the destination, though nat KUBE-SERVICES #1 matched it as a Service's" in out, out
