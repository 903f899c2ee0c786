"""A port whose cluster IP path is seen whole but whose external ways in lead to a chain the input shows only in part
(vijayrod's grep of two AKS nodes, tests/corpus: node vmss000000's KUBE-EXT chain without its jump to KUBE-SVL, which
has no comment for the grep to keep). --all's HEALTH said "?: not in the input", but the report's verdict line said
"rules OK" and the closing summary counted the node "ok". Now the verdict says which traffic is not known, and the
summary names the node apart from the ok ones."""

from __future__ import annotations

from tests.conftest import ROOT, svcpath

PASTE = str(ROOT / "tests" / "corpus" / "vijayrod-aks-grep-two-nodes-local-notes-get-tables.txt")
NODE0 = "aks-npuser-11270689-vmss000000"
NODE2 = "aks-npuser-11270689-vmss000002"


def test_the_verdict_says_which_traffic_is_not_known() -> None:
    code, out, err = svcpath("--rules-file", PASTE, "nginx", "--node", NODE0)
    assert code == 0, err
    assert out.splitlines()[0] == ("(unnamed) 80/TCP → 1 endpoint (state not in the input), counters not in the input — "
                                   "UNKNOWN (where its loadBalancer, nodePort traffic goes is not in the input)"), out
    code, out, _ = svcpath("--rules-file", PASTE, "--all")
    assert [ln.split()[-5:] for ln in out.splitlines() if ln.startswith(NODE0)] == [["?:", "not", "in", "the", "input"]]


def test_the_nodes_summary_does_not_count_it_ok() -> None:
    code, out, err = svcpath("--rules-file", PASTE, "nginx")
    assert code == 0, err
    summary = " ".join(out[out.index("Summary:"):].split())
    assert summary == (f"Summary: 2 nodes: 0 ok, 1 with warnings ({NODE2}: no-local-endpoints), 1 with paths not in the "
                       f"input ({NODE0})"), summary
