"""A service chain shown with its jumps, its endpoint chains not in the input (a grep or an `-L` of the service chain
alone, jumps without kube-proxy 1.28's '-> ADDR:PORT' comment): the endpoints' DNAT targets are not known. Before, the
port read "N endpoints … — rules OK", --all "ok", with every endpoint '?:?' and no word of why; now UNKNOWN, a
chain-not-in-input finding naming the chains, and --all's "?: not in the input"."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import corpus_cut, svcpath

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
AKS_LIST = str(CORPUS / "aks-blog-L-svc-chain-recent-check.txt")  # `iptables -t nat -nL KUBE-SVC-…`, three jumps
WALK = "semperti-ocp4-md-grep-walk-dns-default-arrow-notes.txt"  # lines 20-27: the output of `grep KUBE-SVC-BGNS…`


def test_a_listed_service_chain_alone_is_no_ok() -> None:
    code, out, err = svcpath("KUBE-SVC-K4VUERBNKSOP4S25", "--rules-file", AKS_LIST)
    assert code == 0, err
    flat = " ".join(out.split())
    assert "→ 3 endpoints (state not in the input), counters not in the input — UNKNOWN (its endpoint chains are not " \
           "in the input)" in flat, out
    assert ("chain-not-in-input: port (unnamed) ?/?: 3 endpoint chains the service chain jumps to are not in the input "
            "(KUBE-SEP-GB5ZXZKDF6JWMI74, KUBE-SEP-SHJOK7USDC7L53KY and KUBE-SEP-STQ7EMRESDHHERMG): where they send traffic "
            "is unknown") in flat, out
    assert "rules OK" not in flat


def test_a_grep_of_the_service_chain_alone(tmp_path: Path) -> None:
    f = corpus_cut(tmp_path, WALK, 20, 27)
    code, out, err = svcpath("--all", "--rules-file", f)
    assert code == 0, err
    row = next(r for r in out.splitlines() if r.startswith("openshift-dns "))
    assert row.endswith("?: not in the input") and " ok" not in row, out
    code, out, err = svcpath("openshift-dns/dns-default", "--rules-file", f, "-o", "json")
    doc = json.loads(out)
    (finding,) = [x for x in doc["findings"] if x["code"] == "chain-not-in-input"]
    assert finding["message"].startswith("port dns 53/UDP: 6 endpoint chains the service chain jumps to are not in the "
                                         "input (KUBE-SEP-RM5SOZAKVKA2GMP7, KUBE-SEP-E7N2MVG6CMQUL637, "
                                         "KUBE-SEP-AYFHHMJUNNRZIILG and 3 more)"), finding


def test_the_whole_walk_shows_them_and_is_rules_ok() -> None:
    code, out, err = svcpath("openshift-dns/dns-default", "--port", "dns", "--rules-file", str(CORPUS / WALK))
    assert code == 0, err
    assert "rules OK" in out.split("\n\n")[0] and "chain-not-in-input" not in out, out
