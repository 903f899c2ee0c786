"""iptables-nft 1.8.7 answers `iptables -S KUBE-SVC-…` (no -t nat) with "chain `KUBE-SVC-…' in table `filter'
is incompatible": one chain of the filter table, asked for by mistake, not a table iptables cannot read."""

from __future__ import annotations

import json

from tests.conftest import ROOT, svcpath

PASTE = ROOT / "tests/corpus/robric-k3s129-grep-S-v-L-nodeport-mixed.txt"  # (real: a k3s v1.29.5 shell session)


def test_a_nat_chain_listed_without_t_nat_is_said_so() -> None:
    code, out, err = svcpath("default/nginx-np-service", "--rules-file", str(PASTE), "--lenient", "-o", "json")
    assert code in (0, 3), err
    found = [f for f in json.loads(out)["findings"] if f["code"] == "table-incompatible"]
    assert len(found) == 1, found
    f = found[0]
    assert f["severity"] == "info"
    assert f["message"].startswith("iptables could not list chain KUBE-SVC-MUSBZEOMK5UKWKKU of the filter table: ")
    assert "cannot read the filter table at all" not in out
    assert f["action"] == "iptables -t nat -S KUBE-SVC-MUSBZEOMK5UKWKKU -v"
