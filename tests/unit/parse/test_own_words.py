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
    paste.write_text("-A KUBE-SERVICES -j KUBE-NODEPORTS\nx 规则 \x1b[31m\u202e -j X\n", encoding="utf-8")
    code, _, err = svcpath("--rules-file", str(paste), "--all")
    assert code == 8
    assert "line 2: not an iptables-save line: x 规则 \\x1b[31m\\u202e -j X\n" in err, err  # the letters as they are; control and bidi characters escaped
