"""Hostile comments written by the real iptables into a lab namespace, read back by iptables-save.

iptables accepts any bytes in a comment, escape sequences and newlines included, and
iptables-save prints them raw: the newline even splits the rule over two lines.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import svcpath
from tests.lab.netns import Lab, skip_or_fail, unavailable_reason

pytestmark = pytest.mark.lab

COMMENTS = [
    "ns/evil:p cluster IP\x1b[2J\x1b[31m",
    "line one\nline two",
    "carriage\rreturn \x07bell \x7fdel",
    'quotes " and \\ backslash',
]


@pytest.mark.parametrize("backend", ["legacy", "nft"])
def test_hostile_comments_from_real_iptables(backend: str, tmp_path) -> None:
    reason = unavailable_reason()
    if reason:
        skip_or_fail(reason)
    with Lab() as lab:
        node = lab.add_node("node")
        ipt = "iptables-legacy" if backend == "legacy" else "iptables-nft"
        lab.run(node, [ipt, "-t", "nat", "-N", "KUBE-SERVICES"])
        lab.run(node, [ipt, "-t", "nat", "-N", "KUBE-SVC-AAAAAAAAAAAAAAAA"])
        for i, comment in enumerate(COMMENTS):
            lab.run(node, [ipt, "-t", "nat", "-A", "KUBE-SERVICES", "-d", f"10.96.0.{i + 1}", "-p", "tcp", "-m", "comment",
                           "--comment", comment, "-m", "tcp", "--dport", "80", "-j", "KUBE-SVC-AAAAAAAAAAAAAAAA"])
        save = "iptables-legacy-save" if backend == "legacy" else "iptables-nft-save"
        # bytes, decoded by hand: text-mode pipes would turn the comment's \r into a newline
        raw = subprocess.run(["ip", "netns", "exec", node.ns, save, "-c", "-t", "nat"], capture_output=True, check=True).stdout
        dump = raw.decode("utf-8", errors="backslashreplace")
        assert "\x1b[2J" in dump and "line one\nline two" in dump  # the tool really printed them raw
        f = tmp_path / "dump.txt"
        f.write_bytes(raw)
        for fmt in ("table", "wide", "json", "yaml"):  # (-o tree is one Service's view: refused with --all, exit 2)
            code, out, err = svcpath("--rules-file", str(f), "--all", "-o", fmt, "--color", "never")
            # (exit 3: the service chain is empty in a whole table, so nothing is DNAT'ed: service-not-programmed)
            assert "Traceback" not in err and code == 3, err
            for bad in ("\x1b", "\x07", "\x7f", "\r"):
                assert bad not in out
        # the rules were read whole: the newline stayed inside its comment, not a line of its own
        from kubectl_svcpath.modes.iptables.parse_save import parse_iptables_save

        rules = parse_iptables_save(dump, "dump")
        comments = [r.comment for r in rules.rules_of("nat", "KUBE-SERVICES")]
        assert comments == COMMENTS
        # and JSON keeps the exact text, escaped
        code, out, _ = svcpath("--rules-file", str(f), "--all", "-o", "json")
        assert json.loads(out)["kind"] == "ServicePathList"
