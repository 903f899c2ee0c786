"""Rules quoted in a Markdown list with mixed indentation: the first line by two tabs, the others by five spaces
(a Chinese post on kube 1.1's iptables proxier, "[原]kubernetes1.1版本上遇到的坑", 2018; index id 27367416895, no
repository to cite, so not in tests/corpus). No indentation is shared, so none was taken off, and no line started
with "-A": refused as "not a rule dump this tool can read". The rules are read as they are (the 1.1 layout: a MARK
0x4d415351 instead of KUBE-MARK-MASQ)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import svcpath

PASTE = (
    '\t\t-A KUBE-SEP-PU5BJ5CJYE3SLHYK -s 172.16.8.4/32 -m comment --comment "default/svc-nginx:" -j MARK --set-xmark 0x4d415351/0xffffffff\n'
    '     -A KUBE-SEP-PU5BJ5CJYE3SLHYK -p tcp -m comment --comment "default/svc-nginx:" -m tcp -j DNAT --to-destination 172.16.8.4:80\n'
    '     -A KUBE-SEP-PUI35VG6I46PKTF6 -s 172.16.8.2/32 -m comment --comment "default/svc-nginx:" -j MARK --set-xmark 0x4d415351/0xffffffff\n'
    '     -A KUBE-SEP-PUI35VG6I46PKTF6 -p tcp -m comment --comment "default/svc-nginx:" -m tcp -j DNAT --to-destination 172.16.8.2:80\n'
    '     -A KUBE-SERVICES -d 10.254.180.23/32 -p tcp -m comment --comment "default/svc-nginx: cluster IP" -m tcp --dport 80 -j KUBE-SVC-KMMA4UO25W53IH36\n'
    '     -A KUBE-SVC-KMMA4UO25W53IH36 -m comment --comment "default/svc-nginx:" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-PUI35VG6I46PKTF6\n'
    '     -A KUBE-SVC-KMMA4UO25W53IH36 -m comment --comment "default/svc-nginx:" -j KUBE-SEP-PU5BJ5CJYE3SLHYK\n'
)


def test_rules_indented_by_tabs_and_spaces_are_read(tmp_path: Path) -> None:
    paste = tmp_path / "paste.txt"
    paste.write_text(PASTE)
    code, out, err = svcpath("default/svc-nginx", "--rules-file", str(paste), "-o", "json")
    assert code == 0, err
    (port,) = json.loads(out)["ports"]
    (path,) = port["paths"]
    assert (path["entry"], path["address"], path["port"]) == ("clusterIP", "10.254.180.23", 80)
    assert sorted((e["ip"], e["port"], e["probability"]) for e in path["endpoints"]) == [
        ("172.16.8.2", 80, 0.5), ("172.16.8.4", 80, 0.5)]
