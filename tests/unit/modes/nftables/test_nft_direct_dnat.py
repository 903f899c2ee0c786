"""kube-proxy v1.36's nftables layout: the Service's chain DNATs itself, no endpoint chains.

Users' listings of kube-proxy v1.36.2 (a kubeadm cluster on a Raspberry Pi, ``sudo nft list table
ip kube-proxy``) show each Service port's chain as one rule,

    meta l4proto tcp dnat ip to numgen random mod 2 map { 0 : 10.244.0.10 . 9898, 1 : 10.244.0.8 . 9898 }

(kube-proxy writes ``dnat ip addr . port to numgen …``; nft prints it back as above, and ``nft -j``
as ``{"dnat": {"family": "ip", "addr": {"map": {"key": {"numgen": …}, "data": {"set": [[0,
{"concat": ["10.244.0.10", 9898]}], …]}}}}}``: both checked with nft 1.0.6 here). Before, the tool
read no endpoint in such a chain and said, for every Service, "0 endpoints", "FAIL:
service-not-programmed" and "is in neither service-ips or no-endpoint-services" though the
address was in service-ips. The listings users paste are also cut by hand (the base chains and
service-nodeports left out, braces closed): nothing they do not show may be called absent.
"""

from __future__ import annotations

import json
from pathlib import Path

from kubectl_svcpath.modes.nftables.parse_json import parse_nft_json
from kubectl_svcpath.modes.nftables.parse_text import parse_nft_text
from tests.conftest import svcpath
from tests.lab.nftgen import NftPort, NftService, generate
from tests.unit.modes.nftables.test_nft_parse import _semantic

WEB = NftService("default", "web", "10.101.0.3", [NftPort("http", 80, 8080)],
                 endpoints=["10.244.1.11", "10.244.1.12", "10.244.1.13"])
HELLO = NftService("default", "hello-service", "10.101.173.15", [NftPort("port-v1", 39090, 9090, node_port=30725)],
                   endpoints=["192.168.189.15"])
EMPTY = NftService("default", "empty", "10.101.0.99", [NftPort("http", 80, 8080)], endpoints=[])

# The shape users paste (kube-proxy v1.36): sets, one map, the services chain and two Service chains;
# no base chains and no service-nodeports map although the services chain looks it up.
CUT = """\
user@node:~$ sudo nft list table ip kube-proxy
table ip kube-proxy {
\tcomment "rules for kube-proxy"
\tset cluster-ips {
\t\ttype ipv4_addr
\t\tcomment "Active ClusterIPs"
\t\telements = { 10.96.0.1, 10.96.0.10,
\t\t\t     10.100.192.23 }
\t}

\tmap service-ips {
\t\ttype ipv4_addr . inet_proto . inet_service : verdict
\t\tcomment "ClusterIP, ExternalIP and LoadBalancer IP traffic"
\t\telements = { 10.100.192.23 . tcp . 80 : goto service-YVSKLJHA-kproxy-lab/backend-api/tcp/http,
\t\t\t     10.96.0.1 . tcp . 443 : goto service-2QRHZV4L-default/kubernetes/tcp/https }
\t}

\tchain services {
\t\tip daddr . meta l4proto . th dport vmap @service-ips
\t\tip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports
\t}

\tchain service-2QRHZV4L-default/kubernetes/tcp/https {
\t\tmeta l4proto tcp dnat ip to numgen random mod 1 map { 0 : 192.168.0.231 . 6443 }
\t}

\tchain service-YVSKLJHA-kproxy-lab/backend-api/tcp/http {
\t\tmeta l4proto tcp dnat ip to numgen random mod 2 map { 0 : 10.244.0.10 . 9898, 1 : 10.244.0.8 . 9898 }
\t}
}
user@node:~$
"""

