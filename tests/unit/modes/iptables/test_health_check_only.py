"""A Service whose only rule in the input is kube-proxy's health check node port ACCEPT (filter KUBE-NODEPORTS, "SPN
health check node port": a LoadBalancer with externalTrafficPolicy Local; a grep of the filter table, or a filter-only
dump). The report said "no service port to follow" and --all's summary "1 Service, 0 ports, 0 endpoints", as if the
Service had none: the input shows none of its ports, which are not 0. Now the verdict line says what is seen (the health
check node port, accepted for kube-proxy's health check server) and what is not, and the summary says the ports and
endpoints are not in the input (JSON totals: "portless")."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import svcpath_on

HC = '-A KUBE-NODEPORTS -m comment --comment "default/web:http health check node port" -m tcp -p tcp --dport 31234 -j ACCEPT\n'
OTHER = ('-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp '
         '--dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y\n')


def test_the_health_check_rule_alone_is_what_the_report_says(tmp_path: Path) -> None:
    code, out, err = svcpath_on(tmp_path, HC, "default/web")
    assert code == 0, err
    flat = " ".join(out.split())
    assert "no service port to follow" not in flat, out
    assert flat.startswith("health check node port 31234/TCP → accepted for kube-proxy's health check server (filter "
                           "KUBE-NODEPORTS); the Service's ports, cluster IP and endpoints are not in the input — UNKNOWN"), out
    code, out, err = svcpath_on(tmp_path, HC, "--all")
    assert code == 0, err
    assert "0 ports" not in out, out
    assert "1 Service, its ports and endpoints not in the input: 0 errors, 0 warnings, 0 ok, 1 not in the input" in out, out


def test_beside_another_service_the_summary_counts_the_ports_seen(tmp_path: Path) -> None:
    code, out, err = svcpath_on(tmp_path, HC + OTHER, "--all")
    assert code == 0, err
    assert ("2 Services, 1 port, endpoints not in the input (and 1 Service whose ports and endpoints are not in the input): "
            "0 errors, 0 warnings, 0 ok, 2 not in the input") in out, out
    doc = json.loads(svcpath_on(tmp_path, HC + OTHER, "--all", "-o", "json")[1])
    assert (doc["totals"]["ports"], doc["totals"]["portless"]) == (1, 1), doc["totals"]


def test_a_health_check_rule_listed_without_its_port_is_no_table_and_no_port_claim(tmp_path: Path) -> None:
    """An iptables older than kube-proxy's lists the health check ACCEPT without its --dport (stibbons-rapture's
    `iptables -L` in tests/corpus): the report said "no service port to follow", as of a Service without ports, and
    printed the path table's header with no row under it. Now the verdict says the ports are not in the input, and no
    empty table is drawn."""
    hidden = HC.replace(" -m tcp -p tcp --dport 31234", " -p tcp")
    code, out, err = svcpath_on(tmp_path, hidden, "default/web")
    assert code == 0, err
    assert out.splitlines()[0] == ("ports not in the input: the rules that name the Service show none of its ports — "
                                   "UNKNOWN"), out
    assert "no service port to follow" not in out and "PORT " not in out and "DESTINATION" not in out, out
    assert "Policy:   externalTrafficPolicy Local" in out, out
