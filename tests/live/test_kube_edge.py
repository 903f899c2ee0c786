"""The pure parts of the live edge: the exec allow-list, exec status, mode detection, output checks,
error translation (fed the client's real exception types) and the RBAC the plugin documents."""

from __future__ import annotations

import json

import pytest
import yaml

from kubectl_svcpath.collect import kube_proxy_pod as kpp
from kubectl_svcpath.errors import ApiUnreachable, BadDump, CollectFailed, Forbidden, NotFound, Unsupported
from kubectl_svcpath.kube.client import Call, one_line, translate
from kubectl_svcpath.kube.exec import ALLOWED, exec_status, is_allowed
from kubectl_svcpath.live import endpoint_nodes, families_of
from kubectl_svcpath.rbac import rbac_yaml
from tests.conftest import svcpath
from tests.live.conftest import Scenario, hello_scenario

# --- allow-list ---------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", sorted(ALLOWED) + [
    ["conntrack", "-L"],
    ["conntrack", "-L", "-p", "tcp", "--orig-port-dst", "39090"],
    ["conntrack", "-L", "-d", "10.101.173.15", "-f", "ipv4"],
    ["conntrack", "-L", "--orig-dst", "fd00::10", "-o", "extended"],
])
def test_read_only_listings_are_allowed(argv):
    assert is_allowed(argv)


@pytest.mark.parametrize("argv", [
    [], ["sh", "-c", "iptables-save -c"], ["iptables-save"], ["iptables-save", "-c", "-t", "mangle", "-M", "x"],
    ["iptables-restore"], ["iptables", "-F"], ["iptables", "-t", "nat", "-L"],  # -L creates tables
    ["iptables-save", "-c", ";", "reboot"], ["nft", "flush", "ruleset"], ["nft", "-j", "list", "ruleset"],
    ["nft", "-f", "/tmp/x"], ["ipvsadm", "-C"], ["ipvsadm", "-Ln", "--stats", "--exact", "-C"],
    ["conntrack", "-D"], ["conntrack", "-F"], ["conntrack", "-L", "-D"], ["conntrack", "-L", "-p"],
    ["conntrack", "-L", "-p", "tcp;rm"], ["conntrack", "-E"], ["/usr/sbin/iptables-save", "-c"],
    ["ipset", "flush"], ["ipset", "destroy"], ["ipset", "list", "KUBE-CLUSTER-IP"], ["ipset", "save"],
    ["ipset", "restore"], ["ipset", "-exist", "list"], ["ipset", "list", "-file", "/tmp/x"],
])
def test_anything_else_is_refused(argv):
    assert not is_allowed(argv)


