"""The test-only rule generator writes what kube-proxy writes (the lab's rules are only as good as it)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from kubectl_svcpath import kubeproxy
from tests.lab import kpgen
from tests.lab.kpgen import PortSpec, ProxyConfig, ServiceSpec

SHARED = Path("/work/shared")
HELLO_INPUT = SHARED / "examples/hello-service/kube-proxy-restore-input.txt"
UPSTREAM = SHARED / "dumps/upstream-iptables-proxier-test-TestOverallIPTablesRules.txt"
BUNDLED_HELLO = Path(__file__).resolve().parents[2] / "kubectl_svcpath/examples/hello-service/kube-proxy-restore-input.txt"


def read_shared(path: Path) -> str:
    if not path.exists():
        if path == HELLO_INPUT and BUNDLED_HELLO.exists():
            return BUNDLED_HELLO.read_text()
        pytest.skip(f"{path} not present")
    return path.read_text()


def by_chain(text: str) -> dict[tuple[str, str], list[list[str]]]:
    """table/chain -> its rules in order, each tokenised like iptables-restore does (quotes removed)."""
    out: dict[tuple[str, str], list[list[str]]] = {}
    table = None
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith(":"):
            out.setdefault((table, line[1:].split()[0]), [])
        elif line.startswith("-A "):
            tokens = shlex.split(line)
            out.setdefault((table, tokens[1]), []).append(tokens)
    return out


def upstream_services() -> list[ServiceSpec]:
    """The six Services of kube-proxy's TestOverallIPTablesRules (shared/dumps/INDEX.md)."""
    p80 = lambda node_port=None: [PortSpec("p80", 80, 80, node_port=node_port)]  # noqa: E731
    return [
        ServiceSpec("ns1", "svc1", "172.30.0.41", p80(), endpoints=["10.180.0.1"]),
        ServiceSpec("ns2", "svc2", "172.30.0.42", p80(3001), endpoints=["10.180.0.2"], local_endpoints=set(),
                    type="LoadBalancer", external_ips=["192.168.99.22"], lb_ips=["1.2.3.4"],
                    external_traffic_policy="Local", health_check_node_port=30000),
        ServiceSpec("ns3", "svc3", "172.30.0.43", p80(3003), endpoints=["10.180.0.3"], type="NodePort"),
        ServiceSpec("ns4", "svc4", "172.30.0.44", p80(), endpoints=["10.180.0.4", "10.180.0.5"],
                    external_ips=["192.168.99.33"]),
        ServiceSpec("ns5", "svc5", "172.30.0.45", p80(3002), endpoints=["10.180.0.3"], type="LoadBalancer",
                    lb_ips=["5.6.7.8"], source_ranges=["203.0.113.0/25"], affinity_seconds=10800),
        ServiceSpec("ns6", "svc6", "172.30.0.46", p80()),
    ]


def test_hello_service_rules_match_the_seed_example():
    ours = by_chain(kpgen.generate([kpgen.hello_service()], kpgen.HELLO_CONFIG))
    theirs = by_chain(read_shared(HELLO_INPUT))
    nat_ours = {k: v for k, v in ours.items() if k[0] == "nat"}
    assert nat_ours == theirs


def test_upstream_overall_rules_match_rule_for_rule():
    text = kpgen.generate(upstream_services(), ProxyConfig(nfacct=True))
    assert by_chain(text) == by_chain(read_shared(UPSTREAM))


def test_chain_names_agree_with_the_core_naming():
    for spn, proto, ip, port in [("default/hello-service:port-v1", "TCP", "192.168.189.15", 9090),
                                 ("default/nginx", "TCP", "10.64.2.4", 80),
                                 ("ns", "UDP", "fd00::1", 53)]:
        assert kpgen.service_chains(spn, proto) == {k: v for k, v in kubeproxy.service_chains(spn, proto).items()
                                                    if k != "xlb"}
        assert kpgen.endpoint_chain(spn, proto, ip, port) == kubeproxy.endpoint_chain(spn, proto, ip, port)
        assert kubeproxy.endpoint_chains(spn, proto, [(ip, port), (ip, 1)]) == [
            kpgen.endpoint_chain(spn, proto, ip, port), kpgen.endpoint_chain(spn, proto, ip, 1)]


def test_probabilities_are_one_over_remaining_with_ten_decimals():
    spec = ServiceSpec("ns", "three", "10.96.0.3", [PortSpec("", 80, 8080)],
                       endpoints=["10.244.0.1", "10.244.0.2", "10.244.0.3"])
    text = kpgen.generate([spec])
    assert re.findall(r"--probability (\S+)", text) == ["0.3333333333", "0.5000000000"]
    # unnamed port: no colon in the service port name
    assert '--comment "ns/three -> 10.244.0.1:8080"' in text


def test_large_cluster_mode_drops_endpoint_comments_only():
    text = kpgen.generate_cluster(120, 10)  # 1,200 endpoints > 1,000
    sep_rules = [line for line in text.splitlines() if line.startswith("-A KUBE-SEP-")]
    svc_jumps = [line for line in text.splitlines() if line.startswith("-A KUBE-SVC-") and "KUBE-SEP-" in line]
    assert len(sep_rules) == 2 * 1200 and len(svc_jumps) == 1200
    assert not any("--comment" in line for line in sep_rules + svc_jumps)
    assert text.count('cluster IP" -m tcp') == 2 * 120  # KUBE-SERVICES and the masquerade rule keep theirs


def test_benchmark_cluster_has_the_announced_shape():
    lines = kpgen.generate_cluster(10_000, 10).splitlines()
    assert sum(1 for line in lines if line.startswith(":KUBE-SVC-")) == 10_000
    assert sum(1 for line in lines if line.startswith(":KUBE-SEP-")) == 100_000
    assert sum(1 for line in lines if line.startswith("-A KUBE-NODEPORTS ")) == 1_000
    services = [line for line in lines if line.startswith("-A KUBE-SERVICES ")]
    assert len(services) == 10_001 and services[-1].endswith("-j KUBE-NODEPORTS")


DERIVED = SHARED / "dumps/derived-netns-iptables-nft-save-from-upstream-TestOverallIPTablesRules.txt"


def _canonical(save_text: str) -> list[str]:
    """iptables-save output without its timestamp comments and counters."""
    return [re.sub(r"^\[\d+:\d+\] ", "", line) for line in save_text.splitlines() if not line.startswith("#")]


@pytest.mark.lab
@pytest.mark.parametrize("backend", ["nft", "legacy"])
def test_generated_rules_load_and_print_back_like_the_real_tools(backend):
    """Loaded by real iptables-restore, printed by real iptables-save: the derived dump, line for line."""
    from tests.lab.netns import Lab, skip_or_fail, unavailable_reason

    reason = unavailable_reason()
    if reason:
        skip_or_fail(reason)
    # the derived dump is what kube-proxy writes when the kernel has no nfacct
    text = kpgen.generate(upstream_services(), ProxyConfig(nfacct=False))
    with Lab() as lab:
        node = lab.add_node("kp")
        lab.load_iptables(node, text, backend=backend)
        saved = lab.save(node)
    expected = _canonical(read_shared(DERIVED))
    got = _canonical(saved)
    if backend == "legacy":  # legacy prints the tables in the other order and every built-in chain
        builtin = re.compile(r"^:(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) ")
        assert sorted(x for x in got if not builtin.match(x)) == sorted(x for x in expected if not builtin.match(x))
    else:
        assert got == expected
