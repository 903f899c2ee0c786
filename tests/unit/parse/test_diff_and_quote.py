"""Rules pasted behind a mark on every line (parse/quoted.py).

A diff of two listings taken before and after a change (`diff before.txt after.txt`, `diff -u …`: tutorials and
posts show what kube-proxy changed so) was refused ('not a rule dump this tool can read', exit 8; the unified form
'line 1: not an iptables-save line'), and with --lenient read the unchanged lines alone. A Markdown or e-mail
quote ('> -A KUBE-SVC-…' on every line) was refused too. Now the later listing's lines a diff shows are read (an
excerpt: each hunk header a cut), the earlier listing's left out with a note; a quote is read off its marks.

The unified diff is reproduced from a kind node's notes (`diff -u /tmp/before.txt /tmp/after.txt` after
`kubectl -n kube-system scale --replicas=4 deployment/coredns`; search index id 40665360771, no repository found):
read as one listing its two moments made kube-dns a six-jump chain of two cascades."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import svcpath_on

UNIFIED = """diff -u /tmp/before.txt /tmp/after.txt
--- /tmp/before.txt\t2021-05-11 07:25:03.842424691 +0800
+++ /tmp/after.txt\t2021-05-11 07:24:39.989090219 +0800
@@ -53,8 +65,14 @@
 -A KUBE-SEP-LPGSDLJ3FDW46N4W -p udp -m comment --comment "kube-system/kube-dns:dns" -m udp -j DNAT --to-destination 10.244.0.5:53
+-A KUBE-SEP-SISP6ORRA37L3ZYK -s 10.244.0.8/32 -m comment --comment "kube-system/kube-dns:dns" -j KUBE-MARK-MASQ
+-A KUBE-SEP-SISP6ORRA37L3ZYK -p udp -m comment --comment "kube-system/kube-dns:dns" -m udp -j DNAT --to-destination 10.244.0.8:53
@@ -64,10 +82,16 @@
 -A KUBE-SVC-NPX46M4PTMTKRN6Y -m comment --comment "default/kubernetes:https" -j KUBE-SEP-V2PECCYPB6X2GSCW
--A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-LPGSDLJ3FDW46N4W
--A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns" -j KUBE-SEP-IRMT6RY5EEEBXDAY
+-A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns" -m statistic --mode random --probability 0.25000000000 -j KUBE-SEP-LPGSDLJ3FDW46N4W
+-A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns" -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-IRMT6RY5EEEBXDAY
+-A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-232DQYSHL5HNRYWJ
+-A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns" -j KUBE-SEP-SISP6ORRA37L3ZYK
"""

# a normal diff's two sides of one change: the earlier service chain behind "<", the later behind ">"
NORMAL = """$ diff before.txt after.txt
12,13c12,14
< -A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-LPGSDLJ3FDW46N4W
< -A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns" -j KUBE-SEP-IRMT6RY5EEEBXDAY
---
> -A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns" -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-LPGSDLJ3FDW46N4W
> -A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-IRMT6RY5EEEBXDAY
> -A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns" -j KUBE-SEP-232DQYSHL5HNRYWJ
"""


def _endpoint_chains(doc: dict) -> list[str]:
    return [ep["chain"] for port in doc["ports"] for path in port["paths"] for ep in path.get("endpoints", []) if ep.get("chain")]


def test_unified_diff_reads_the_later_listing(tmp_path: Path) -> None:
    code, out, err = svcpath_on(tmp_path, UNIFIED, "kube-system/kube-dns")
    assert code == 0, err
    assert "is a diff of two listings: /tmp/after.txt's lines it shows are read" in out, out
    assert "/tmp/before.txt's lines ('-', lines 10, 11) are left out" in out, out
    assert "is an excerpt (cut at lines 4, 8)" in out, out
    assert "4 endpoints shown, any others not in the input" in out, out  # (the cascade's top is under a cut)
    assert "10.244.0.8:53" in out, out


def test_unified_diff_json_has_no_earlier_jump(tmp_path: Path) -> None:
    code, out, err = svcpath_on(tmp_path, UNIFIED, "kube-system/kube-dns", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    jumps = [p for p in doc["ports"] if p["name"] == "dns"][0]["paths"][0]
    probabilities = [ep.get("probability") for ep in jumps["endpoints"]]
    assert len(probabilities) == 4, probabilities
    assert 0.5 not in probabilities[:1], probabilities  # (the earlier 0.5 jump to LPGSDLJ3… is not read)


def test_normal_diff_old_side_left_out(tmp_path: Path) -> None:
    code, out, err = svcpath_on(tmp_path, NORMAL, "--all")
    assert code == 0, err
    assert "kube-dns" in out and "3+?" in out, out  # was: refused (exit 8)
    assert "before.txt's lines ('<', lines 3, 4) are left out" in out, out


def test_normal_diff_was_refused_lenient_does_not_mix_moments(tmp_path: Path) -> None:
    code, out, err = svcpath_on(tmp_path, NORMAL, "kube-system/kube-dns", "-o", "json")
    assert code == 0, err
    assert "KUBE-SEP-232DQYSHL5HNRYWJ" in out
    assert out.count('"KUBE-SEP-LPGSDLJ3FDW46N4W"') <= 2, out  # one jump to it (and its chain's name), not two


QUOTED = """> -A KUBE-SERVICES -d 10.101.75.103/32 -p tcp -m comment --comment "default/httpd-svc cluster IP" -m tcp --dport 8080 -j KUBE-SVC-IYRDZZKXS5EOQ6Q6
> -A KUBE-SVC-IYRDZZKXS5EOQ6Q6 -m comment --comment "default/httpd-svc" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-NG4C2J2BPF22E7YY
> -A KUBE-SVC-IYRDZZKXS5EOQ6Q6 -m comment --comment "default/httpd-svc" -j KUBE-SEP-VGWTYDHUGJCFZT74
>
> -A KUBE-SEP-NG4C2J2BPF22E7YY -p tcp -m comment --comment "default/httpd-svc" -m tcp -j DNAT --to-destination 172.17.0.7:80
>-A KUBE-SEP-VGWTYDHUGJCFZT74 -p tcp -m comment --comment "default/httpd-svc" -m tcp -j DNAT --to-destination 172.17.0.8:80
"""


def test_markdown_quote_on_every_line(tmp_path: Path) -> None:
    code, out, err = svcpath_on(tmp_path, QUOTED, "default/httpd-svc")
    assert code == 0, err  # was: refused, 'not a rule dump this tool can read' (exit 8)
    assert "172.17.0.7:80" in out and "172.17.0.8:80" in out, out
    assert "2 endpoints" in out, out


def test_a_prose_quote_alone_is_no_rule_dump(tmp_path: Path) -> None:
    code, _, err = svcpath_on(tmp_path, "> the rules are below\n> see the next post\n", "--all")
    assert code == 8 and "not a rule dump" in err, err
