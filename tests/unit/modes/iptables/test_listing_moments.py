"""SecurityNeo/ReadingNotes' minikube walk (kept in tests/corpus): `iptables -t nat -S CHAIN` runs, each printing one
chain whole (its -N line, then its rules), and a later `iptables -t nat -S KUBE-SERVICES` cut with `......`; between
them the Service was deleted and created again as a NodePort, with another cluster IP and the same chains.

Before: the service chain, listed whole, was 'not all in the input (the paste is cut at lines 66, 68 …)' (the cut is
another command's output), endpoint shares '-'; and the report said 'cluster IP 10.102.40.108,10.110.25.59' with no
word that a Service has one per family."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT, svcpath, svcpath_on

WALK = str(ROOT / "tests" / "corpus" / "securityneo-minikube-S-walk-two-moments-cluster-ip.txt")
S_WALK = (ROOT / "tests" / "corpus" / "maxidea-k8s118-S-walk-dnat-unsupported-revision.txt").read_text()


def test_a_chain_iptables_S_prints_is_whole() -> None:
    code, out, err = svcpath("default/nginx-svc", "--rules-file", WALK, "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    paths = doc["ports"][0]["paths"]
    assert {(e["ip"], e["probability"]) for p in paths for e in p["endpoints"]} == {("172.18.0.4", 0.5), ("172.18.0.5", 0.5)}
    assert not any("not all in the input" in s for s in doc["notInInput"]), doc["notInInput"]
    assert doc["service"]["sessionAffinity"] == "None"  # (the whole chain holds no -m recent)


def test_a_grepped_or_cut_listing_of_a_chain_is_not_whole(tmp_path: Path) -> None:
    grepped = S_WALK.replace("# iptables -t nat -S KUBE-SVC-VRCN2UH6RARGOJZA",
                             "# iptables -t nat -S KUBE-SVC-VRCN2UH6RARGOJZA | grep KUBE-SEP")
    cut = S_WALK.replace("-N KUBE-SVC-VRCN2UH6RARGOJZA\n", "-N KUBE-SVC-VRCN2UH6RARGOJZA\n...\n")
    for text in (grepped, cut):
        code, out, err = svcpath_on(tmp_path, text, "default/test1", "-o", "json")
        assert code == 0, err
        doc = json.loads(out)
        assert doc["service"]["sessionAffinity"] is None, (text, doc["service"])


def test_two_cluster_ips_of_one_family_are_two_moments() -> None:
    code, out, err = svcpath("default/nginx-svc", "--rules-file", WALK)
    assert code == 0, err
    flat = " ".join(out.split())
    assert ("2 IPv4 cluster IPs for default/nginx-svc: 10.102.40.108 (line 16) and 10.110.25.59 (line 67); a Service has "
            "one per family, so the input holds two moments (the Service deleted and created again under its name, which "
            "names its chains alike) or a rule left behind: which one is current is not in the input") in flat, out


# a 2018 post's walk (search index id 46353526808, its repository not exposed): each listing run in kube-proxy's pod
EXEC_WALK = """\
kubectl exec kube-proxy-ts54q -n kube-system -- iptables -t nat -S | grep 30411
-A KUBE-NODEPORTS -p tcp -m comment --comment "default/echoserver-nodeport:" -m tcp --dport 30411 -j KUBE-MARK-MASQ
-A KUBE-NODEPORTS -p tcp -m comment --comment "default/echoserver-nodeport:" -m tcp --dport 30411 -j KUBE-SVC-ZFAVNEBGNVMBQPKH
kubectl exec kube-proxy-ts54q -n kube-system -- iptables -t nat -S KUBE-SVC-ZFAVNEBGNVMBQPKH
-N KUBE-SVC-ZFAVNEBGNVMBQPKH
-A KUBE-SVC-ZFAVNEBGNVMBQPKH -m comment --comment "default/echoserver-nodeport:" -j KUBE-SEP-YURMZH5MPUXHWC2S
kubectl exec kube-proxy-ts54q -n kube-system -- iptables -t nat -S KUBE-SEP-YURMZH5MPUXHWC2S
-N KUBE-SEP-YURMZH5MPUXHWC2S
-A KUBE-SEP-YURMZH5MPUXHWC2S -s 192.168.192.117/32 -m comment --comment "default/echoserver-nodeport:" -j KUBE-MARK-MASQ
-A KUBE-SEP-YURMZH5MPUXHWC2S -p tcp -m comment --comment "default/echoserver-nodeport:" -m tcp -j DNAT --to-destination 192.168.192.117:8080
"""


def test_a_listing_run_in_kube_proxys_pod_is_a_listing_command(tmp_path: Path) -> None:
    code, out, err = svcpath_on(tmp_path, EXEC_WALK, "default/echoserver-nodeport", "-o", "json")
    assert code == 0, err
    assert json.loads(out)["service"]["sessionAffinity"] == "None"  # (the service chain listed whole, no -m recent)
    code, out, err = svcpath_on(tmp_path, EXEC_WALK.replace("-S KUBE-SVC-ZFAVNEBGNVMBQPKH", "-S KUBE-SVC-ZFAVNEBGNVMBQPKH | grep ZFAV"),
                                "default/echoserver-nodeport", "-o", "json")
    assert json.loads(out)["service"]["sessionAffinity"] is None
