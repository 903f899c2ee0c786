"""The author's marks on rule lines that are no part of the rules: Markdown emphasis around a rule that spans
lines (a Notion export: "***-A KUBE-SEP-…" … "# note***"), a Markdown rule ("***") between pieces, and a note
after a rule ("… 10.188.166.159:80 // here is", "-j KUBE-SEP-…  <-- only one"). Each is read without the mark,
with a note; none refuses the paste or drops the rule."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import svcpath

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
SVC, SEP = "KUBE-SVC-NPX46M4PTMTKRN6Y", "KUBE-SEP-XD66YDEGQEOQLZXE"
# the shape of a Korean Notion export of `sudo iptables -S -t nat | grep …` (index id 27385197078; its repository
# is not exposed by the index, so it is not in tests/corpus): bold-italic opened on a rule, closed on a note
NOTION = (f"$ sudo iptables -S -t nat | grep {SVC}\n"
          f"-N {SVC}\n"
          f'-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j {SVC}\n'
          f'***-A {SVC} -m comment --comment "default/kubernetes:https" -j {SEP}\n'
          "\n"
          "# 위 내용을 따라 다음 정보도 확인해보자.***\n"
          f"$ sudo iptables -S -t nat | grep {SEP}\n"
          f"-N {SEP}\n"
          f'-A {SEP} -s 10.128.0.2/32 -m comment --comment "default/kubernetes:https" -j KUBE-MARK-MASQ\n'
          f'***-A {SEP} -p tcp -m comment --comment "default/kubernetes:https" -m tcp -j DNAT --to-destination 10.128.0.2:6443\n'
          "# 목적지를 변경하는 정책 --to-destination 10.128.0.2:6443***\n")


def _endpoints(path: str, service: str, *extra: str) -> list[str]:
    code, out, err = svcpath(service, "--rules-file", path, "-o", "json", *extra)
    assert code in (0, 3), err
    doc = json.loads(out)
    return [f"{e['ip']}:{e['port']}" for p in doc["ports"] for path_ in p["paths"] for e in path_["endpoints"]]


def test_markdown_emphasis_around_rule_lines_is_no_part_of_them(tmp_path: Path) -> None:
    """Was refused ('line 4: not an iptables-save line: ***-A …'), and with --lenient the DNAT rule was skipped:
    the endpoint read '?:?'."""
    paste = tmp_path / "notes.md"
    paste.write_text(NOTION)
    assert _endpoints(str(paste), "default/kubernetes") == ["10.128.0.2:6443"]
    code, out, err = svcpath("default/kubernetes", "--rules-file", str(paste))
    assert code == 0, err
    assert "the author's marks (arrows before, Markdown emphasis, '//', '<--' or '>>' notes after) on lines 4, 10" in out, out


def test_a_note_after_a_rule_is_cut_off(tmp_path: Path) -> None:
    """'// the entry' and '<-- only one endpoint' after rules: 'unexpected word '//'' (exit 8) before."""
    paste = tmp_path / "walk.txt"
    paste.write_text(f'-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp '
                     f"--dport 443 -j {SVC} // the entry\n"
                     f'-A {SVC} -m comment --comment "default/kubernetes:https" -j {SEP}    <-- only one endpoint\n'
                     f'-A {SEP} -p tcp -m comment --comment "x <-- y // z" -m tcp -j DNAT --to-destination 10.128.0.2:6443\n')
    assert _endpoints(str(paste), "default/kubernetes") == ["10.128.0.2:6443"]
    out = svcpath("default/kubernetes", "--rules-file", str(paste))[1]
    assert "notes after) on lines 1, 2 were read as no part of the rules" in out, out  # (line 3's marks are quoted)


def test_a_real_note_after_a_dnat_rule_is_said() -> None:
    """Sn0rt/Sn0rt.github.io: '--to-destination 10.188.166.159:80 // here is' (the words were read as values
    of --to-destination)."""
    paste = str(CORPUS / "sn0rt-xlb-local-node-greps-annotation.txt")
    out = svcpath("--all", "--rules-file", paste)[1]
    assert "notes after) on line 15 were read as no part of the rules" in out, out


