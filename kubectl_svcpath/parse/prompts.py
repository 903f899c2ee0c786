"""The lines around a pasted dump that are no rule: the shell's prompt and the command that printed the rules, the
author's prose and words, a kubectl table (parse/excerpt.py blanks them; parse/hosts.py reads the commands).

Apart from excerpt.py so that a tool's own output (iptables-save, read as printed) loads only what tells it
from a paste: the look at its first lines (``head_commands``). excerpt.py's ~70 patterns (~12 ms to compile)
load for a paste.
"""

from __future__ import annotations

import re

# what else authors paste around the rules: the shell prompt and command that printed them
# ("$ ipt KUBE-SERVICES", "[root@gv187 ~]# iptables -t nat -L", "root@kind-worker:/# iptables -S",
# "controlplane $ kubectl exec …", oh-my-zsh's "➜ root@cka3962:~# …", a container's "/ # iptables …"), the bare
# command, and a line of their own prose ("From the KUBE-NODEPORTS chain:"). Each becomes a "# " line: every parser reads those as comments, and
# the iptables -L reader still takes the table from a "-t filter" in them. ("COMMIT # end of nat" is no root prompt.)
# (CentOS's "[root@master1 ~]#ipvsadm -Ln": a bracketed prompt whose PS1 has no space before the command; a bare
# "$sudo iptables-save …", the "$" of a two-line prompt whose first line names the host and directory)
TOOLS = r"(?:sudo|ip6?tables[\w-]*|nft|ipvsadm|kubectl|conntrack|ipset)\s"
# (oh-my-zsh's default theme: "➜  ~ kgsvc testsvc", the arrow and the directory, no "$" or "#" after them)
PROMPT = re.compile(r"^\s*(?!COMMIT\s)(?:\u279c\s+[~\w./:-]+\s+(?:git:\([^)\s]*\)\s+)?(?:\u2717\s+)?(?![$#%]\s)\S|"
                    r"(?:\u279c\s+)?(?:\[[^\]\n]{0,80}@[^\]\n]{0,80}\][$#%]\s*\S|\$(?=" + TOOLS + r")\S|"
                    r"(?:\[[^\]\n]{0,80}\]|[\w.-]+@[\w.-]+[ \t]+[~/][\w.:~/-]*|[\w.-]+@[\w.:~/-]*|[\w.-]+:[~/][\w.:~/-]*|[\w.-]+|"
                    r"[~/][\w.:~/-]*|[~\w./-]{1,80}\])?\s*[$#%]\s+\S))")
# (a listing command alone, or piped: "sudo iptables-save | grep nginx-ext", "iptables-save > /tmp/x")
# (a cloud's CLI and a shell variable set from a command, "noderg=$(az aks show …)": the author's script around the rules)
COMMAND = re.compile(r"^\s*(?:sudo\s+)?(?:(?:ip6?tables(?:-legacy|-nft)?(?:-save)?|nft|ipvsadm|kubectl|crictl|docker|conntrack|minikube|"
                     r"az|aws|gcloud|eksctl)(?:\s+-?\w|\s*[|>]|\s*$)|[A-Za-z_]\w*=\$\()")
PROSE = re.compile(r"^[A-Z][^:\t]{2,100}:\s*$")
# a line of the author's own words in their script ("可以在宿主机上看到8000端口", "Есть наш сервис"): led by a letter
# outside ASCII, which no rule listing starts a line with; or led by "//", as a note over a rule is written in C; or
# by an arrow pointing at the line above ("      ↑ 20 次請求全部成功")
OWN_WORDS = re.compile(r"^\s*(?:[^\W\d_\x00-\x7f]|//|[\u2190-\u21ff])")
# kubectl get's table pasted without its command ("NAME    TYPE           CLUSTER-IP   EXTERNAL-IP   PORT(S) …", "NAME  READY
# STATUS …"): its header, NAME and two or more upper-case columns two spaces apart; it and its rows, down to a blank
# line or a rule, are left out (no listing prints such a header)
# (its last column cut or mistyped by the author: "… PORT(S)         w")
KUBECTL_TABLE = re.compile(r"^[ \t]*(?:NAMESPACE[ \t]{2,})?NAME(?:[ \t]{2,}[A-Z][A-Z()/-]*(?: [A-Z][A-Z()/-]*)?){2,}(?:[ \t]{2,}[a-z]\w{0,3})?[ \t\r]*$")
RULE_TOOL = re.compile(r"(?:^|[\s/|;])(?:ip6?tables(?:-legacy|-nft)?(?:-save)?|nft|ipvsadm|conntrack|ipset)(?=\s|$)")


def head_commands(text: str) -> bool:
    """A prompt, command or prose line among the first 40 lines (not "# " comments)."""
    head = text[:4096].split("\n")[:40]
    return any(not ln.lstrip().startswith("#") and (PROMPT.match(ln) or COMMAND.match(ln) or PROSE.match(ln) or OWN_WORDS.match(ln)
                                                   or KUBECTL_TABLE.match(ln))
               for ln in head)
