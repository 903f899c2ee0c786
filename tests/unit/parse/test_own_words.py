"""An author's notes in their own script between the commands they ran, and a shortened bracket prompt.

xusxlinux/Document (tests/corpus/xusxlinux-k8s115-netstat-and-grep-nodeport-chinese-prose) is a Chinese kube 1.15
walk: a line of prose ("可以在宿主机上看到8000端口"), `~]# netstat -lntup | grep 8000` (root's "[root@host ~]#" cut to
its end) with its output, two more lines of prose, then `~]# iptables-save | grep 8000`. It was refused at line 1,
the line shown as "\\u53ef\\u4ee5…" escapes. Now the prose is the author's (a comment), the netstat output is left out
with a note, the grep is read; an unreadable line is shown in its own letters (only what a terminal must not be
handed is escaped). The unnamed port's ("default/nginx-ds:", before 1.19) node port is followed to its service chain
though no cluster IP rule is in the paste (it was "no rule for it in the input").
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT, svcpath

PASTE = str(ROOT / "tests" / "corpus" / "xusxlinux-k8s115-netstat-and-grep-nodeport-chinese-prose.txt")


def test_prose_in_the_authors_script_is_no_rule() -> None:
    code, out, err = svcpath("default/nginx-ds", "--rules-file", PASTE)
    assert code == 0, err
    assert "not rule output, left out: lines 3-6 (`netstat -lntup | grep 8000` output)" in out


def test_an_unnamed_ports_node_port_is_followed_without_its_cluster_ip() -> None:
    code, out, err = svcpath("default/nginx-ds", "--rules-file", PASTE, "-o", "json")
    assert code == 0, err
    (port,) = json.loads(out)["ports"]
    assert (port["nodePort"], port["port"]) == (8000, None)
    (path,) = port["paths"]
    assert (path["entry"], path["port"], path["verdict"]) == ("nodePort", 8000, "not-in-input")
    assert path["chains"] == ["KUBE-NODEPORTS", "KUBE-SVC-T4RQBNWQFKKBCRET"]
    assert port["notInInput"] == ["KUBE-SVC-T4RQBNWQFKKBCRET: not in the input (the rules jump to it; what it does is unknown)"]


def test_an_unreadable_line_is_shown_in_its_own_letters(tmp_path: Path) -> None:
    paste = tmp_path / "paste.txt"
    paste.write_text("-A KUBE-SERVICES -j KUBE-NODEPORTS\nx 规则 \x1b[31m\x1b\u202e -j X\n", encoding="utf-8")
    code, _, err = svcpath("--rules-file", str(paste), "--all")
    assert code == 8
    # the letters as they are; a terminal's color code taken out (session hunter10), other control and bidi characters escaped
    assert "line 2: not an iptables-save line: x 规则 \\x1b\\u202e -j X\n" in err, err


# a Traditional Chinese post on Service paths (tachingchen.com's "Kubernetes Service 深入淺出", as kept in an Obsidian
# vault; index id 9620413010, no repository to cite): a "// note" line above each group of rules; refused at line 1
SLASH_NOTES = """// 收到封包且 dst IP 為該服務的 external IP 時，將封包送到 KUBE-FW-HQT2B7A3AOLJKY7O 處理
-A KUBE-SERVICES -d 104.123.111.1/32 -p tcp -m comment --comment "default/example:svc loadbalancer IP" -m tcp --dport 3457 -j KUBE-FW-HQT2B7A3AOLJKY7O

// 將封包送到 KUBE-SVC-HQT2B7A3AOLJKY7O 處理
-A KUBE-FW-HQT2B7A3AOLJKY7O -m comment --comment "default/example:svc loadbalancer IP" -j KUBE-MARK-MASQ
-A KUBE-FW-HQT2B7A3AOLJKY7O -m comment --comment "default/example:svc loadbalancer IP" -j KUBE-SVC-HQT2B7A3AOLJKY7O
-A KUBE-FW-HQT2B7A3AOLJKY7O -m comment --comment "default/example:svc loadbalancer IP" -j KUBE-MARK-DROP

// 透過隨機 (--probability) 的方式將封包分送到不同 iptables chain
-A KUBE-SVC-HQT2B7A3AOLJKY7O -m comment --comment "default/example:svc" -m statistic --mode random --probability 0.33333333333 -j KUBE-SEP-3LCXQQA74ENIYBWW
-A KUBE-SVC-HQT2B7A3AOLJKY7O -m comment --comment "default/example:svc" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-KEBKTHZKZPI5ZKRT
-A KUBE-SVC-HQT2B7A3AOLJKY7O -m comment --comment "default/example:svc" -j KUBE-SEP-UNUQIMG47GFWO2LF
"""


def test_a_slash_note_line_above_rules_is_the_authors(tmp_path: Path) -> None:
    paste = tmp_path / "paste.txt"
    paste.write_text(SLASH_NOTES, encoding="utf-8")
    code, out, err = svcpath("default/example", "--rules-file", str(paste), "-o", "json")
    assert code == 0, err
    (port,) = json.loads(out)["ports"]
    (path,) = port["paths"]
    assert (path["entry"], path["address"], path["port"]) == ("loadBalancer", "104.123.111.1", 3457)
    assert [(e["ip"], e["port"]) for e in path["endpoints"]] == [(None, None)] * 3  # the endpoint chains are not in it
