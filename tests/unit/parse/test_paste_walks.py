"""What authors do when they walk a Service's rules in a shell and paste the session: several greps of one
dump under their prompts, a chain listed again after a change, arrows pointing at rows, a bare prompt at
the end. Checked on the real pastes of tests/corpus (robric/k8s-svc-and-lb-testing, k3s v1.29.5) as users
run the plugin: table, --all and JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import svcpath

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
LB_WALK = str(CORPUS / "robric-k3s129-grep-loadbalancer-walk.txt")
CIP_WALK = str(CORPUS / "robric-k3s129-grep-clusterip-walk-notes.txt")
ARROWS = str(CORPUS / "robric-k3s129-L-n-v-arrow-marks.txt")
TWO_STATES = str(CORPUS / "robric-k3s129-S-v-counters-two-states.txt")


def _run(*args: str) -> str:
    code, out, err = svcpath(*args)
    assert code in (0, 3), err
    return out


def test_a_grep_walk_reads_each_rule_once() -> None:
    """Four greps print the loadbalancer and cluster IP rules twice each: one entry each, and the three
    endpoint chains (their DNAT not in the input) are three endpoints, not "1 endpoint"."""
    out = _run("default/nginx-mlb-l2-service", "--rules-file", LB_WALK)
    assert out.splitlines()[0].startswith("(unnamed) 80/TCP → 3 endpoints (state not in the input)")
    entries = [line.removeprefix("(unnamed) 80/TCP").split()[0] for line in out.splitlines()
               if "KUBE-SVC-W47NQ5DDJKUWFTVY" in line]
    assert entries == ["loadBalancer", "clusterIP", "nodePort"], out
    assert sum(line.count("?:?") for line in out.splitlines()) == 9  # 3 entries x 3 endpoint chains
    assert "lines 8, 14, 15, 16 repeat rules an earlier command in the paste printed" in out


def test_a_grep_walk_keeps_the_shares_and_its_bare_prompt_is_no_rule() -> None:
    """The jump rules printed by two greps were six rules of one chain (no share could be computed); the
    closing bare prompt ("ubuntu@vm1:~$  ") was refused as "not an iptables-save line"."""
    out = _run("default/nginx-service", "--rules-file", CIP_WALK)
    shares = [line.split()[-3] for line in out.splitlines() if ":80 " in line and "10.42." in line]
    assert shares == ["33.3%", "33.3%", "33.3%"], out
    assert "not an iptables-save line" not in out


def test_a_chain_listed_at_several_moments_is_read_from_its_last_listing() -> None:
    """`iptables -L KUBE-EXT-… -n -v` before (Cluster policy) and after (Local) a change: the last listing is
    read, with a note; the arrows the author put before rows are no part of them; a port whose rules the
    listing does not show is "not in the input", never "NO RULES … not programmed" nor "ok"."""
    out = _run("default/nginx-mlb-l2-service", "--rules-file", ARROWS, "--lenient")
    assert ("chain KUBE-EXT-W47NQ5DDJKUWFTVY is listed 3 times with other rules (lines 6, 19, 36): several moments "
            "pasted together; read from its last listing (line 36)") in out
    assert "the author's arrows (-->) before lines 8, 9, 24, 39, 40 were read as no part of the rules" in out
    assert "NO RULES" not in out and "not programmed" not in out
    assert "(unnamed) ?/TCP  ?      not in the input" in out
    row = _run("--all", "--rules-file", ARROWS, "--lenient").splitlines()[1].split()
    assert row[:2] == ["default", "nginx-mlb-l2-service"] and row[5] == "?" and " ".join(row[7:]) == "?: not in the input"
    tree = _run("default/nginx-mlb-l2-service", "--rules-file", ARROWS, "--lenient", "-o", "tree")
    assert "its rules are not in the input" in tree and "no rules for this port" not in tree


def test_iptables_S_listed_again_after_a_change_says_the_later_policy() -> None:
    """`iptables -S KUBE-EXT-… -v` before and after externalTrafficPolicy became Local: the earlier listing is
    left out with a note (read together, the chain said Cluster: the earlier state)."""
    out = _run("default/nginx-mlb-l2-service", "--rules-file", TWO_STATES, "--lenient")
    assert ("chain KUBE-EXT-W47NQ5DDJKUWFTVY is listed 2 times (-N at lines 5, 12): several moments pasted together; "
            "its last listing is read, lines 5, 6, 7 left out") in out
    doc = json.loads(_run("default/nginx-mlb-l2-service", "--rules-file", TWO_STATES, "--lenient", "-o", "json"))
    assert doc["service"]["externalTrafficPolicy"] == "Local"


def test_walk_clean_rules(tmp_path: Path) -> None:
    """The cleaner's own rules: a repeat within one command's output is a real duplicate (kept); whole
    tables are never thinned (two nodes' dumps hold the same rules); a bare prompt is a command line."""
    from kubectl_svcpath.parse.excerpt import clean

    rule = "-A KUBE-SVC-X -j KUBE-SEP-Y"
    same_run = clean(f"$ iptables-save | grep X\n{rule}\n{rule}\n")
    assert same_run.repeated == [] and same_run.text.count(rule) == 2
    two_runs = clean(f"$ iptables-save | grep X\n{rule}\n$ iptables-save | grep Y\n{rule}\nuser@host:~$\n")
    assert two_runs.repeated == [4] and two_runs.text.split("\n")[4] == "# user@host:~$"
    tables = f"# node1$ iptables-save\n*nat\n{rule}\nCOMMIT\n# node2$ iptables-save\n*nat\n{rule}\nCOMMIT\n"
    assert clean(tables).repeated == []
