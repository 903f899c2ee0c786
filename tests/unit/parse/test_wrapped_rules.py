"""Rules the author wrapped for the page, and a two-line prompt with a bare '$'.

A Korean post on a kind cluster (search index id 61473296635, no repository found) wraps each rule onto an indented
second line ('-A KUBE-SERVICES … --comment "default/k8s-fe-lab cluster IP"' then '   -m tcp --dport 80 -j KUBE-SVC-…'),
and tutorials end a wrapped line with ' \\'. Both were refused at the second line ('not an iptables-save line', exit 8):
now each rule is read joined, its continuation lines blanked (line numbers kept)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import svcpath_on

WRAPPED = """$ docker exec k8s-fe-lab-worker iptables-save -t nat | grep k8s-fe-lab
-A KUBE-SERVICES -d 10.96.35.226/32 -p tcp -m comment --comment "default/k8s-fe-lab cluster IP"
   -m tcp --dport 80 -j KUBE-SVC-ISVZ3COTGREXVRO2
-A KUBE-SVC-ISVZ3COTGREXVRO2 -m comment --comment "default/k8s-fe-lab -> 10.244.1.12:3000"
   -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-FRMIQDBY5TTCZ5G3
-A KUBE-SVC-ISVZ3COTGREXVRO2 -m comment --comment "default/k8s-fe-lab -> 10.244.1.13:3000"
   -j KUBE-SEP-DIIQGOM6OBXKX6MD
-A KUBE-SEP-FRMIQDBY5TTCZ5G3 -p tcp -m comment --comment "default/k8s-fe-lab"
   -m tcp -j DNAT --to-destination 10.244.1.12:3000
"""


def test_indented_continuations_are_the_rule_above(tmp_path: Path) -> None:
    code, out, err = svcpath_on(tmp_path, WRAPPED, "default/k8s-fe-lab")
    assert code == 0, err
    assert "10.96.35.226:80" in out and "KUBE-SVC-ISVZ3COTGREXVRO2" in out, out
    assert "2 endpoints" in out and "50%" in out, out


def test_backslash_continuations(tmp_path: Path) -> None:
    text = WRAPPED.replace('cluster IP"\n   -m tcp', 'cluster IP" \\\n    -m tcp')
    code, out, err = svcpath_on(tmp_path, text, "default/k8s-fe-lab")
    assert code == 0, err
    assert "10.96.35.226:80" in out, out


def test_ipvsadm_real_servers_are_no_continuations(tmp_path: Path) -> None:
    listing = ("IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n"
               "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
               "TCP  10.96.0.1:443 rr\n  -> 172.18.0.2:6443             Masq    1      0          0\n")
    code, out, err = svcpath_on(tmp_path, listing, "--all")
    assert code == 0, err
    assert "1 port, 1 endpoint:" in out, out  # ("  -> 172.18.0.2:6443 …" is a real server, not a rule's last words)


TWO_LINE_PROMPT = """vortex-dev:05:43:50 [~/go/src/github.com/hwchiu/kubeDemo](master)vagrant
$sudo iptables-save -t nat | grep nginx-cluster | grep DNAT
-A KUBE-SEP-7MBJVYFMXTKOJUKD -p tcp -m comment --comment "default/k8s-nginx-cluster:" -m tcp -j DNAT --to-destination 10.244.0.88:80
-A KUBE-SEP-ARZAHNE3T3EMMTGB -p tcp -m comment --comment "default/k8s-nginx-cluster:" -m tcp -j DNAT --to-destination 10.244.0.90:80

vortex-dev:05:43:54 [~/go/src/github.com/hwchiu/kubeDemo](master)vagrant
$kubectl get endpoints k8s-nginx-cluster
NAME                ENDPOINTS                                      AGE
k8s-nginx-cluster   10.244.0.88:80,10.244.0.90:80                  1d
"""


def test_two_line_prompt_and_endpoint_chains_of_an_unnamed_port(tmp_path: Path) -> None:
    """ars0915/note's Logseq page (tests/corpus/ars0915-*): was refused at line 1; then 'no rule for it in the input'."""
    code, out, err = svcpath_on(tmp_path, TWO_LINE_PROMPT, "default/k8s-nginx-cluster")
    assert code == 0, err
    assert "2 endpoints shown, any others not in the input" in out, out
    assert "service chain: not in the input (only the endpoint chains" in out, out
    assert "the author's words" not in out, out  # (the second prompt's first line)
