"""Issue 10 acceptance, live: a healthy run in an 80-column terminal (tmux) opens with the verdict
and fits in 25 lines."""

from __future__ import annotations

import pytest

from tests.lab import kpgen
from tests.live.conftest import Scenario, hello_scenario
from tests.live.test_faults import no_lab_hello
from tests.terminal import in_tmux


@pytest.mark.lab
@pytest.mark.api
def test_healthy_live_run_fits_the_first_screen(scenario: Scenario):
    node = hello_scenario(scenario)
    scenario.lab.connect(node, "10.101.173.15", 39090, n=3)

    lines = in_tmux(["hello-service", "--kubeconfig", str(scenario.kubeconfig())], 80)

    assert lines[0].startswith("port-v1 39090/TCP → 1 of 1 endpoint (ready), 3 pkts — OK"), "\n".join(lines)
    assert any(ln.startswith("port-v2 49191/TCP → 1 of 1 endpoint (ready), 0 pkts — OK") for ln in lines[1:3])
    assert len(lines) <= 25 and all(len(ln) <= 80 for ln in lines), "\n".join(lines)
    assert any(ln.startswith("Rules:    iptables (nf_tables) mode, node cp01") for ln in lines)
    scenario.assert_read_only()


@pytest.mark.api
@pytest.mark.parametrize("args,first", [
    (["nosuch"], 'error: service "nosuch" in namespace "default" not found'),
    (["hello-service", "--node", "nosuch"], 'error: node "nosuch" not found'),
])
def test_an_error_after_the_progress_line_starts_its_own_line(api, tmp_path, args, first):
    """On a terminal the progress line ("reading service default/nosuch") has no newline: an error must
    erase it, not be glued to its end ("reading service default/nosucherror: ...")."""
    no_lab_hello(api)

    lines = in_tmux([*args, "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc"))], 80)

    assert lines[0].startswith(first), "\n".join(lines)
    assert lines[1].startswith("hint: ") and "reading" not in " ".join(lines), "\n".join(lines)


GKE_NODE = "gke-my-production-cluster-high-mem-pool-5f3a9c1e-abcd"  # (GKE: cluster, pool, group hash, suffix)


@pytest.mark.api
@pytest.mark.parametrize("args", [["hello-service"], ["hello-service", "--all-nodes"]])
def test_a_progress_line_wider_than_the_terminal_leaves_nothing_behind(api, tmp_path, args):
    """"reading kube-proxy's rules on node gke-…-abcd" is 88 columns: the terminal wrapped it, and erasing the
    line erased only its last row, so the report opened under 'reading kube-proxy's rules on node gke-my-pro…'."""
    no_lab_hello(api, nodes=(GKE_NODE, "w1"))
    api.cluster.replay[("", ("iptables-save", "-c"))] = kpgen.generate([kpgen.hello_service()], kpgen.HELLO_CONFIG).encode()

    lines = in_tmux([*args, "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc"))], 80)

    first = f"=== node {GKE_NODE} ===" if "--all-nodes" in args else "port-v1 39090/TCP → 1 of 1 endpoint (ready)"
    assert lines[0].startswith(first), "\n".join(lines)
    assert not any("reading" in ln or ln.startswith("[") for ln in lines), "\n".join(lines)