# what nft 1.0.6 -j prints for the backend-api chain's rule (listed here from a table loaded in a netns)
JSON_RULE = {"rule": {"family": "ip", "table": "kube-proxy", "chain": "service-YVSKLJHA-kproxy-lab/backend-api/tcp/http",
                      "handle": 7, "expr": [
                          {"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "tcp"}},
                          {"dnat": {"family": "ip", "addr": {"map": {
                              "key": {"numgen": {"mode": "random", "mod": 2, "offset": 0}},
                              "data": {"set": [[0, {"concat": ["10.244.0.10", 9898]}],
                                               [1, {"concat": ["10.244.0.8", 9898]}]]}}}}}]}}


def _json(tmp_path: Path, *args: str) -> tuple[int, dict, str]:
    code, out, err = svcpath(*args, "-o", "json")
    return code, json.loads(out) if out else {}, err


def _endpoints(doc: dict, entry: str = "clusterIP") -> list[tuple[str, int, float]]:
    path = next(p for p in doc["ports"][0]["paths"] if p["entry"] == entry)
    return [(e["ip"], e["port"], e["probability"]) for e in path["endpoints"]]


def test_whole_table_in_the_v136_layout_reads_each_endpoint_and_its_share(tmp_path: Path) -> None:
    dump = tmp_path / "kube-proxy.nft"
    dump.write_text(generate([WEB, HELLO, EMPTY], node_ips=["172.18.0.2"], pod_cidr="10.244.0.0/16", direct_dnat=True))
    code, out, err = svcpath("--rules-file", str(dump), "--all")
    assert code == 3, err  # default/empty has no endpoints (its no-endpoint-services element says so)
    rows = {line.split()[1]: line.split() for line in out.splitlines()[1:4]}
    assert rows["web"][5] == "3" and rows["web"][-1] == "ok"
    assert rows["hello-service"][5] == "1" and rows["hello-service"][-1] == "ok"
    assert rows["empty"][-1] == "no-endpoints"

    code, doc, err = _json(tmp_path, "default/web", "--rules-file", str(dump))
    assert code == 0, err
    assert _endpoints(doc) == [("10.244.1.11", 8080, 0.333333), ("10.244.1.12", 8080, 0.333333),
                               ("10.244.1.13", 8080, 0.333333)]
    assert all(e["chain"] is None for p in doc["ports"][0]["paths"] for e in p["endpoints"])  # there is none
    assert not [f for f in doc["findings"] if f["severity"] != "info"]
    code, doc, err = _json(tmp_path, "default/hello-service", "--rules-file", str(dump))
    assert _endpoints(doc, "nodePort") == [("192.168.189.15", 9090, 1.0)]


def test_a_cut_v136_listing_shows_the_endpoints_and_calls_nothing_absent(tmp_path: Path) -> None:
    dump = tmp_path / "pasted.txt"
    dump.write_text(CUT)
    code, out, err = svcpath("--rules-file", str(dump), "--all")
    assert code == 0, err
    assert "service-not-programmed" not in out and "error" not in out.split("\n\n")[0]
    assert "the input is a part of the rules" in out
    code, out, err = svcpath("kproxy-lab/backend-api", "--rules-file", str(dump))
    assert code == 0, err
    assert "2 endpoints" in out and "10.244.0.10:9898  50%" in out and "10.244.0.8:9898   50%" in out
    assert "neither" not in out and "0 endpoints" not in out
    assert ("the nftables listing was cut (services names @nodeport-ips (ip kube-proxy), which it does not hold; "
            "services names @service-nodeports (ip kube-proxy), which it does not hold)") in " ".join(out.split())
    code, doc, err = _json(tmp_path, "kproxy-lab/backend-api", "--rules-file", str(dump))
    svc = doc["service"]
    # no node port, Local policy or affinity seen, but the listing is cut: not known, not "ClusterIP"/"Cluster"/"None"
    assert (svc["type"], svc["externalTrafficPolicy"], svc["sessionAffinity"]) == (None, None, None)
    assert doc["excerpt"] is True
    code, doc, err = _json(tmp_path, "default/kubernetes", "--rules-file", str(dump))
    assert _endpoints(doc) == [("192.168.0.231", 6443, 1.0)]


def test_a_trace_through_a_listing_without_the_nat_base_chain_is_unknown_not_not_a_service(tmp_path: Path) -> None:
    dump = tmp_path / "pasted.txt"
    dump.write_text(CUT)
    code, out, err = svcpath("kproxy-lab/backend-api", "--rules-file", str(dump), "--trace", "10.244.0.9")
    assert code == 0, err
    assert "not-a-service" not in out and "not a Service address" not in out
    assert "kube-proxy's nat chain for the prerouting hook (nat-prerouting) is not in the input" in out


def test_the_trace_forks_on_the_dnat_map_and_masquerades_hairpin_only(tmp_path: Path) -> None:
    dump = tmp_path / "kube-proxy.nft"
    dump.write_text(generate([WEB], node_ips=["172.18.0.2"], pod_cidr="10.244.0.0/16", direct_dnat=True))
    code, out, err = svcpath("default/web", "--rules-file", str(dump), "--trace", "10.244.1.11", "--node-ip", "172.18.0.2")
    assert code == 0, err
    rows = [line.split() for line in out.splitlines() if line.strip().startswith(("1 ", "2 ", "3 "))]
    assert [(r[2], r[3], r[4]) for r in rows] == [("10.244.1.11:8080", "33.3%", "yes"), ("10.244.1.12:8080", "33.3%", "no"),
                                                  ("10.244.1.13:8080", "33.3%", "no")]  # only the pod back to itself
    code, out, err = svcpath("default/web", "--rules-file", str(dump), "--trace", "192.168.5.5", "--node-ip", "172.18.0.2")
    assert "yes (ip kube-proxy services #1)" in out  # from outside the pod network: services' own rule marks it


def test_text_and_json_of_the_dnat_map_read_the_same() -> None:
    text = ("table ip kube-proxy {\n\tchain service-YVSKLJHA-kproxy-lab/backend-api/tcp/http {\n"
            "\t\tmeta l4proto tcp dnat ip to numgen random mod 2 map { 0 : 10.244.0.10 . 9898, 1 : 10.244.0.8 . 9898 }\n"
            "\t}\n}\n")
    doc = json.dumps({"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
                                   {"table": {"family": "ip", "name": "kube-proxy", "handle": 1}},
                                   {"chain": {"family": "ip", "table": "kube-proxy", "handle": 2,
                                              "name": "service-YVSKLJHA-kproxy-lab/backend-api/tcp/http"}},
                                   JSON_RULE]})
    assert _semantic(parse_nft_text(text, "t")) == _semantic(parse_nft_json(doc, "j"))
    # kube-proxy's own input spelling ("dnat ip addr . port to …") reads the same too
    add = text.replace("dnat ip to", "dnat ip addr . port to")
    assert _semantic(parse_nft_text(add, "t")) == _semantic(parse_nft_text(text, "t"))


