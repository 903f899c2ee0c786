"""`kubectl describe service` output pasted with the rules: its facts are seen, with their lines.

The pastes here are built from kubectl's own layout (describe.go describeService) and kube-proxy's
chain names for shop/web:http; the real pastes of this form are in tests/corpus (ipvs-blog-*).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kubectl_svcpath.parse.describe import split_described
from tests.conftest import svcpath

DESCRIBE = """\
$ kubectl describe svc web -n shop
Name:                     web
Namespace:                shop
Labels:                   app=web
                          tier=front
Annotations:              <none>
Selector:                 app=web
Type:                     NodePort
IP Family Policy:         SingleStack
IP Families:              IPv4
IP:                       10.96.7.7
IPs:                      10.96.7.7
Port:                     http  80/TCP
TargetPort:               8080/TCP
NodePort:                 http  30080/TCP
Endpoints:                10.244.1.5:8080,10.244.2.6:8080 + 1 more...
Session Affinity:         None
External Traffic Policy:  Local
Internal Traffic Policy:  Cluster
HealthCheck NodePort:     31999
Events:                   <none>
"""

# grep output of the node's iptables-save for the same Service (1.28 layout, comments kept)
RULES = """\
$ iptables-save -t nat | grep shop/web
-A KUBE-SERVICES -d 10.96.7.7/32 -p tcp -m comment --comment "shop/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-67NZLRHBNDSAWJRO
-A KUBE-SVC-67NZLRHBNDSAWJRO -m comment --comment "shop/web:http -> 10.244.1.5:8080" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-34ZZ2QFGO32YYXXO
-A KUBE-SVC-67NZLRHBNDSAWJRO -m comment --comment "shop/web:http -> 10.244.2.6:8080" -j KUBE-SEP-6VCK77QPODAJLWFH
-A KUBE-SEP-34ZZ2QFGO32YYXXO -p tcp -m comment --comment "shop/web:http" -m tcp -j DNAT --to-destination 10.244.1.5:8080
-A KUBE-SEP-6VCK77QPODAJLWFH -p tcp -m comment --comment "shop/web:http" -m tcp -j DNAT --to-destination 10.244.2.6:8080
"""

IPVS = """\
# ipvsadm -Ln
IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.96.8.8:80 rr
  -> 10.244.3.7:8080              Masq    1      0          0
TCP  10.96.8.8:443 rr
  -> 10.244.3.7:8443              Masq    1      0          0
"""

TWO_PORTS = """\
# kubectl describe svc api
Name:              api
...
IP:                10.96.8.8
Port:              http  80/TCP
TargetPort:        8080/TCP
Endpoints:         10.244.3.7:8080
Port:              https  443/TCP
TargetPort:        8443/TCP
Endpoints:         10.244.3.7:8443
Session Affinity:  None

