"""A 2026 course's AKS 1.35 notes (Traditional Chinese, Cilium beside kube-proxy; search index id 61374229824, its
repository not exposed), two console blocks as the author edited them before pasting:

- `iptables -t nat -S` runs whose output names the chain listed as ``KUBE-SVC-…`` / ``KUBE-SEP-…`` (hash cut);
- `iptables -t nat -L … -n -v | grep …` rows without their in and out columns, run twice (counters zeroed between,
  `iptables -t nat -Z`), the service chain's rows cut to their counters and target ("… probability 0.5"), the
  author's notes under rows led by an arrow ("↑ 20 次請求全部成功"), a `kubectl exec client -- sh -c 'for …; do curl …'`
  and a `(在 node-shell 裡) for …` loop, each with its curl answers.

Before: the -S block gave a second Service "? (KUBE-SVC-…)" with '2+?' endpoints and called KUBE-SVC-XS3ZU56555AQFGIC
'not in the input (the rules jump to it; what it does is unknown)'; the -L block was refused (exit 8) at the curl
answers, then at the arrow note, then at the cut rows; its rows, read, gave the cluster IP 'dpt:80' and a
hidden-port-match warning, the row listed twice two clusterIP entries, and the author's 'iptables' in a note a
filter table. A grep of one `-L CHAIN` listing without its header said 'No Service in the input'.
The author's '<cluster-ip>' placeholder is echoed as the cluster IP, as the author wrote it, with a note that it is no
address (the note naming the Service told to run 'kubectl get svc -A -o wide | grep -w <cluster-ip>').
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import svcpath_on

S_BLOCK = """\
$ iptables -t nat -S PREROUTING
-A PREROUTING -m comment --comment "cilium-feeder: CILIUM_PRE_nat" -j CILIUM_PRE_nat
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES

$ iptables -t nat -S | grep <cluster-ip>
-A KUBE-SERVICES -d <cluster-ip>/32 -p tcp --dport 80 -j KUBE-SVC-XS3ZU56555AQFGIC

$ iptables -t nat -S KUBE-SVC-XS3ZU56555AQFGIC
-A KUBE-SVC-… -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-JZF7FF4KHPDVC7PP
-A KUBE-SVC-… -j KUBE-SEP-A6QIQCODODBCXNWL

$ iptables -t nat -S KUBE-SEP-JZF7FF4KHPDVC7PP
-A KUBE-SEP-… -p tcp -j DNAT --to-destination 10.244.1.202:8080
"""

L_BLOCK = """\
### A) 呼叫端 = 一般 pod
$ iptables -t nat -Z                                    ← 全表計數器清零
$ kubectl exec client -- sh -c 'for i in $(seq 1 20); do curl -s -o /dev/null -w "%{http_code}" http://<cluster-ip>/; done'
200200200200200200200200200200200200200200200200200200200200
$ iptables -t nat -L KUBE-SERVICES -n -v | grep <cluster-ip>
    0     0 KUBE-SVC-XS3ZU56555AQFGIC  tcp  --  0.0.0.0/0  <cluster-ip>  tcp dpt:80
      ↑ 20 次請求全部成功,iptables 一個封包都沒看到

### B) 呼叫端 = hostNetwork(節點 root netns)
$ iptables -t nat -Z
$ (在 node-shell 裡) for i in $(seq 1 20); do curl -s -o /dev/null -w "%{http_code}" http://<cluster-ip>/; done
200200200200200200200200200200200200200200200200200200200200
$ iptables -t nat -L KUBE-SERVICES -n -v | grep <cluster-ip>
   20  1200 KUBE-SVC-XS3ZU56555AQFGIC  tcp  --  0.0.0.0/0  <cluster-ip>  tcp dpt:80
$ iptables -t nat -L KUBE-SVC-XS3ZU56555AQFGIC -n -v
   10   600 KUBE-SEP-JZF7FF4KHPDVC7PP  … probability 0.50000000000
   10   600 KUBE-SEP-A6QIQCODODBCXNWL
      ↑ 20 次全部走 iptables,而且骰子擲出漂亮的 10/10
