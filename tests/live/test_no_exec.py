"""A report without exec (issue 10): when the node's rules cannot be read, show what the API holds.

Exec forbidden, no kube-proxy pod, exec failing: the ports, addresses, node ports, EndpointSlice
endpoints with their conditions and the chosen node are printed, the rules are marked "not read"
with the reason and its hint, and the exit code is that failure's documented one. -o json keeps
the shape of a full report, with the rules part null.
"""

from __future__ import annotations

import json

import pytest
import yaml

from kubectl_svcpath.errors import ExitCode
from tests.conftest import svcpath
from tests.fakeapi.server import FakeApiServer
from tests.live.conftest import Scenario, hello_scenario
from tests.live.test_faults import no_lab_hello, one_error

pytestmark = pytest.mark.api


def _keys(doc: object, path: str = "") -> set[str]:
    """Every key path of a document (list items merged), to compare shapes."""
    out: set[str] = set()
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.add(f"{path}.{k}")
            out |= _keys(v, f"{path}.{k}")
    elif isinstance(doc, list):
        for item in doc:
            out |= _keys(item, f"{path}[]")
    return out


@pytest.mark.lab
def test_exec_forbidden_gives_the_api_view_with_the_rules_not_read(scenario: Scenario):
    hello_scenario(scenario)
    kc = str(scenario.kubeconfig())
    code, full_json, err = svcpath("hello-service", "-o", "json", "--kubeconfig", kc)
    assert code == 0, err
    scenario.cluster.faults.exec_forbidden = True

    code, out, err = svcpath("hello-service", "--kubeconfig", kc)

    assert code == ExitCode.FORBIDDEN == 5
    assert 'cannot create resource "pods/exec"' in one_error(err)
    lines = out.splitlines()
    assert lines[0].startswith("Service:  default/hello-service  type NodePort  cluster IP 10.101.173.15")
    assert lines[1].startswith("Rules:    NOT READ on node cp01: forbidden: cannot exec into pod")
    assert "kubectl auth can-i create pods/exec -n kube-system" in lines[2]
    rows = [ln.split() for ln in lines if ln.startswith(("port-v1", "port-v2"))]
    assert rows == [["port-v1", "39090/TCP", "10.101.173.15:39090", "30725", "192.168.189.15:9090", "yes", "yes", "no", "cp01"],
                    ["port-v2", "49191/TCP", "10.101.173.15:49191", "31576", "192.168.189.15:9191", "yes", "yes", "no", "cp01"]]
    assert "were not read" in out

    code, partial_json, _ = svcpath("hello-service", "-o", "json", "--kubeconfig", kc)
    assert code == 5
    full, partial = json.loads(full_json), json.loads(partial_json)
    # the same shape: the rules part is null instead of filled, and rulesNotRead says why
    assert {k for k in _keys(partial) if not k.startswith(".rulesNotRead.")} <= _keys(full)
    assert set(partial) == set(full) and set(partial["ports"][0]) == set(full["ports"][0])
    assert full["rulesRead"] is True and partial["rulesRead"] is False
    assert partial["rulesNotRead"]["exitCode"] == 5 and "pods/exec" in partial["rulesNotRead"]["message"]
    assert (partial["node"], partial["proxyMode"], partial["counters"]) == ("cp01", None, None)
    for p in partial["ports"]:
        assert (p["paths"], p["missingEndpoints"], p["serviceChain"]) == (None, None, None)
    assert [p["sliceEndpoints"] for p in partial["ports"]] == [p["sliceEndpoints"] for p in full["ports"]]
    assert partial["ports"][0]["sliceEndpoints"][0] == {"ip": "192.168.189.15", "port": 9090, "ready": True, "serving": True,
                                                        "terminating": False, "node": "cp01", "pod": "hello-service-0"}
    scenario.assert_read_only()


