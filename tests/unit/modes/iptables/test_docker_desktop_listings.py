"""A Docker Desktop VM's `iptables -t nat -nvL` and `iptables -t filter -nvL` (xiazemin/k8s_learn, 2021, kept
in tests/corpus): the filter listing ends in the shell's prompt without a line end; its only kube-proxy rules
naming a Service are the health check node port ACCEPTs of a LoadBalancer with externalTrafficPolicy Local;
its KUBE-FORWARD starts with "ctstate INVALID" DROP; and a --trace from outside forks into some 800 branches
on the Docker and CNI bridges' interface and source matches. Checked as users run the plugin.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import svcpath

CORPUS = Path(__file__).resolve().parents[3] / "corpus"
NAT = str(CORPUS / "xiazemin-docker-desktop-nat-nvL-rounded-counters.txt")
FILTER = str(CORPUS / "xiazemin-docker-desktop-filter-nvL-health-check-prompt-eof.txt")
SVC = "default/ingress-nginx-controller"


def _run(*args: str) -> str:
    code, out, err = svcpath(*args)
    assert code in (0, 3), err
    return out


def test_a_prompt_that_ends_the_paste_without_a_line_end_is_no_rule() -> None:
    """'/ #' last, no newline after it (the copy stopped at the cursor), in a paste whose first line is root's
    '# iptables -t filter -nvL': refused as 'line 82: not an iptables -L rule line'."""
    assert Path(FILTER).read_text(encoding="utf-8").endswith("\n/ #")
    code, out, err = svcpath("--all", "--rules-file", FILTER)
    assert code == 0, err
    assert "not an iptables -L rule line" not in err + out


def test_the_health_check_node_port_names_a_local_load_balancer() -> None:
    """filter KUBE-NODEPORTS' '… health check node port' ACCEPTs: kube-proxy writes them only for a
    healthCheckNodePort, which only a LoadBalancer with externalTrafficPolicy Local has. The filter listing
    alone said 'No Service in the input'; with the nat listing the Service was 'type NodePort'."""
    rows = _run("--all", "--rules-file", FILTER).splitlines()
    assert rows[1].split() == ["default", "ingress-nginx-controller", "LoadBalancer", "?", "?", "?", "-", "?:", "not", "in",
                               "the", "input"], rows
    assert "No Service in the input" not in "\n".join(rows)
    out = _run(SVC, "--rules-file", FILTER)
    assert "type LoadBalancer  cluster IP ?" in out
    assert "Policy:   externalTrafficPolicy Local, healthCheckNodePort 30380" in out
    both = _run(SVC, "--rules-file", NAT, "--rules-file", FILTER)
    assert "type LoadBalancer  cluster IP 10.108.133.209" in both and "type NodePort" not in both
    doc = json.loads(_run(SVC, "--rules-file", NAT, "--rules-file", FILTER, "-o", "json"))
    assert doc["service"]["type"] == "LoadBalancer" and doc["service"]["healthCheckNodePort"] == 30380
    assert doc["service"]["externalTrafficPolicy"] == "Local"
    # the nat table alone cannot tell: the KUBE-XLB chains' "LB IP" comments are a Local NodePort's too
    assert "type NodePort" in _run(SVC, "--rules-file", NAT)


def test_ctstate_in_a_listing_is_read_and_a_new_connection_is_not_invalid() -> None:
    """'DROP all -- * * 0.0.0.0/0 0.0.0.0/0 ctstate INVALID' (KUBE-FORWARD #1) was read as a bare DROP that
    'may hide a port or mark match': the trace from outside forked a branch 'dropped by filter KUBE-FORWARD #1'."""
    out = _run(SVC, "--rules-file", NAT, "--rules-file", FILTER, "--trace", "203.0.113.7",
               "--to", "192.168.65.4:30701", "--node-ip", "192.168.65.4")
    assert "KUBE-FORWARD #1" not in out.split("\nBranch ")[0]
    assert "dropped by filter KUBE-FORWARD" not in out and "may hide a port or mark match" not in out
    assert "delivered" in out


def test_a_branch_cell_of_hundreds_of_numbers_is_cut_and_counted() -> None:
    """A client whose address is not given forks on every bridge and CNI rule: two outcomes of 128 and 704
    branches, their numbers not in runs, made BRANCH cells thousands of characters wide."""
    out = _run(SVC, "--rules-file", NAT, "--rules-file", FILTER, "--trace", "outside",
               "--to", "192.168.65.4:30701", "--node-ip", "192.168.65.4")
    lines = out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.split()[:1] == ["BRANCH"])
    table = lines[head:lines.index("", head)]
    assert table[0].split() == ["BRANCH", "VERDICT", "ENDPOINT", "SHARE", "MASQUERADE"], table
    assert max(len(line) for line in table) < 100, table
    cells = [line.split("  ")[1].strip() if line.startswith("  ") else "" for line in table[1:]]
    assert "7,8,20,21,33,… 128 in all" in cells and "9-19,22-32,… 704 in all" in cells, table
    wide = _run(SVC, "--rules-file", NAT, "--rules-file", FILTER, "--trace", "outside",
                "--to", "192.168.65.4:30701", "--node-ip", "192.168.65.4", "-o", "wide")
    assert "7,8,20,21,33,34," in wide  # -o wide: every number