"""


def _json(tmp_path: Path, text: str, *args: str) -> dict[str, Any]:
    paste = tmp_path / "paste.txt"
    paste.write_text(text, encoding="utf-8")
    code, out, err = svcpath(*args, "--rules-file", str(paste), "-o", "json")
    assert code in (0, 3), err
    return json.loads(out)


def test_a_description_gives_the_facts_the_rules_do_not_show(tmp_path: Path) -> None:
    alone = _json(tmp_path, RULES, "shop/web")["service"]
    assert (alone["type"], alone["externalTrafficPolicy"], alone["sessionAffinity"]) == (None, None, None)
    doc = _json(tmp_path, DESCRIBE + "\n" + RULES, "shop/web")
    svc = doc["service"]
    assert (svc["type"], svc["externalTrafficPolicy"], svc["internalTrafficPolicy"], svc["sessionAffinity"]) == (
        "NodePort", "Local", "Cluster", "None")
    paste = str(tmp_path / "paste.txt")
    assert svc["seen"]["type"] == f"{paste}:8"
    assert svc["seen"]["externalTrafficPolicy"] == f"{paste}:18"
    assert svc["seen"]["sessionAffinity"] == f"{paste}:17"
    port = doc["ports"][0]
    assert (port["name"], port["port"], port["targetPort"], port["nodePort"]) == ("http", 80, 8080, 30080)
    assert "notInInput" not in doc or not any("sessionAffinity" in u or "type" in u for u in doc["notInInput"])
    note = next(n for n in doc["notes"] if "kubectl describe service shop/web" in n)
    assert "lines 2-21" in note and "10.244.1.5:8080, 10.244.2.6:8080 (and more kubectl did not print)" in note
    # the rules are read as before: both endpoints, from the DNAT rules
    assert {(e["ip"], e["port"]) for e in port["paths"][0]["endpoints"]} == {("10.244.1.5", 8080), ("10.244.2.6", 8080)}


def test_ipvs_entries_a_description_matches_become_its_service(tmp_path: Path) -> None:
    alone = _json(tmp_path, IPVS, "--all")
    assert [i["service"]["name"] for i in alone["items"]] == [None, None]
    doc = _json(tmp_path, TWO_PORTS + IPVS, "--all")
    (item,) = doc["items"]
    assert (item["service"]["name"], item["service"]["namespace"], item["service"]["clusterIPs"]) == ("api", None, ["10.96.8.8"])
    assert [(p["name"], p["port"], p["paths"][0]["entry"]) for p in item["ports"]] == [("http", 80, "clusterIP"), ("https", 443, "clusterIP")]
    assert {"port http", "port https", "name", "clusterIPs"} <= set(item["service"]["seen"])
    one = _json(tmp_path, TWO_PORTS + IPVS, "api")
    assert one["service"]["name"] == "api" and len(one["ports"]) == 2


def test_a_pod_description_is_not_a_service() -> None:
    pod = "Name:         web-1\nNamespace:    shop\nNode:         n1/10.0.0.1\nIP:           10.244.1.5\nPort:         8080/TCP\n"
    text, found = split_described(pod, "p")
    assert (text, found) == (pod, [])


def test_description_lines_are_blanked_and_cuts_kept() -> None:
    text, (d,) = split_described(TWO_PORTS + IPVS, "p")
    lines = text.split("\n")
    assert lines[0] == "# kubectl describe svc api" and lines[1] == "" and lines[2] == "..."
    assert lines[5] == "" and lines[13].startswith("IP Virtual Server")
    assert (d.first_line, d.last_line, [p.port for p in d.ports]) == (2, 11, [80, 443])


def test_all_table_shows_what_the_description_gives(tmp_path: Path) -> None:
    paste = tmp_path / "paste.txt"
    paste.write_text(DESCRIBE + "\n" + RULES, encoding="utf-8")
    code, out, err = svcpath("--all", "--rules-file", str(paste))
    assert code == 0, err
    assert out.splitlines()[1].split()[:4] == ["shop", "web", "NodePort", "10.96.7.7"]
    paste.write_text(RULES, encoding="utf-8")
    code, out, err = svcpath("--all", "--rules-file", str(paste))
    assert out.splitlines()[1].split()[:4] == ["shop", "web", "?", "10.96.7.7"]


def test_a_description_is_known_by_its_service_keys_alone() -> None:
    """No command line above it, no Session Affinity line: a TargetPort or Endpoints line still says it is a Service's."""
    text = "Name:         web\nIP:           10.96.7.7\nPort:         http  80/TCP\nTargetPort:   8080/TCP\n"
    _, (d,) = split_described(text, "p")
    assert (d.value("Name"), d.ports[0].target_port) == ("web", 8080)


def test_a_file_of_a_description_alone_says_so(tmp_path: Path) -> None:
    """`kubectl describe service` saved in a file of its own, passed beside the rules (or alone): it was 'holds only
    blank lines: no rules in it', with the hint that the command printed nothing (the description was read and blanked
    for the rule readers), or alone 'not a rule dump this tool can read'. Beside rules it is now read as what the
    Service shows; alone, the error says what the file holds."""
    from tests.conftest import DUMPS, svcpath

    described = tmp_path / "describe.txt"
    described.write_text("Name:              web\nNamespace:         shop\nType:              ClusterIP\nIP:                "
                         "10.96.50.1\nPort:              http  80/TCP\nTargetPort:        8080/TCP\nEndpoints:         "
                         "10.244.1.5:8080\nSession Affinity:  None\nEvents:            <none>\n")
    code, out, err = svcpath("web", "-n", "shop", "--rules-file", str(described))
    assert (code, out) == (8, "") and err.splitlines()[0] == f"error: {described}: holds `kubectl describe service` output and no rules", err
    save = str(DUMPS / "repo-blog-flannel-k8s-master-iptables-save.txt")
    code, out, err = svcpath("--all", "--rules-file", str(described), "--rules-file", save)
    assert code == 0 and err == "", err
    assert f"Note: {described}: lines 1-9 are `kubectl describe service shop/web` output" in " ".join(out.split()), out


def test_dump_only_says_what_the_service_was_rebuilt_from(tmp_path: Path) -> None:
    """With a pasted description read, dump-only said the Service 'was rebuilt from the rules alone'."""
    from tests.conftest import DUMPS, svcpath

    described = tmp_path / "describe.txt"
    described.write_text("Name:                     jtest\nNamespace:                default\nType:                     "
                         "NodePort\nIP:                       10.97.121.82\nPort:                     <unset>  8080/TCP\n"
                         "TargetPort:               8080/TCP\nNodePort:                 <unset>  31455/TCP\n"
                         "Session Affinity:         None\nEvents:                   <none>\n")
    save = str(DUMPS / "repo-blog-flannel-k8s-master-iptables-save.txt")
    code, out, err = svcpath("jtest", "--rules-file", str(described), "--rules-file", save)
    assert code == 0, err
    assert ("INFO dump-only: no API objects were cross-checked: the Service was rebuilt from the rules and what a pasted "
            "kubectl describe/get service shows") in " ".join(out.split()), out
    code, out, _ = svcpath("jtest", "--rules-file", save)
    assert "the Service was rebuilt from the rules alone" in " ".join(out.split()), out
