"""ipset-member-missing for the sets kube-proxy fills from a Service's policies (IPVS mode).

The check looked only at the set of each way in (KUBE-CLUSTER-IP, KUBE-EXTERNAL-IP, KUBE-LOAD-BALANCER,
KUBE-NODE-PORT-TCP/-UDP/-SCTP-HASH): a Service with externalTrafficPolicy Local whose node port or load-balancer
address kube-proxy's KUBE-NODE-PORT-LOCAL-TCP / KUBE-LOAD-BALANCER-LOCAL lacks (masqueraded: the client's address
lost), loadBalancerSourceRanges its KUBE-LOAD-BALANCER-FW / KUBE-LOAD-BALANCER-SOURCE-CIDR lack (not enforced, or a
range dropped), and a healthCheckNodePort KUBE-HEALTH-CHECK-NODE-PORT lacks, were all 'OK'. The sets are the real
ones of tests/fixtures/ipvs/hello-ipset-list.txt (ipset v7.17), filled for hello-service with policy Cluster and
no load balancer; the API (a manifest) says Local, a load-balancer IP, a source range and a health check port.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT, svcpath

FIX = ROOT / "tests" / "fixtures" / "ipvs"
MANIFEST = ROOT / "kubectl_svcpath" / "examples" / "hello-service" / "manifest.yaml"


def _run(tmp_path: Path, manifest: str, sets: str) -> list[dict]:
    (tmp_path / "svc.yaml").write_text(manifest)
    (tmp_path / "sets.txt").write_text(sets)
    (tmp_path / "ipvs.txt").write_text((FIX / "hello-ipvsadm-Ln.txt").read_text() + "TCP  172.18.255.1:39090 rr\n"
                                       "  -> 192.168.189.15:9090          Masq    1      0          0         \n")
    code, out, err = svcpath("default/hello-service", "--rules-file", str(FIX / "hello-iptables-save.txt"),
                             "--rules-file", str(tmp_path / "ipvs.txt"), "--rules-file", str(tmp_path / "sets.txt"),
                             "--manifest", str(tmp_path / "svc.yaml"), "--port", "port-v1", "-o", "json")
    assert code in (0, 3), err
    return [f for f in json.loads(out)["findings"] if f["code"] == "ipset-member-missing"]


def _load_balancer(policy: str) -> str:
    text = MANIFEST.read_text().replace("    type: NodePort\n", "    type: LoadBalancer\n    healthCheckNodePort: 32000\n"
                                        "    loadBalancerSourceRanges:\n    - 203.0.113.0/25\n")
    text = text.replace("externalTrafficPolicy: Cluster", f"externalTrafficPolicy: {policy}")
    return text.replace("      nodePort: 31576\n", "      nodePort: 31576\n  status:\n    loadBalancer:\n      ingress:\n"
                        "      - ip: 172.18.255.1\n", 1)


def test_the_policy_sets_that_lack_the_service(tmp_path: Path) -> None:
    sets = (FIX / "hello-ipset-list.txt").read_text().replace("Number of entries: 0\nMembers:\n\nName: KUBE-LOAD-BALANCER-FW",
                                                               "Number of entries: 1\nMembers:\n172.18.255.1,tcp:39090\n\n"
                                                               "Name: KUBE-LOAD-BALANCER-FW", 1)
    found = {f["message"]: f for f in _run(tmp_path, _load_balancer("Local"), sets)}
    head = "port port-v1 39090/TCP: kube-proxy's "
    tail = ", which IPVS serves"
    assert set(found) == {
        head + "KUBE-LOAD-BALANCER-LOCAL does not hold loadBalancer 172.18.255.1:39090" + tail + " (TCP 172.18.255.1:39090)",
        head + "KUBE-LOAD-BALANCER-FW does not hold loadBalancer 172.18.255.1:39090" + tail + " (TCP 172.18.255.1:39090)",
        head + "KUBE-LOAD-BALANCER-SOURCE-CIDR does not hold loadBalancer 172.18.255.1:39090 from 203.0.113.0/25" + tail
        + " (TCP 172.18.255.1:39090)",
        head + "KUBE-NODE-PORT-LOCAL-TCP does not hold node port 30725" + tail + " (TCP 172.18.0.2:30725)",
        "kube-proxy's KUBE-HEALTH-CHECK-NODE-PORT does not hold the Service's health check node port 32000",
    }
    fw = found[head + "KUBE-LOAD-BALANCER-FW does not hold loadBalancer 172.18.255.1:39090" + tail + " (TCP 172.18.255.1:39090)"]
    assert fw["severity"] == "warning"
    assert "The listing shows all of KUBE-LOAD-BALANCER-FW's members, and 172.18.255.1,tcp:39090 is not among them." in fw["detail"]
    assert any("Name: KUBE-LOAD-BALANCER-FW (0 members, all listed)" in e for e in fw["evidence"])


def test_what_the_sets_hold_and_what_the_api_does_not_ask_for(tmp_path: Path) -> None:
    whole = (FIX / "hello-ipset-list.txt").read_text()
    local = whole.replace("Number of entries: 0\nMembers:\n\nName: KUBE-NODE-PORT-UDP",
                          "Number of entries: 2\nMembers:\n30725\n31576\n\nName: KUBE-NODE-PORT-UDP", 1)
    assert local != whole
    messages = [f["message"] for f in _run(tmp_path, _load_balancer("Local"), local)]
    assert not [m for m in messages if "KUBE-NODE-PORT-LOCAL-TCP" in m]  # (it holds both node ports)
    messages = [f["message"] for f in _run(tmp_path, _load_balancer("Cluster"), whole)]
    assert not [m for m in messages if "-LOCAL" in m]  # (policy Cluster: nothing goes to the -LOCAL sets)
    assert [f["message"] for f in _run(tmp_path, MANIFEST.read_text(), whole)] == []  # (NodePort, Cluster)


def test_a_range_of_every_source_is_one_ipset_cannot_hold(tmp_path: Path) -> None:
    # loadBalancerSourceRanges [0.0.0.0/0] (WCYa/hugo-papermod-blog's Jenkins post: KUBE-LOAD-BALANCER-SOURCE-CIDR
    # 'Number of entries: 0', every outside client dropped): kube-proxy adds 172.18.255.1,tcp:39090,0.0.0.0/0 at every
    # sync and ipset refuses a network of prefix length 0. It was a warning that told to look for ipset errors
    lb = _load_balancer("Cluster").replace("    - 203.0.113.0/25\n", "    - 0.0.0.0/0\n")
    sets = (FIX / "hello-ipset-list.txt").read_text().replace(
        "Number of entries: 0\nMembers:\n\nName: KUBE-LOAD-BALANCER-LOCAL",
        "Number of entries: 1\nMembers:\n172.18.255.1,tcp:39090\n\nName: KUBE-LOAD-BALANCER-LOCAL", 1)
    (found,) = [f for f in _run(tmp_path, lb, sets) if "SOURCE-CIDR" in f["message"]]
    assert (found["severity"], found["message"]) == ("error", "port port-v1 39090/TCP: kube-proxy's KUBE-LOAD-BALANCER-"
                                                     "SOURCE-CIDR does not hold loadBalancer 172.18.255.1:39090 from "
                                                     "0.0.0.0/0, which IPVS serves (TCP 172.18.255.1:39090)")
    code, out, err = svcpath("default/hello-service", "--rules-file", str(FIX / "hello-iptables-save.txt"), "--rules-file",
                             str(tmp_path / "ipvs.txt"), "--rules-file", str(tmp_path / "sets.txt"), "--manifest",
                             str(tmp_path / "svc.yaml"), "--port", "port-v1")
    assert code == 3, err
    assert ("ERROR ipset-member-missing: port port-v1 39090/TCP: kube-proxy's KUBE-LOAD-BALANCER-SOURCE-CIDR does not "
            "hold loadBalancer 172.18.255.1:39090 from 0.0.0.0/0, which IPVS serves (TCP 172.18.255.1:39090) every "
            "connection from outside this node is dropped (filter KUBE-SOURCE-RANGES-FIREWALL)") in " ".join(out.split())
    assert found["detail"][0] == ("The listing shows all of KUBE-LOAD-BALANCER-SOURCE-CIDR's members, and "
                                  "172.18.255.1,tcp:39090,0.0.0.0/0 is not among them: ipset cannot hold it.")
    assert "a hash:ip,port,net set stores no network of prefix length 0" in found["detail"][1]
    assert found["action"] == ("drop 0.0.0.0/0 from the Service's loadBalancerSourceRanges (none at all lets every "
                               "source in), or write it as 0.0.0.0/1 and 128.0.0.0/1")
    # beside another range, the sources that range covers still get in: a warning
    both = lb.replace("    - 0.0.0.0/0\n", "    - 0.0.0.0/0\n    - 203.0.113.0/25\n")
    found = {f["message"].rsplit(" from ", 1)[1].split(",")[0]: f for f in _run(tmp_path, both, sets) if "SOURCE-CIDR" in f["message"]}
    assert (found["0.0.0.0/0"]["severity"], found["203.0.113.0/25"]["severity"]) == ("warning", "warning")
