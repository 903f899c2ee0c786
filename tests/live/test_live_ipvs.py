"""IPVS mode live, where the kube-proxy image has no ipvsadm.

Upstream's kube-proxy image (kubernetes/release images/build/distroless-iptables) stages iptables,
ipset, nft, kmod and cat, not ipvsadm: `ipvsadm -Ln --stats --exact` cannot start in the pod. The
kernel's own listing, /proc/net/ip_vs, holds the same virtual and real servers (in hex): the plugin
reads it with `cat` (on the allow-list) and says what that listing lacks.

The iptables half of IPVS mode is real: its ipsets are created and its rules restored in the node's
namespace. This machine's kernel has no IPVS (tests/fixtures/ipvs/README.md), so /proc/net/ip_vs does
not exist in the lab: the success case replays the kernel's listing (rendered with
ip_vs_info_seq_show's formats) through the API server's exec; the failure case runs the real `cat`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kubectl_svcpath.errors import ExitCode
from tests.conftest import svcpath
from tests.lab import kpgen
from tests.live.conftest import Scenario
from tests.live.test_faults import hint_of, one_error

pytestmark = pytest.mark.lab

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "ipvs"
PROC = ("cat", "/proc/net/ip_vs")
IPVSADM = ["ipvsadm", "-Ln", "--stats", "--exact"]
# kube-proxy's ipsets that the iptables half matches (ipset names and types of pkg/proxy/ipvs)
IPSETS = (("KUBE-CLUSTER-IP", "hash:ip,port"), ("KUBE-LOOP-BACK", "hash:ip,port,ip"),
          ("KUBE-NODE-PORT-TCP", "bitmap:port", "range", "0-65535"))


def ipvs_node(scenario: Scenario) -> str:
    """hello-service on node cp01 in IPVS mode: the ipsets and iptables rules kube-proxy writes there,
    and a kube-proxy pod whose image lacks ipvsadm."""
    node = scenario.node("cp01", command=["kube-proxy", "--proxy-mode=ipvs"])
    for name, kind, *extra in IPSETS:
        scenario.lab.run(node, ["ipset", "create", name, kind, *extra])
    scenario.lab.load_iptables(node, (FIX / "hello-iptables-save.txt").read_text(), counters=True)
    scenario.cluster.add_objects(kpgen.api_objects(kpgen.hello_service(), node_of={"192.168.189.15": "cp01"}))
    scenario.cluster.faults.missing_binaries = {"ipvsadm"}
    scenario.snapshot_rules()
    return node.ns


def test_ipvs_without_ipvsadm_reads_the_kernels_listing(scenario: Scenario):
    ns = ipvs_node(scenario)
    scenario.cluster.replay[(ns, PROC)] = (FIX / "hello-proc-net-ip_vs.txt").read_bytes()
    code, out, err = svcpath("hello-service", "--kubeconfig", str(scenario.kubeconfig()))
    assert code == 0, err
    assert "Traceback" not in err
    # each port's virtual servers and real server, decoded from the kernel's hex
    assert "TCP 10.101.173.15:39090" in out and "192.168.189.15:9090" in out
    assert "TCP 10.101.173.15:49191" in out and "192.168.189.15:9191" in out
    assert "0A65AD0F" not in out.split("Note:")[0]  # (the hex is in the evidence, not in the table)
    flat = " ".join(out.split())
    assert "the kube-proxy image has no `ipvsadm`: the IPVS table was read with `cat /proc/net/ip_vs`" in flat
    assert "no packet counters" in flat and "/proc/net/ip_vs listing (addresses and ports in hex)" in flat
    assert "counters not in the input" in out
    execs = [tuple(a) for a in scenario.cluster.execs()]
    # each listing once: the save and the two ipvsadm listings side by side, then the kernel's listing
    assert sorted(execs) == sorted([("iptables-save", "-c"), tuple(IPVSADM), ("ipvsadm", "-Ln"), PROC])
    assert flat.count("has no `ipvsadm`") == 1 and flat.count("addresses and ports in hex") == 1
    scenario.assert_read_only()


def test_ipvs_without_ipvsadm_or_proc_listing_is_one_clear_error(scenario: Scenario):
    ipvs_node(scenario)  # (no replay: the real `cat /proc/net/ip_vs` fails, the lab's kernel has no IPVS)
    code, out, err = svcpath("hello-service", "--kubeconfig", str(scenario.kubeconfig()))
    assert code == ExitCode.COLLECT_FAILED
    assert '"ipvsadm" is not in the container' in one_error(err) and "/proc/net/ip_vs could not be read" in one_error(err)
    assert "pass both outputs with --rules-file" in hint_of(err) and "--local" not in hint_of(err)
    execs = [tuple(a) for a in scenario.cluster.execs()]
    assert tuple(IPVSADM) in execs and PROC in execs
    scenario.assert_read_only()


def test_ipvs_reads_counters_and_weights(scenario: Scenario):
    """An image with ipvsadm: --stats gives each hop's counters, -Ln the weights and scheduler (the
    kernel's listings replayed: this kernel has no IPVS)."""
    ns = ipvs_node(scenario)
    scenario.cluster.faults.missing_binaries = set()
    scenario.cluster.replay[(ns, tuple(IPVSADM))] = (FIX / "hello-ipvsadm-Ln-stats-exact.txt").read_bytes()
    scenario.cluster.replay[(ns, ("ipvsadm", "-Ln"))] = (FIX / "hello-ipvsadm-Ln.txt").read_bytes()
    code, out, err = svcpath("hello-service", "--kubeconfig", str(scenario.kubeconfig()))
    assert code == 0, err
    flat = " ".join(out.split())
    assert "192.168.189.15:9090 w1" in out  # the weight, from -Ln
    assert "no ipvsadm -Ln listing" not in flat and "no ipvsadm --stats listing" not in flat
    assert "counters not in the input" not in out
    execs = [tuple(a) for a in scenario.cluster.execs()]
    assert sorted(execs) == sorted([("iptables-save", "-c"), tuple(IPVSADM), ("ipvsadm", "-Ln")])
    scenario.assert_read_only()
