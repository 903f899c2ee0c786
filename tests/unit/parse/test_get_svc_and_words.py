"""An AKS walk (VijayRod/demo, kept in tests/corpus): `kubectl get svc` printed above the rules, and the author's words
after a grep's output. The row is what the Service shows, read as a `kubectl describe` is; the words are no rules.
"""

from __future__ import annotations

import json
from pathlib import Path

from kubectl_svcpath.parse.describe import split_described
from tests.conftest import corpus_cut, svcpath

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
WALK = str(CORPUS / "vijayrod-aks-walk-get-svc-grep-hidden-port-prose.txt")


def _run(*args: str) -> str:
    code, out, err = svcpath(*args)
    assert code in (0, 3), err
    return out


def test_the_authors_words_after_a_grep_are_left_out() -> None:
    """'i.e.', 'Serviço: default/nginx', 'KUBE-MARK-MASQ is snat, DNAT is dnat' after the grep's output and a blank
    line: refused at line 22 ('not an iptables-save line: i.e.')."""
    out = _run("default/nginx", "--rules-file", WALK)
    assert "lines 22-29 (the author's words after a listing's output)" in out


def test_a_kubectl_get_svc_row_is_what_the_service_shows() -> None:
    """`kubectl get svc nginx` (ClusterIP 10.0.91.63, 80/TCP) above the rules: the rules alone said 'type ?' and, their
    port match hidden by the node's older iptables, port '?'."""
    out = _run("default/nginx", "--rules-file", WALK)
    assert "Service:  default/nginx  type ClusterIP  cluster IP 10.0.91.63" in out
    assert "line 13 is `kubectl get service` output (nginx): read as what the Service shows (not as rules)" in out
    assert out.splitlines()[0].startswith("(unnamed) 80/TCP → 1 endpoint")
    doc = json.loads(_run("default/nginx", "--rules-file", WALK, "-o", "json"))
    assert doc["service"]["seen"] == {"type": f"{WALK}:13", "port 80": f"{WALK}:13"}
    assert doc["ports"][0]["port"] == 80


def test_get_svc_tables_of_every_shape() -> None:
    """-A's NAMESPACE column, -o wide's SELECTOR, a LoadBalancer's ingress and node ports, several ports; a row of
    another shape ends the table (the rules after it are no row)."""
    text = ("NAMESPACE   NAME    TYPE           CLUSTER-IP   EXTERNAL-IP    PORT(S)                      AGE   SELECTOR\n"
            "default     web     LoadBalancer   10.0.11.45   20.91.172.24   80:32643/TCP,443:31443/TCP   21m   app=web\n"
            "kube-system dns     ClusterIP      10.0.0.10    <none>         53/UDP,53/TCP                9d    k8s-app=dns\n"
            "-A KUBE-SERVICES -d 10.0.0.10/32 -p udp -j KUBE-SVC-X\n")
    rest, found = split_described(text, "f")
    assert rest.splitlines()[:3] == ["", "", ""] and rest.splitlines()[3].startswith("-A KUBE-SERVICES")
    web, dns = found
    assert (web.value("Namespace"), web.value("Name"), web.value("Type"), web.value("IP")) == ("default", "web", "LoadBalancer", "10.0.11.45")
    assert web.value("LoadBalancer Ingress") == "20.91.172.24" and web.value("External IPs") is None
    assert [(p.port, p.node_port, p.protocol) for p in web.ports] == [(80, 32643, "TCP"), (443, 31443, "TCP")]
    assert [(p.port, p.protocol) for p in dns.ports] == [(53, "UDP"), (53, "TCP")] and dns.value("LoadBalancer Ingress") is None
    # no such header, no table: a dump is handed on as it is
    assert split_described("-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT\n", "f")[1] == []


def test_a_get_row_of_several_kinds_is_named_without_its_kind() -> None:
    """killer.sh's CKA notes (kept in tests/corpus): `k get pod,svc,ep` prints 'service/p2-service   ClusterIP …'. The row
    was read as a Service named 'service/p2-service', matched none, and the report said 'type ?' and 'Unknown: type: not
    in the input' of a paste showing ClusterIP."""
    paste = str(CORPUS / "killersh-cka-p2-get-pod-svc-ep-grep-legacy-warning-delete.txt")
    out = _run("project-hamster/p2-service", "--rules-file", paste)
    assert "Service:  project-hamster/p2-service  type ClusterIP  cluster IP 10.105.128.247" in out
    assert "line 11 is `kubectl get service` output (p2-service): read as what the Service shows" in out
    assert "type: not in the input" not in out
    rest, found = split_described("NAME                 TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE\n"
                                  "service/kubernetes   ClusterIP   10.96.0.1    <none>        443/TCP   9d\n", "f")
    assert [d.value("Name") for d in found] == ["kubernetes"]