@pytest.mark.parametrize("setup,code,words", [
    ({"kube_proxy": False}, ExitCode.NOT_FOUND, 'no kube-proxy pod on node "cp01"'),
    ({"missing": {"iptables", "iptables-save"}}, ExitCode.COLLECT_FAILED, '"iptables-save" is not in the container'),
])
def test_no_pod_or_failing_exec_still_shows_the_api_view(api, tmp_path, setup, code, words):
    no_lab_hello(api, **({"kube_proxy": False} if "kube_proxy" in setup else {}))
    api.cluster.faults.missing_binaries = setup.get("missing", set())

    got, out, err = svcpath("hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")), "-o", "yaml")

    assert got == code
    assert words in one_error(err)
    doc = yaml.safe_load(out)
    assert doc["rulesRead"] is False and words in doc["rulesNotRead"]["message"]
    assert doc["rulesNotRead"]["exitCode"] == code and doc["node"] == "cp01"
    assert [len(p["sliceEndpoints"]) for p in doc["ports"]] == [1, 1]


@pytest.mark.api
def test_the_api_view_fits_an_80_column_terminal(api, tmp_path):
    """It printed READY SERVING TERMINATING NODE past the 80th column and a LoadBalancer's addresses on one
    line ("10.96.0.50:443, 192.0.2.7:443, 203.0.113.10:443"), each row wrapped in two."""
    from tests.lab import kpgen
    from tests.terminal import in_tmux

    lb = kpgen.ServiceSpec("shop", "lb", "10.96.0.50", [kpgen.PortSpec("https", 443, 8443, node_port=30443)],
                           endpoints=["10.244.1.10", "10.244.2.10"], type="LoadBalancer", lb_ips=["203.0.113.10"],
                           external_ips=["192.0.2.7"])
    api.cluster.add_node("cp01", netns=None)
    api.cluster.add_objects(kpgen.api_objects(lb, node_of={"10.244.1.10": "cp01", "10.244.2.10": "w1"}))
    api.cluster.set_proxy_config("")
    api.cluster.faults.exec_forbidden = True

    lines = in_tmux(["lb", "-n", "shop", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc"))], 80)

    screen = "\n".join(lines)
    # the report fits; the error line on stderr after it is left to the terminal to wrap, as kubectl's are
    # (whole, it can be searched for and pasted)
    report = lines[:next(i for i, ln in enumerate(lines) if ln.startswith("error: "))]
    assert all(len(ln) <= 80 for ln in report) and "Rules:    NOT READ on node cp01" in screen, screen
    head = next(i for i, ln in enumerate(lines) if ln.startswith("PORT"))
    assert [ln.split() for ln in lines[head:head + 4]] == [
        ["PORT", "ADDRESSES", "NODE-PORT", "ENDPOINT", "STATE", "NODE"],
        ["https", "443/TCP", "10.96.0.50:443", "30443", "10.244.1.10:8443", "ready", "cp01"],
        ["192.0.2.7:443", "10.244.2.10:8443", "ready", "w1"],
        ["203.0.113.10:443"]], screen
    assert lines[head + 4] == "(-o wide shows READY, SERVING and TERMINATING apart)", screen


def test_the_api_view_leaves_out_the_endpoints_node_when_its_state_column_is_not_enough(api: FakeApiServer, tmp_path):
    """hello-service without its rules (no kube-proxy pod on a k3s node, exec denied …) printed an 83-column table in
    an 80-column terminal, each row wrapped in two, though the conditions already shared one STATE column."""
    from tests.terminal import in_tmux

    no_lab_hello(api)
    api.cluster.faults.exec_forbidden = True
    lines = in_tmux(["hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc"))], 80)
    report = lines[:next(i for i, ln in enumerate(lines) if ln.startswith("error: "))]
    assert all(len(ln) <= 80 for ln in report), "\n".join(lines)
    head = next(i for i, ln in enumerate(lines) if ln.startswith("PORT"))
    assert [ln.split() for ln in lines[head:head + 3]] == [
        ["PORT", "ADDRESSES", "NODE-PORT", "ENDPOINT", "STATE"],
        ["port-v1", "39090/TCP", "10.101.173.15:39090", "30725", "192.168.189.15:9090", "ready"],
        ["port-v2", "49191/TCP", "10.101.173.15:49191", "31576", "192.168.189.15:9191", "ready"]], "\n".join(lines)
    assert lines[head + 3] == "(-o wide adds NODE, and shows READY, SERVING and TERMINATING apart)"
