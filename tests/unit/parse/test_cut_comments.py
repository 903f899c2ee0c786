"""The author's comment saying rules were cut out: a Chinese ACK tutorial (search index id 46232594081, its repository not
found) runs `k -n kube-system exec -it kube-flannel-ds-hjlb4 -c kube-flannel -- iptables -S -t nat` and pastes three
lines between '# 省略输出' ('output omitted') and '# 省略出书'; others write '# ... output omitted ...'. iptables-save
prints no comment inside a table but its own, so such a line is a cut: inside a whole-looking `*nat … COMMIT` dump it
was not one, and the report said 'error: service-not-programmed' (exit 3) of Services whose rules were cut out. And the
same tutorial's `kubectl describe svc nginx` (IP 172.19.0.166) beside rules of 172.19.15.240 said nothing of it."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ROOT, svcpath_on

DUMP = """\
*nat
:PREROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-4N57TFCL4MD7ZTDA - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
{cut}
-A KUBE-SERVICES -d 172.19.15.240/32 -p tcp -m comment --comment "default/nginx: cluster IP" -m tcp --dport 80 -j KUBE-SVC-4N57TFCL4MD7ZTDA
COMMIT
"""

ACK = """\
$ kubectl describe svc nginx
Name:              nginx
Namespace:         default
Labels:            app=nginx
Annotations:       <none>
Selector:          app=nginx
Type:              ClusterIP
IP:                172.19.0.166
Port:              <unset>  80/TCP
TargetPort:        80/TCP
Endpoints:         172.16.2.125:80,172.16.2.229:80
Session Affinity:  None
Events:            <none>

$ k -n kube-system exec -it kube-flannel-ds-hjlb4 -c kube-flannel -- iptables -S -t nat
# 省略输出
-A KUBE-SERVICES -d 39.96.133.156/32 -p tcp -m comment --comment "default/wrinkled-crocodile-selenium-hub:hub loadbalancer IP" -m tcp --dport 4444 -j KUBE-FW-SI6MMWWVN6LUBWIY
-A KUBE-SERVICES ! -s 172.16.0.0/16 -d 172.19.15.240/32 -p tcp -m comment --comment "default/nginx: cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ
-A KUBE-SERVICES -d 172.19.15.240/32 -p tcp -m comment --comment "default/nginx: cluster IP" -m tcp --dport 80 -j KUBE-SVC-4N57TFCL4MD7ZTDA
# 省略出书
"""


def test_a_cut_comment_inside_a_table_makes_it_a_part(tmp_path: Path) -> None:
    for cut in ("# 省略输出", "# ... output omitted ...", "# [snip]", "#   (rules skipped)"):
        code, out, err = svcpath_on(tmp_path, DUMP.format(cut=cut), "--all")
        assert code == 0 and "service-not-programmed" not in out, (cut, out)
        assert "?: not in the input" in out.splitlines()[1], (cut, out)
    code, out, err = svcpath_on(tmp_path, DUMP.format(cut="# the nginx Service's rule:"), "--all")
    assert "service-not-programmed" in out, out  # (an author's note that cuts nothing: the table is still whole)


def test_a_cut_comment_in_a_big_plain_dump_is_seen(tmp_path: Path) -> None:
    lines = (ROOT / "tests" / "corpus" / "k3s-blog-iptables-save-c-full.txt").read_text().splitlines(keepends=True)
    code, out, err = svcpath_on(tmp_path, "".join(lines[1:39] + ["# ... output omitted ...\n"] + lines[39:]), "--all")
    assert code == 3, err
    assert "the input is a part of the rules" in out and "1 ok" not in out, out


def test_a_description_showing_another_cluster_ip_is_said(tmp_path: Path) -> None:
    code, out, err = svcpath_on(tmp_path, ACK, "default/nginx")
    assert code == 0, err
    flat = " ".join(out.split())
    assert ("the pasted description of default/nginx shows cluster IP 172.19.0.166 (line 8), the rules 172.19.15.240: "
            "another moment of the Service, or an edit; the rules' is read") in flat, out