def test_a_describe_after_a_get_row_of_the_same_service_fills_what_the_row_does_not_show(tmp_path: Path) -> None:
    """maxidea-com/k8s-testing's notes (kept in tests/corpus) down to the grep of KUBE-SERVICES (the service chain's
    own listing, which shows no affinity itself, cut off): `kubectl get service` (test1 ClusterIP), then `kubectl
    describe service test1` (Session Affinity: None). The get row was the only description applied: the report said
    'sessionAffinity: not in the input' below a note that it had read the describe."""
    paste = corpus_cut(tmp_path, "maxidea-k8s118-md-get-describe-S-walk-unsupported-revision.txt", 1, 74)
    out = _run("default/test1", "--rules-file", paste, "--lenient")
    assert "lines 20-31 are `kubectl describe service default/test1` output" in out
    assert "sessionAffinity: not in the input" not in out, out
    doc = json.loads(_run("default/test1", "--rules-file", paste, "--lenient", "-o", "json"))
    assert doc["service"]["sessionAffinity"] == "None"
    assert doc["service"]["seen"]["sessionAffinity"] == f"{paste}:30" and doc["service"]["seen"]["type"] == f"{paste}:13"


def test_a_description_of_another_moment_is_not_merged() -> None:
    """SecurityNeo/ReadingNotes (kept in tests/corpus): `kubectl get svc nginx` shows ClusterIP (line 42), then, after a
    change, NodePort 80:32684/TCP (line 134); the ipvsadm listing is the first moment's. Read together they made a
    ClusterIP with node port 32684, and the report said 'ERROR service-not-programmed: no IPVS virtual server for node
    port 32684/TCP on any address' (exit 3)."""
    paste = str(CORPUS / "securityneo-tke-ipvs-S-ipset-walk-clusterip-then-nodeport.txt")
    code, out, err = svcpath("--rules-file", paste, "--all")
    assert code == 0, err
    assert "service-not-programmed" not in out and "32684" not in out.split("\n\n")[0], out
    flat = " ".join(out.split())
    assert (f"{paste}: line 134 shows nginx otherwise than line 42 (`kubectl get service` output): another moment of it, "
            "not read into the report (line 42's is)") in flat, out


OLD_TABLE = str(CORPUS / "cn-blog-k8s-service-get-services-nodes-L-grep-cluster-ips.txt")  # kubectl before 1.9
K8S17 = str(CORPUS / "blog-k8s17-grep-external-ip-physdev-ten-endpoints.txt")


def test_kubectl_get_svc_without_a_type_column_is_read_too() -> None:
    """kubectl before 1.9 printed 'NAME  CLUSTER-IP  EXTERNAL-IP  PORT(S)  AGE' (no TYPE): such a table was left out as
    'not rule output' (hunter9), and each Service it shows was 'type ?'. Its rows are read now; the type where kubectl's
    EXTERNAL-IP word gives it (its printer wrote '<none>' only for a ClusterIP, '<nodes>' only for a NodePort, each
    without external IPs), cited at the row's line; an address there leaves the type unknown."""
    out = _run("default/my-nginx", "--rules-file", OLD_TABLE)
    assert "Service:  default/my-nginx  type NodePort  cluster IP 192.168.3.179" in out
    assert (f"Note:     {OLD_TABLE}: lines 6-10 are `kubectl get service` output (index-api, kubernetes, my-nginx, nginx-kit "
            "and rbd-rest-api): read as what each Service shows (not as rules)") in out.splitlines()
    assert "not rule output" not in out and "type: not in the input" not in out
    doc = json.loads(_run("default/rbd-rest-api", "--rules-file", OLD_TABLE, "-o", "json"))
    assert doc["service"]["type"] == "ClusterIP" and doc["service"]["seen"]["type"] == f"{OLD_TABLE}:10"
    # an address in EXTERNAL-IP: an external IP of any type, or a load balancer's: the type stays unknown
    out = _run("admin/docker2048", "--rules-file", K8S17)
    assert "Service:  admin/docker2048  type ?  cluster IP 10.13.52.135  external IPs 11.11.1.1" in out
    assert f"Note:     {K8S17}: line 3 is `kubectl get service` output (admin/docker2048): read as what the Service shows (not as rules)" in out
    assert "Unknown:  type: not in the input" in out


def test_old_get_svc_rows_split_as_kubectl_printed_them() -> None:
    text = ("NAME             CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE\nsvc/kubernetes   10.0.0.1     <none>        443/TCP   5h\n"
            "svc/webserver    10.0.0.209   <nodes>       80/TCP    3s\nsvc/shop         10.0.0.7     <pending>     80/TCP    3s\n")
    _, found = split_described(text, "get.txt")
    assert [(d.value("Name"), d.value("Type"), d.value("IP")) for d in found] == [
        ("kubernetes", "ClusterIP", "10.0.0.1"), ("webserver", "NodePort", "10.0.0.209"), ("shop", "LoadBalancer", "10.0.0.7")]


def test_a_block_quoting_a_rule_again_is_read_once() -> None:
    """The notes quote rbd-rest-api's entry rule again in a ``` block of its own ('when we curl 192.168.3.22:8080 from
    the pod network, it matches this KUBE-SVC-AU252PRZZQGOERSG rule'): read as a second rule of KUBE-SERVICES, the path
    table showed the cluster IP twice, each with both endpoints."""
    out = _run("default/rbd-rest-api", "--rules-file", OLD_TABLE)
    assert f"Note:     {OLD_TABLE}: line 35 repeats rules shown earlier in the paste: each rule read once" in out.splitlines()
    doc = json.loads(_run("default/rbd-rest-api", "--rules-file", OLD_TABLE, "-o", "json"))
    paths = doc["ports"][0]["paths"]
    assert [(p["address"], [e["ip"] for e in p["endpoints"]]) for p in paths] == [("192.168.3.22", ["172.16.99.6", "172.16.99.7"])]
