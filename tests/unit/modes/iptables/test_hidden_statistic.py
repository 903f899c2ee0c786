"""A service chain as the host's nft lists a table iptables-nft wrote: nft prints none of its endpoint jumps'
`-m statistic` matches (the differentpla k3s post, tests/corpus/differentpla-*), so three jumps read unconditional
while their counters (3, 3, 0) show packets past the first. Before: SHARE 100% / 0% / 0%, sessionAffinity None,
--trace delivered every packet to the first endpoint; the post's Markdown (a KUBE-SERVICES block cut with '...' that
never closes) was refused (exit 8), and its load balancer's address was called the cluster IP."""

from __future__ import annotations

import io
import json
from pathlib import Path

from kubectl_svcpath.app import Env, run
from kubectl_svcpath.options import Options
from tests.conftest import svcpath

CORPUS = Path(__file__).resolve().parents[3] / "corpus"
BLOCK = str(CORPUS / "differentpla-k3s-nft-svc-chain-hidden-statistic-counters.txt")
POST = str(CORPUS / "differentpla-k3s-nft-ruleset-md-svc-chain-hidden-statistic.txt")
SVC = "KUBE-SVC-2CMXP7HKUVJN7L6M"


def test_jumps_without_their_split_have_no_share() -> None:
    code, out, err = svcpath(SVC, "--rules-file", BLOCK, "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    hops = [e for p in doc["ports"] for path in p["paths"] for e in path["endpoints"]]
    assert [e["chain"] for e in hops] == ["KUBE-SEP-T3JGICIP4GFFPRGP", "KUBE-SEP-UPTBB2U3B55FJQPW", "KUBE-SEP-4NAVMHD34SAGR7OJ"]
    assert [e["probability"] for e in hops] == [None, None, None], hops
    assert doc["service"]["sessionAffinity"] is None  # (a hidden "recent" match reads as one more jump too)
    text = " ".join(svcpath(SVC, "--rules-file", BLOCK)[1].split())
    # (its parentheses closed: the last one, "(nft does not, …)", left "(KUBE-SVC-… shows" open)
    assert (f"Unknown: (unnamed) 80/TCP: endpoint shares: not in the input ({SVC} shows 2 endpoint jumps that match "
            "nothing with more after them, lines 3, 4: kube-proxy writes only its last endpoint jump so; the listing does "
            "not print the -m statistic match that splits the traffic, as nft does not in a table iptables-nft wrote) ") in text, text
    assert "100%" not in text and " 0% " not in text


def test_the_post_is_read_and_its_addresses_are_told_apart() -> None:
    code, out, err = svcpath(SVC, "--rules-file", POST, "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["service"]["clusterIPs"] == ["10.43.80.28"], doc["service"]  # (the service chain's masquerade rule)
    assert doc["service"]["unknownKindIPs"] == ["192.168.28.61"], doc["service"]
    (path,) = doc["ports"][0]["paths"]
    assert (path["entry"], path["address"], path["port"]) == ("external", "192.168.28.61", 80), path


def test_the_trace_forks_at_each_hidden_split() -> None:
    out = io.StringIO()
    opts = Options(service=SVC, rules_files=[POST], trace="outside", trace_to="192.168.28.61:80")
    run(opts, Env(out, io.StringIO(), isatty=True, width=80))
    text = out.getvalue()
    assert "depends: delivered in 1 branch, unknown in 3 branches" in text, text
    assert "-j KUBE-SEP-UPTBB2U3B55FJQPW (not in the input" in text and "KUBE-SEP-4NAVMHD34SAGR7OJ (not in" in text
    assert "it hides the -m statistic match that splits" in text
    wide = [line for line in text.splitlines() if len(line) > 80 and not line.startswith("Rules:")]  # (a path: one word)
    assert not wide, wide  # (a branch's "why:" and a stacked rule's action were not folded)
