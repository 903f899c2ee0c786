"""Log lines pasted with the rules, without the command that printed them: kube-proxy's own klog lines
("I0330 09:28:56.497083       1 server_others.go:212] Using iptables Proxier.") and journald's ("Nov 14 11:06:11
HOSTNAME kube-proxy[12085]: -A KUBE-SVC-…", kube-proxy logging the restore input it tried). Before: refused at the
first log line ('not an iptables-save line', exit 8), or, journald's, read as rules though what kube-proxy tried to
write says nothing of what the kernel holds. Now left out with a note naming the lines; the rules are read."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import svcpath

RULES = """-A KUBE-SERVICES -d 10.98.69.149/32 -p tcp -m comment --comment "default/my-nginx-svc cluster IP" -m tcp --dport 3000 -j KUBE-SVC-NE3M6G7FP5C7DVRO
-A KUBE-SVC-NE3M6G7FP5C7DVRO -m comment --comment "default/my-nginx-svc" -j KUBE-SEP-DSBJGVCOU4RGUKVK
-A KUBE-SEP-DSBJGVCOU4RGUKVK -p tcp -m comment --comment "default/my-nginx-svc" -m tcp -j DNAT --to-destination 10.244.3.38:80
"""
KLOG = """I0330 09:28:56.497083       1 node.go:172] Successfully retrieved node IP: 10.210.40.172
W0330 09:28:56.498045       1 server_others.go:565] Unknown proxy mode "", assuming iptables proxy
I0330 09:28:56.608336       1 server_others.go:212] Using iptables Proxier.
"""
JOURNAL = """Nov 14 11:06:11 HOSTNAME kube-proxy[12085]: -A KUBE-SVC-NE3M6G7FP5C7DVRO -m comment --comment default/my-nginx-svc -j KUBE-SEP-SSNSCRUIRMZDLXKS
Nov 14 11:06:11 HOSTNAME kube-proxy[12085]: COMMIT
Nov 14 11:06:11 HOSTNAME kube-proxy[12085]: E1114 11:06:11.978073   12085 proxier.go:1282] Failed to execute iptables-restore: exit status 2
"""


def test_klog_lines_before_the_rules_are_left_out(tmp_path: Path) -> None:
    paste = tmp_path / "paste.txt"
    paste.write_text(KLOG + "\n" + RULES)
    code, out, err = svcpath("default/my-nginx-svc", "--rules-file", str(paste))
    assert code == 0, err
    assert "not rule output, left out: lines 1-3 (a log (klog or journald lines))" in out, out
    assert "10.244.3.38:80" in out


def test_journald_lines_are_no_rules(tmp_path: Path) -> None:
    """The logged restore input names another endpoint chain: not read into the Service's path."""
    paste = tmp_path / "paste.txt"
    paste.write_text(RULES + JOURNAL)
    code, out, err = svcpath("default/my-nginx-svc", "--rules-file", str(paste), "-o", "json")
    assert code == 0, err
    assert "KUBE-SEP-SSNSCRUIRMZDLXKS" not in out, out
    code, out, err = svcpath("--all", "--rules-file", str(paste))
    assert code == 0, err
    assert "lines 4-6 (a log (klog or journald lines))" in out, out


def test_the_legacy_tables_notice_without_its_hash_is_iptables_own(tmp_path: Path) -> None:
    """'Warning: iptables-legacy tables present, …' as a first line without its '# ' (a Markdown heading copied as
    text): was refused ('line 1: not an iptables-save line'); now iptables' notice, with its finding."""
    paste = tmp_path / "paste.txt"
    paste.write_text("Warning: iptables-legacy tables present, use iptables-legacy-save to see them\n" + RULES)
    code, out, err = svcpath("--all", "--rules-file", str(paste))
    assert code == 0, err
    assert "legacy-tables-present" in out, out
