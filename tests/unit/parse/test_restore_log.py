"""kube-proxy's own log of the iptables-restore input it writes, pasted as it is (kubectl logs of kube-proxy at -v=5,
or journalctl -u kube-proxy): "I0413 17:26:42.526157       5 proxier.go:938] Restoring iptables rules: *filter" then
the input's lines unprefixed (kubernetes#24357), the same behind journald's "Nov 14 11:06:11 HOSTNAME
kube-proxy[12085]: " on every line (kubernetes#36652), or klog's structured form ('"Restoring iptables" rules=<', each
line behind a tab, up to " >"). It was refused ('line 7: COMMIT outside a table'; the journald form: 'holds only blank
lines', exit 8): the klog header carried the first table's line and the log lines were left out. Now the restore input
is read without the log's prefixes, the other log lines left out, and a note says what the form costs: no counters, and
it is what kube-proxy asked for at that sync, not what the node holds (and, when kube-proxy logged that the restore
failed, that these rules may never have been applied, and the warning restore-failed: they were "rules OK"). Several
syncs: the last is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import svcpath_on

INPUT = [
    "*filter", ":KUBE-SERVICES - [0:0]", ":KUBE-FORWARD - [0:0]",
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT',
    "COMMIT", "*nat", ":KUBE-SERVICES - [0:0]", ":KUBE-NODEPORTS - [0:0]", ":KUBE-POSTROUTING - [0:0]", ":KUBE-MARK-MASQ - [0:0]",
    ":KUBE-SVC-NPX46M4PTMTKRN6Y - [0:0]", ":KUBE-SEP-WAUCGDKZ7FS22SOS - [0:0]",
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -m mark --mark '
    "0x00004000/0x00004000 -j MASQUERADE",
    "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x00004000/0x00004000",
    '-A KUBE-SERVICES ! -s 10.244.0.0/16 -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" '
    "-m tcp --dport 443 -j KUBE-MARK-MASQ",
    '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 '
    "-j KUBE-SVC-NPX46M4PTMTKRN6Y",
    '-A KUBE-SVC-NPX46M4PTMTKRN6Y -m comment --comment "default/kubernetes:https" -j KUBE-SEP-WAUCGDKZ7FS22SOS',
    '-A KUBE-SEP-WAUCGDKZ7FS22SOS -s 192.168.1.10/32 -m comment --comment "default/kubernetes:https" -j KUBE-MARK-MASQ',
    '-A KUBE-SEP-WAUCGDKZ7FS22SOS -p tcp -m comment --comment "default/kubernetes:https" -m tcp -j DNAT --to-destination '
    "192.168.1.10:6443",
    '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" '
    "-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS",
    "COMMIT"]
SYNC = "I0301 12:00:00.000000       1 proxier.go:1572] Syncing iptables rules"
DONE = "I0301 12:00:00.120000       1 proxier.go:1600] Network programming took 0.1 seconds"


def _klog(body: list[str]) -> list[str]:
    return [SYNC, f"I0301 12:00:00.100000       1 proxier.go:1592] Restoring iptables rules: {body[0]}", *body[1:], DONE]


def _journald(lines: list[str]) -> list[str]:
    return [f"Mar 01 12:00:00 node1 kube-proxy[1234]: {x}" for x in lines]


def _structured(body: list[str]) -> list[str]:
    return ['I0301 12:00:00.000000       1 proxier.go:1540] "Syncing iptables rules"',
            'I0301 12:00:00.100000       1 proxier.go:1570] "Restoring iptables" rules=<', *(f"\t{x}" for x in body), " >",
            'I0301 12:00:00.120000       1 proxier.go:1600] "SyncProxyRules complete" elapsed="20ms"']


NOTE = ("are kube-proxy's log of the iptables-restore input it wrote (\"Restoring iptables\", logged at -v=5 or more), "
        "read as that input without the log's prefixes: it carries no counters, and it is what kube-proxy asked for at "
        "that sync, not what the node's tables hold")


@pytest.mark.parametrize(("name", "lines", "span"), [
    ("klog", _klog(INPUT), "lines 2-22"),
    ("journald", _journald(_klog(INPUT)), "lines 2-22"),
    ("structured", _structured(INPUT), "lines 2-23"),
])
def test_the_restore_input_in_kube_proxys_log_is_read(tmp_path: Path, name: str, lines: list[str], span: str) -> None:
    code, out, err = svcpath_on(tmp_path, "\n".join(lines) + "\n", "default/kubernetes")
    assert code == 0, (name, err)
    flat = " ".join(out.split())
    assert flat.startswith("https 443/TCP → 1 endpoint (state not in the input), counters not in the input"), (name, out)
    assert "KUBE-SVC-NPX46M4PTMTKRN6Y 192.168.1.10:6443 100%" in flat, (name, out)
    assert f"{span} {NOTE}" in flat, (name, out)
    assert "may never have been applied" not in flat and "restore-failed" not in flat, (name, out)


def test_the_last_sync_is_read_and_a_failed_restore_is_said(tmp_path: Path) -> None:
    later = [x.replace("192.168.1.10", "192.168.1.11") for x in INPUT]
    failed = "E0301 12:00:01.130000       1 proxier.go:1610] Failed to execute iptables-restore: exit status 2"
    text = "\n".join(_klog(INPUT) + _klog(later)[:-1] + [failed]) + "\n"
    code, out, err = svcpath_on(tmp_path, text, "default/kubernetes")
    assert code == 0, err
    flat = " ".join(out.split())
    assert "192.168.1.11:6443" in flat and "192.168.1.10:6443" not in flat, out
    assert "the earlier syncs' input (lines 2-22) left out, the last one read" in flat, out
    assert ("kube-proxy logged right after it (line 46) that iptables-restore failed: these rules may never have been "
            "applied" in flat), out
    assert "WARN: restore-failed" in flat and ("WARNING restore-failed: kube-proxy logged that iptables-restore failed "
                                                "right after the input read: the node may hold none of these rules") in flat, out
    code, out, err = svcpath_on(tmp_path, text, "--all")
    assert out.splitlines()[1].split()[-1] == "restore-failed" and "1 warning, 0 ok" in out, out
