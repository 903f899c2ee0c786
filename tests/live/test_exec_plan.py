"""The listings run per node: `iptables --version` only when the save's header does not tell it.

The header of `iptables-save` in the kube-proxy pod names the same install's version and, from
1.8.8 on (or by the tool's name), its backend; these tests prove on the real binaries, through the
fake API server's real exec, that the report is the same as with `iptables --version` run.
"""

from __future__ import annotations

import dataclasses

import pytest

from kubectl_svcpath import live, pipeline
from kubectl_svcpath.collect import kube_proxy_pod as kpp
from kubectl_svcpath.kube import exec as kexec
from kubectl_svcpath.kube.client import connect, one_line
from kubectl_svcpath.manifest import snapshot_from_objects
from kubectl_svcpath.render import render_report
from kubectl_svcpath.render.text import Style
from tests.live.conftest import Scenario, hello_scenario


def _request(kubeconfig) -> live.LiveRequest:
    return live.LiveRequest(service="hello-service", namespace=None, kubeconfig=str(kubeconfig), context=None,
                            request_timeout=20.0, node=None, all_nodes=False)


def _reports(got: live.LiveGathered, coll) -> tuple[str, str]:
    snapshot = snapshot_from_objects(got.objects, got.namespace, "hello-service")
    report = pipeline.analyse(snapshot, pipeline.parse_collection(coll), coll)
    return render_report(report, "text", Style(), 100), render_report(report, "json", Style())


@pytest.mark.lab
@pytest.mark.api
@pytest.mark.parametrize("backend", ["nft", "legacy"])
def test_the_save_header_gives_what_iptables_version_gives(scenario: Scenario, backend: str):
    hello_scenario(scenario, backend)

    got = live.gather(_request(scenario.kubeconfig()))

    assert [tuple(a) for a in scenario.cluster.execs()] == [("iptables-save", "-c")]
    coll = got.nodes[0].collection
    pod = coll.pod.split("/")[1]
    kube = connect(str(scenario.kubeconfig()), timeout=20.0)
    try:  # what the dropped exec would have said, run the same way in the same pod
        version = kexec.run(kube, pod, "kube-system", "kube-proxy", ["iptables", "--version"]).stdout
    finally:
        kube.close()
    assert (coll.writer_version, coll.backend) == (one_line(version), kpp.backend_of(version))
    with_exec = dataclasses.replace(coll, writer_version=one_line(version), backend=kpp.backend_of(version))
    text, doc = _reports(got, coll)
    assert (text, doc) == _reports(got, with_exec)
    assert f"iptables ({'nf_tables' if backend == 'nft' else 'legacy'})" in text
    scenario.assert_read_only()


@pytest.mark.lab
@pytest.mark.api
def test_without_a_header_iptables_version_still_runs(scenario: Scenario):
    """No legacy table on the node: `iptables-save -c` prints nothing, so the version exec tells the backend."""
    scenario.node("cp01", None, backend="legacy")
    scenario.cluster.set_proxy_config("")
    pod = next(name for kind, _, name in scenario.cluster.objects if kind == "Pod")
    kube = connect(str(scenario.kubeconfig()), timeout=20.0)
    try:
        (proxy_pod,) = kpp.find_pods(kube)["cp01"]
        coll = kpp.collect(kube, proxy_pod, kpp.ModeInfo("iptables", None), (4,))
    finally:
        kube.close()

    assert proxy_pod.name == pod
    # (a save holding no Service has kube-proxy's nftables table listed beside it: the node may run nftables mode)
    assert [tuple(a) for a in scenario.cluster.execs()] == [("iptables-save", "-c"), ("nft", "-j", "list", "table", "ip", "kube-proxy"),
                                                            ("iptables", "--version")]
    assert coll.dumps[0].text.strip() == ""
    assert (coll.writer_version, coll.backend) == ("iptables v1.8.9 (legacy)", "legacy")
    scenario.assert_read_only()