"""

SVC = "KUBE-SVC-XS3ZU56555AQFGIC"


def test_a_chain_name_cut_by_the_author_is_the_chain_the_command_lists(tmp_path: Path) -> None:
    code, out, err = svcpath_on(tmp_path, S_BLOCK, "--all")
    assert code == 0, err
    assert "KUBE-SVC-…" not in out and "1 entry (Service not named in the input), 1 port, 2 endpoints" in out, out
    code, out, err = svcpath_on(tmp_path, S_BLOCK, SVC)
    flat = " ".join(out.split())
    assert code == 0, err
    assert "not in the input (the rules jump to it" not in flat, out
    assert ("line 9: chain 'KUBE-SVC-…', its name cut by the author, read as KUBE-SVC-XS3ZU56555AQFGIC (the chain the "
            "command above lists)") in flat, out
    assert "line 13: chain 'KUBE-SEP-…', its name cut by the author, read as KUBE-SEP-JZF7FF4KHPDVC7PP" in flat, out
    # the author's placeholder for the address: said so (the note told to 'grep -w <cluster-ip>')
    assert "'<cluster-ip>' in place of an address: the author's, not kube-proxy's; the address itself is not in the input" in flat
    assert "grep -w <cluster-ip>" not in flat, out
    doc = json.loads(svcpath_on(tmp_path, S_BLOCK, SVC, "-o", "json")[1])
    hops = [(e["ip"], e["port"], e["probability"]) for p in doc["ports"][0]["paths"] for e in p["endpoints"]]
    assert hops == [("10.244.1.202", 8080, 0.5), (None, None, 0.5)], hops


def test_a_cut_name_under_another_command_is_not_guessed(tmp_path: Path) -> None:
    text = S_BLOCK.replace("$ iptables -t nat -S KUBE-SEP-JZF7FF4KHPDVC7PP", "$ iptables -t nat -S | grep 10.244.1.202")
    code, out, err = svcpath_on(tmp_path, text, SVC)
    assert code == 0, err
    assert "read as KUBE-SEP-" not in out and "10.244.1.202" not in out.split("PORT ")[1], out


def test_rows_the_author_edited_are_read_for_what_they_show(tmp_path: Path) -> None:
    code, out, err = svcpath_on(tmp_path, L_BLOCK, SVC)
    assert code == 0, err
    flat = " ".join(out.split())
    assert "line 6: its in and out columns are not in the row (taken out when pasted): read as source and destination" in flat
    assert ("line 16: a row the author cut (10 600 KUBE-SEP-JZF7FF4KHPDVC7PP … probability 0.50000000000): its counters "
            "and target read; its other matches are not in the input") in flat, out
    assert "line 17: a row the author cut (10 600 KUBE-SEP-A6QIQCODODBCXNWL)" in flat, out
    assert ("line 14: the rule of line 6 listed again (a later run of a listing command): one rule, its counters the "
            "later ones") in flat, out
    assert "dpt:80" not in flat.split("Findings")[0].split("Rules:")[0] and "hidden-port-match" not in flat, out
    assert "the nat table (as the pasted command says)" in flat and "the filter and nat tables" not in flat, out
    assert ("not rule output, left out: line 4 (`kubectl exec client -- sh -c 'for i in $(seq 1 20); do curl …` output), "
            "line 12") in flat, out
    doc = json.loads(svcpath_on(tmp_path, L_BLOCK, SVC, "-o", "json")[1])
    paths = doc["ports"][0]["paths"]
    assert [(p["entry"], p["packets"]) for p in paths] == [("clusterIP", 20)], paths
    assert [(e["chain"], e["packets"]) for e in paths[0]["endpoints"]] == [
        ("KUBE-SEP-JZF7FF4KHPDVC7PP", 10), ("KUBE-SEP-A6QIQCODODBCXNWL", 10)], paths


def test_a_grep_of_one_chains_listing_is_that_chains_rows(tmp_path: Path) -> None:
    """`iptables -t nat -L KUBE-SERVICES -n -v | grep 10.0.0.5`: one row, no header. It said 'No Service in the input'
    of a jump to a service chain with its cluster IP and port."""
    text = ("$ iptables -t nat -L KUBE-SERVICES -n -v | grep 10.0.0.5\n"
            "    0     0 KUBE-SVC-XS3ZU56555AQFGIC  tcp  --  *      *       0.0.0.0/0            10.0.0.5             "
            "tcp dpt:80\n")
    code, out, err = svcpath_on(tmp_path, text, "--all")
    assert code == 0, err
    assert "No Service in the input" not in out, out
    assert out.splitlines()[1].split()[:6] == ["?", "?", "(KUBE-SVC-XS3ZU56555AQFGIC)", "?", "10.0.0.5", "80"], out