def test_a_markdown_rule_between_pieces_is_a_cut(tmp_path: Path) -> None:
    """A '***' line inside a table: a cut between the author's pieces (nothing said absent), not a table."""
    paste = tmp_path / "dump.txt"
    paste.write_text(f"*nat\n:KUBE-SERVICES - [0:0]\n"
                     f'-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j {SVC}\n'
                     f"***\n"
                     f'-A {SVC} -m comment --comment "default/kubernetes:https" -j {SEP}\n'
                     "COMMIT\n")
    code, out, err = svcpath("--all", "--rules-file", str(paste))
    assert code == 0, err
    assert "Note: the input is a part of the rules: Services it does not show may exist" in out, out


CONTAINER = """/ # iptables -t nat -L KUBE-SERVICES |egrep apple-service
KUBE-SVC-Y4TE457BRBWMNDKG  tcp  --  anywhere             10.105.42.239        /* default/apple-service cluster IP */ tcp dpt:5678
/ # iptables -t filter -L KUBE-SERVICES |egrep apple-service

/ #  iptables -t nat -L KUBE-SEP-N6ACUILWO7XJGY5F
Chain KUBE-SEP-N6ACUILWO7XJGY5F (1 references)
target     prot opt source               destination
KUBE-MARK-MASQ  all  --  10.1.0.217           anywhere             /* default/apple-service */
DNAT       tcp  --  anywhere             anywhere             /* default/apple-service */ tcp to:10.1.0.217:5678
/ #
"""


def test_a_containers_root_prompt_is_a_prompt(tmp_path: Path) -> None:
    """'/ # iptables …' (a root shell in a container or `nsenter`, as in Docker Desktop notes, index id 20779078063):
    was refused, 'line 1: not an iptables -L rule line'."""
    paste = tmp_path / "notes.txt"
    paste.write_text(CONTAINER)
    code, out, err = svcpath("--all", "--rules-file", str(paste))
    assert code == 0, err
    assert out.splitlines()[1].split()[:6] == ["default", "apple-service", "?", "10.105.42.239", "5678", "?"], out


SESSION = """candidate@cka3962:~$ k -n project-hamster run p2-pod --image=nginx:1-alpine
pod/p2-pod created

candidate@cka3962:~$ k -n project-hamster get pod,svc,ep
NAME                 READY   STATUS    RESTARTS   AGE
pod/p2-pod           1/1     Running   0          2m31s

candidate@cka3962:~$ sudo -i

➜ root@cka3962:~# iptables-save | grep p2-service
-A KUBE-SEP-55IRFJIRWHLCQ6QX -p tcp -m comment --comment "project-hamster/p2-service" -m tcp -j DNAT --to-destination 10.44.0.31:80
-A KUBE-SERVICES -d 10.105.128.247/32 -p tcp -m comment --comment "project-hamster/p2-service cluster IP" -m tcp --dport 3000 -j KUBE-SVC-U5ZRKF27Y7YDAZTN
-A KUBE-SVC-U5ZRKF27Y7YDAZTN -m comment --comment "project-hamster/p2-service -> 10.44.0.31:80" -j KUBE-SEP-55IRFJIRWHLCQ6QX
# Warning: iptables-legacy tables present, use iptables-legacy-save to see them

➜ root@cka3962:~#
"""


def test_a_session_with_the_k_alias_and_oh_my_zsh_prompts_is_read(tmp_path: Path) -> None:
    """The shape of a CKA practice session (index ids 35933478069, 52500377769: copies of an exam simulator's
    solution, not kept in tests/corpus): `k` for kubectl, oh-my-zsh's '➜ ' before the prompt. Was refused at
    line 2 ('pod/p2-pod created': `k run`'s output was not known as another command's)."""
    paste = tmp_path / "session.txt"
    paste.write_text(SESSION)
    code, out, err = svcpath("--all", "--rules-file", str(paste))
    assert code == 0, err
    assert out.splitlines()[1].split()[:6] == ["project-hamster", "p2-service", "?", "10.105.128.247", "3000", "1"], out
    assert "line 2 (`k -n project-hamster run p2-pod --image=nginx:1-alpine` output)" in out, out
    assert "warning: legacy-tables-present" in out
