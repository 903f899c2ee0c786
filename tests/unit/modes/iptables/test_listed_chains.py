"""`iptables -t nat -L CHAIN -n -v --line-numbers` walks of a few chains (apedano/kubernetes-doc, a kind node):
what they show is said, what they do not show is not made up. Run as users run the plugin."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import svcpath

CORPUS = Path(__file__).resolve().parents[3] / "corpus"
LB_WALK = str(CORPUS / "apedano-kind-L-nv-line-numbers-lb-walk.txt")


def _run(*args: str) -> str:
    code, out, err = svcpath(*args)
    assert code in (0, 3), err
    return out


def test_a_port_found_by_its_node_port_takes_its_cluster_ip_from_the_service_chain() -> None:
    """KUBE-NODEPORTS -> KUBE-EXT -> KUBE-SVC listed, no KUBE-SERVICES: the service chain's masquerade rule
    ('!10.244.0.0/16 10.96.91.224 … cluster IP … dpt:5678') shows the cluster IP and port (were '?' and
    'cluster IP: not in the input'). The Service is a LoadBalancer whose address rule is not pasted: its type
    stays unknown, never NodePort."""
    rows = [line.split() for line in _run("--all", "--rules-file", LB_WALK).splitlines()]
    assert rows[1][:6] == ["default", "foo-service", "?", "10.96.91.224", "5678:32591", "2"], rows
    out = _run("default/foo-service", "--rules-file", LB_WALK)
    assert out.splitlines()[0].startswith("(unnamed) 5678/TCP → 2 endpoints"), out
    assert "Unknown:  type: not in the input" in out and "cluster IP: not in the input" not in out
    doc = json.loads(_run("default/foo-service", "--rules-file", LB_WALK, "-o", "json"))
    assert doc["service"]["type"] is None and doc["service"]["clusterIPs"] == ["10.96.91.224"]


def test_all_over_a_few_listed_chains_says_other_services_may_exist() -> None:
    """Whole chains but not the table (no KUBE-SERVICES): '1 Service' is what the input shows, not the node's
    Services; the note said so only for grep output and bare lines."""
    out = _run("--all", "--rules-file", LB_WALK)
    assert "Note: the input is a part of the rules: Services it does not show may exist" in out, out
    services = str(CORPUS / "apedano-kind-L-n-line-numbers-services.txt")
    assert "Services it does not show may exist" not in _run("--all", "--rules-file", services)  # KUBE-SERVICES whole


def test_a_chain_listed_twice_says_twice_and_its_lines() -> None:
    """The note on a chain listed at two moments read 'listed 2 times'; with no header line known it said
    '(lines )' and 'line ?'."""
    from kubectl_svcpath.modes.iptables.parse_list import parse_iptables_list

    walk = (CORPUS / "apedano-kind-L-n-line-numbers-svc.txt").read_text()
    later = "\n".join(line for line in walk.splitlines() if not line.startswith("3 "))  # an endpoint gone
    rules = parse_iptables_list(walk + "\n" + later + "\n", "walk.txt")
    assert [d.repairs for d in rules.dumps] == [["chain KUBE-SVC-RMXBZCT6XVCXF3QP is listed twice with other rules "
                                                 "(lines 3, 11): several moments pasted together; read from its last "
                                                 "listing (line 11)",
                                                 # (the later listing, its last endpoint's line taken out, ends at a jump
                                                 # with a probability: cut there, as kube-proxy never ends a chain so)
                                                 "chain KUBE-SVC-RMXBZCT6XVCXF3QP is listed down to an endpoint's jump "
                                                 "with a probability (line 14) and no further: kube-proxy ends a service "
                                                 "chain with an unconditional jump, so the listing was cut there; its "
                                                 "other endpoints are not in the input"]]