def test_a_mapped_address_whose_chain_is_missing_is_not_called_unmapped(tmp_path: Path) -> None:
    """The whole table, one Service chain deleted: the map still holds the address, so the only finding is
    that its chain is not there (before: also 'is in neither service-ips or no-endpoint-services')."""
    text = generate([WEB], node_ips=["172.18.0.2"], pod_cidr="10.244.0.0/16", direct_dnat=True)
    lines = [x for x in text.splitlines() if "service-SUSTUHLJ-default/web/tcp/http" not in x or "service-ips" in x]
    dump = tmp_path / "kube-proxy.nft"
    dump.write_text("\n".join(lines) + "\n")
    code, doc, err = _json(tmp_path, "default/web", "--rules-file", str(dump))
    assert code == 3, err
    msgs = [f["message"] for f in doc["findings"] if f["code"] == "service-not-programmed"]
    assert msgs == ["port http 80/TCP: clusterIP 10.101.0.3:80 leads to service-SUSTUHLJ-default/web/tcp/http, "
                    "which the dump does not hold or which picks no endpoint"]


def test_a_service_the_cut_listing_does_not_name_is_not_found_with_the_nft_hint(tmp_path: Path) -> None:
    dump = tmp_path / "pasted.txt"
    dump.write_text(CUT)
    code, out, err = svcpath("default/nginx", "--rules-file", str(dump))
    assert code == 4 and not out
    assert "; pass the whole table (nft -j list table ip kube-proxy)" in err and "iptables-save" not in err