@pytest.mark.parametrize("raw,expected", [
    ('{"metadata":{},"status":"Success"}', (0, "")),
    (json.dumps({"status": "Failure", "reason": "NonZeroExitCode", "message": "exit code 3",
                 "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}}), (3, "exit code 3")),
    (json.dumps({"status": "Failure", "reason": "InternalError", "message": "OCI runtime exec failed"}),
     (None, "OCI runtime exec failed")),
    (json.dumps({"status": "Failure", "reason": "NonZeroExitCode", "message": "odd"}), (None, "odd")),  # no causes
    ("", (None, "")),
    ("not json\x1b[0m", (None, "not json[0m")),
])
def test_exec_status_channel(raw, expected):
    assert exec_status(raw) == expected


def test_one_line_strips_control_characters_and_shortens():
    assert one_line("\n\x1b[31mred\x07 text\r\nmore") == "[31mred text"
    assert len(one_line("x" * 500)) == 200


# --- proxy mode, listings, output checks ---------------------------------------------------------

@pytest.mark.parametrize("text,mode", [
    ('kind: KubeProxyConfiguration\nmode: ""\n', ""), ("mode: ipvs\n", "ipvs"), ("mode:\n", ""),
    ("iptables:\n  mode: nope\nmode: nftables\n", "nftables"), ("kind: KubeProxyConfiguration\n", None),
    ("mode: iptables\nclusterCIDR: [10.0.0.0/8\n", "iptables"),  # not YAML: the plain match still finds it
])
def test_mode_from_the_kube_proxy_config(text, mode):
    assert kpp.mode_from_config(text) == mode


_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{b}: &{b} [*{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}]\n" for a, b in zip("abcdefgh", "bcdefghi"))


@pytest.mark.parametrize("tail,mode,node_ports", [
    ("mode: *i\nnodePortAddresses: *i\n", None, None),  # 10^9 items once expanded: no answer, at once
    ("mode: [ipvs]\nnodePortAddresses: [10.0.0.0/8, 5]\n", None, None),
    ("mode: 5\nnodePortAddresses: [10.0.0.0/8, primary]\n", "5", ("10.0.0.0/8", "primary")),
])
def test_a_config_of_other_kinds_is_no_answer_not_a_hang(tail, mode, node_ports):
    """The kube-proxy ConfigMap is an API answer, untrusted like any: a mode or nodePortAddresses that is a
    YAML alias to a nested list ('billion laughs') was expanded by str(); a list where a string belongs is
    no answer (the mode is then taken from the pod's flags or the rules)."""
    assert kpp.mode_from_config(_LAUGHS + tail) == mode
    assert kpp.node_port_addresses_from_config(_LAUGHS + tail) == node_ports


def test_mode_from_flags_and_which_source_wins():
    assert kpp.mode_from_command(["kube-proxy", "--proxy-mode=ipvs"]) == "ipvs"
    assert kpp.mode_from_command(["kube-proxy", "--proxy-mode", "nftables"]) == "nftables"
    assert kpp.mode_from_command(["kube-proxy", "--v=2"]) is None
    pod = kpp.ProxyPod("kp", "kube-system", "n1", "kube-proxy", "Running", False,
                       ["kube-proxy", "--config=/c.conf", "--proxy-mode=ipvs"])
    assert kpp.decide_mode("", pod, []).mode == "iptables"  # the pod reads the ConfigMap
    pod.command = ["kube-proxy", "--proxy-mode=ipvs"]
    got = kpp.decide_mode("", pod, [])
    assert (got.mode, got.source) == ("ipvs", "pod kube-system/kp flag --proxy-mode")
    pod.command = ["kube-proxy"]
    assert kpp.decide_mode(None, pod, []).mode is None
    with pytest.raises(Unsupported, match='proxy mode "kernelspace"'):
        kpp.decide_mode("kernelspace", pod, [])


def test_listings_per_mode_and_family():
    assert kpp.commands_for("iptables", (4,)) == [(["iptables-save", "-c"], True)]
    assert kpp.version_listing((4, 6)) == ["iptables", "--version"] and kpp.version_listing((6,)) == ["ip6tables", "--version"]
    assert kpp.commands_for("iptables", (4, 6))[-1] == (["ip6tables-save", "-c"], True)
    assert kpp.commands_for("nftables", (6,)) == [(["nft", "-j", "list", "table", "ip6", "kube-proxy"], True)]
    # IPVS: the save first (required), the two ipvsadm listings beside it (one of them is needed: _take_listings)
    # and kube-proxy's ipsets, optional too (a note says what their absence costs)
    assert kpp.commands_for("ipvs", (4,)) == [(["iptables-save", "-c"], True), (["ipvsadm", "-Ln", "--stats", "--exact"], False),
                                               (["ipvsadm", "-Ln"], False), (["ipset", "list"], False)]
    assert (["nft", "-j", "list", "table", "ip", "kube-proxy"], False) in kpp.commands_for(None, (4,))
    for mode in ("iptables", "nftables", "ipvs", None):
        for fams in ((4,), (6,), (4, 6)):
            assert all(is_allowed(argv) for argv, _ in kpp.commands_for(mode, fams))


def test_truncated_output_is_detected():
    good = "*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n# Completed on Mon\n"
    kpp.check_output(["iptables-save", "-c"], good, "src")
    kpp.check_output(["iptables-save", "-c"], "", "src")  # no tables at all is an answer
    with pytest.raises(BadDump, match="ends before COMMIT: it was truncated"):
        kpp.check_output(["iptables-save", "-c"], good[:30], "src")
    kpp.check_output(["nft", "-j", "list", "table", "ip", "kube-proxy"], '{"nftables": []}', "src")
    with pytest.raises(BadDump, match="truncated"):
        kpp.check_output(["nft", "-j", "list", "table", "ip", "kube-proxy"], '{"nftables": [', "src")


def test_pod_choice_and_backend():
    mk = lambda name, phase, deleting=False: kpp.ProxyPod(name, "kube-system", "n1", "kube-proxy", phase, deleting)  # noqa: E731
    assert kpp.best_pod([mk("b", "Running", True), mk("c", "Pending"), mk("a", "Running")], "n1").name == "a"
    with pytest.raises(CollectFailed, match="is Pending"):
        kpp.best_pod([mk("c", "Pending")], "n1")
    with pytest.raises(NotFound, match='no kube-proxy pod on node "n1"'):
        kpp.best_pod([], "n1")
    assert kpp.backend_of("iptables v1.8.9 (nf_tables)\n") == "nf_tables"
    assert kpp.backend_of("iptables v1.8.4 (legacy)") == "legacy"
    assert kpp.backend_of("iptables v1.4.21") is None


def test_default_node_and_families():
    slices = [{"endpoints": [{"addresses": ["a"], "nodeName": "w2", "conditions": {"ready": True}},
                             {"addresses": ["b"], "nodeName": "w1", "conditions": {"ready": False}},
                             {"addresses": ["c"], "nodeName": "w3", "conditions": {}}]}]
    assert endpoint_nodes(slices) == ["w2", "w3"]
    assert families_of({"spec": {"clusterIPs": ["10.0.0.1", "fd00::1"]}}) == (4, 6)
    assert families_of({"spec": {"clusterIP": "None", "ipFamilies": ["IPv6"]}}) == (6,)
    assert families_of({"spec": {}}) == (4,)


# --- error translation, with the exception types the client really raises -----------------------

def test_translate_http_errors():
    from kubernetes.client.exceptions import ApiException

    svc = Call("get", "services", "web", "shop")
    e = ApiException(status=404, reason="Not Found")
    e.body = json.dumps({"kind": "Status", "message": 'services "web" not found', "reason": "NotFound"})
    got = translate(e, svc)
    assert isinstance(got, NotFound) and got.message == 'service "web" in namespace "shop" not found'
    e403 = ApiException(status=403, reason="Forbidden")
    e403.body = json.dumps({"message": 'services "web" is forbidden: User "bob" cannot get resource "services"'})
    got = translate(e403, svc)
    assert isinstance(got, Forbidden) and 'User "bob" cannot get' in got.message
    assert got.hint.startswith("kubectl auth can-i get services/web -n shop")
    hs = ApiException(status=0, reason='Handshake status 403 Forbidden -+-+- {"a": "b"} -+-+- '
                                        '{"kind":"Status","message":"pods \\"kp\\" is forbidden: cannot create pods/exec"}')
    got = translate(hs, Call("create", "pods/exec", "kp", "kube-system"))
    assert isinstance(got, Forbidden) and "cannot create pods/exec" in got.message
    assert "kubectl auth can-i create pods/exec -n kube-system" in got.hint
    got = translate(ApiException(status=401, reason="Unauthorized"), svc, server="https://x")
    assert isinstance(got, Forbidden) and got.message.startswith("unauthorized at https://x")
    got = translate(ApiException(status=503, reason="Service Unavailable"), svc)
    assert isinstance(got, ApiUnreachable) and "answered 503" in got.message


def test_translate_connection_errors():
    import urllib3

    pool = urllib3.HTTPSConnectionPool("127.0.0.1", 1)
    refused = urllib3.exceptions.MaxRetryError(pool, "/api", urllib3.exceptions.NewConnectionError(
        pool, "Failed to establish a new connection: [Errno 111] Connection refused"))
    got = translate(refused, Call("get", "services", "web", "default"), server="https://127.0.0.1:1")
    assert isinstance(got, ApiUnreachable)
    assert got.message == "cannot reach the API server at https://127.0.0.1:1: connection refused"
    slow = urllib3.exceptions.ReadTimeoutError(pool, "/api", "Read timed out. (read timeout=1)")
    got = translate(slow, Call("list", "pods", None, "kube-system"), timeout=1.0)
    assert got.message == 'request timed out after 1s: list pods in namespace "kube-system"'


# --- RBAC: what --print-rbac grants is exactly what a run uses ---------------------------------------

def _rules() -> list[tuple[str, str | None, dict]]:
    out = []
    for doc in yaml.safe_load_all(rbac_yaml()):
        ns = doc["metadata"].get("namespace") if doc["kind"] == "Role" else None
        out.extend((doc["kind"], ns, r) for r in doc["rules"])
    return out


def _allowed(verb: str, group: str, resource: str, namespace: str | None, name: str | None) -> bool:
    for kind, ns, rule in _rules():
        if kind == "Role" and ns != namespace:
            continue
        if group in rule["apiGroups"] and resource in rule["resources"] and verb in rule["verbs"]:
            if "resourceNames" not in rule or name in rule["resourceNames"]:
                return True
    return False


def test_rbac_is_a_cluster_role_and_a_kube_system_role_with_only_reads_and_exec():
    docs = list(yaml.safe_load_all(rbac_yaml()))
    assert [(d["kind"], d["metadata"].get("namespace")) for d in docs] == [("ClusterRole", None), ("Role", "kube-system")]
    verbs = {(r["resources"][0], v) for _, _, r in _rules() for v in r["verbs"]}
    assert verbs == {("services", "get"), ("services", "list"), ("endpointslices", "list"), ("nodes", "get"), ("nodes", "list"), ("pods", "list"),
                     ("configmaps", "get"), ("pods/exec", "create"), ("pods/exec", "get")}
    code, out, err = svcpath("--print-rbac")
    assert code == 0 and out == rbac_yaml()
    # read in an 80-column terminal before it is applied: comments ran to 181 columns
    assert not [line for line in out.splitlines() if len(line) > 80]


@pytest.mark.lab
@pytest.mark.api
def test_every_request_of_a_run_is_covered_by_the_printed_rbac(scenario: Scenario):
    hello_scenario(scenario)
    kc = str(scenario.kubeconfig())
    assert svcpath("hello-service", "--kubeconfig", kc)[0] == 0
    assert svcpath("hello-service", "--all-nodes", "--kubeconfig", kc)[0] == 0
    assert svcpath("--all", "--kubeconfig", kc)[0] == 0
    assert svcpath("--all", "-A", "--kubeconfig", kc)[0] == 0
    paths = set()
    for r in scenario.cluster.requests:
        parts = r.path.strip("/").split("/")
        group = "discovery.k8s.io" if parts[0] == "apis" else ""
        rest = parts[3:] if group else parts[2:]
        ns = rest[1] if rest[0] == "namespaces" else None
        rest = rest[2:] if ns else rest
        resource = rest[0] + (f"/{rest[2]}" if len(rest) > 2 else "")
        name = rest[1] if len(rest) > 1 else None
        verb = ("create" if resource == "pods/exec" else "get") if name else "list"
        assert _allowed(verb, group, resource, ns, name), f"{verb} {resource} {ns}/{name} not granted"
        paths.add((verb, resource))
    assert paths == {("get", "services"), ("list", "services"), ("list", "endpointslices"), ("list", "pods"), ("get", "configmaps"),
                     ("create", "pods/exec"), ("list", "nodes"), ("get", "nodes")}
