"""Live --proxy-mode is the user's word on the node's proxy mode: it chooses the listings run in the pod.

The hint of a failed IPVS or nftables listing says "Try --proxy-mode iptables"; following it must read
the node's iptables rules, not run the ConfigMap's mode's listing again. And when the ConfigMap could
not be read, the report does not claim the mode is "not configured explicitly".
"""

from __future__ import annotations

import pytest

from kubectl_svcpath.errors import ExitCode
from tests.conftest import svcpath
from tests.live.conftest import Scenario, hello_scenario
from tests.live.test_faults import hint_of, one_error

pytestmark = [pytest.mark.lab, pytest.mark.api]


def test_the_hint_try_proxy_mode_iptables_reads_the_iptables_rules(scenario: Scenario) -> None:
    hello_scenario(scenario)
    scenario.cluster.set_proxy_config("ipvs")  # the ConfigMap says IPVS; the node runs iptables
    kc = str(scenario.kubeconfig())

    code, _, err = svcpath("hello-service", "--kubeconfig", kc)
    assert code == ExitCode.COLLECT_FAILED, err
    assert "ipvsadm" in one_error(err) and "--proxy-mode iptables" in hint_of(err)

    scenario.cluster.requests.clear()
    code, out, err = svcpath("hello-service", "--kubeconfig", kc, "--proxy-mode", "iptables")

    assert code == ExitCode.OK, err
    assert out.startswith("port-v1 39090/TCP → 1 of 1 endpoint (ready)"), out
    assert "Rules:    iptables (nf_tables) mode, node cp01" in out
    assert scenario.cluster.execs() == [["iptables-save", "-c"]]
    scenario.assert_read_only()


def test_an_unread_configmap_is_not_called_unconfigured(scenario: Scenario) -> None:
    hello_scenario(scenario)
    scenario.cluster.faults.forbidden_paths = [r"/configmaps/kube-proxy$"]

    code, out, err = svcpath("hello-service", "--kubeconfig", str(scenario.kubeconfig()), "-o", "wide")

    assert code == ExitCode.OK, err
    notes = " ".join(ln.strip() for ln in out.splitlines() if ln.startswith(("Note:", "    ")))
    assert "could not read ConfigMap kube-system/kube-proxy" in notes, out
    assert "not configured explicitly" not in out
    scenario.assert_read_only()


def test_a_configured_mode_whose_table_holds_no_service_gives_way_to_the_rules_that_do(scenario: Scenario) -> None:
    """The ConfigMap says IPVS; the node has ip_vs but an empty IPVS table, and kube-proxy's iptables-mode chains
    (a pod started before the ConfigMap changed). It said 'FAIL: service-not-programmed' for every port, exit 3, and
    'ipvs-deprecated': the configured mode taken over the rules. Now the rules' mode is read, with a note that the
    two disagree."""
    node = hello_scenario(scenario)
    scenario.cluster.set_proxy_config("ipvs")
    replay = scenario.cluster.replay
    replay[node.ns, ("ipvsadm", "-Ln")] = (b"IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler "
                                           b"Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n")
    replay[node.ns, ("ipvsadm", "-Ln", "--stats", "--exact")] = (
        b"IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port               Conns   InPkts  OutPkts  "
        b"InBytes OutBytes\n  -> RemoteAddress:Port\n")
    replay[node.ns, ("ipset", "list")] = b""

    code, out, err = svcpath("hello-service", "--kubeconfig", str(scenario.kubeconfig()))

    assert code == ExitCode.OK, err + out
    assert out.startswith("port-v1 39090/TCP → 1 of 1 endpoint (ready)"), out
    assert "Rules:    iptables (nf_tables) mode, node cp01" in out
    assert ('Note:     ConfigMap kube-system/kube-proxy key config.conf says proxy mode "ipvs", but the node\'s ipvs rules '
            "hold no Service and its iptables rules do: read as iptables mode (kube-proxy takes its mode when it starts: "
            "a pod started before the configuration changed keeps its own)") in out
    assert "ipvs-deprecated" not in out and "service-not-programmed" not in out
    scenario.assert_read_only()
