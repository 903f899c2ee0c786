"""IPVS mode end to end (the CLI, -o json): virtual servers matched to Service ports by address.

Dumps: the upstream README listing (shared/dumps) and tests/fixtures/ipvs (see its README: the
lab kernel has no IPVS, so the listings were rendered with ipvsadm's own formats).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DUMPS, EXAMPLE, ROOT, require_shared, svcpath

FIX = ROOT / "tests/fixtures/ipvs"
README_DUMP = "upstream-ipvs-readme-ipvsadm-ln.txt"
HELLO_MANIFEST = str(EXAMPLE / "manifest.yaml")


def run(service: str, files: list[str], manifest: str | None = None) -> tuple[int, dict[str, Any]]:
    args = [service]
    for f in files:
        args += ["--rules-file", f]
    if manifest:
        args += ["--manifest", manifest]
    code, out, err = svcpath(*args, "-o", "json")
    assert out, f"exit {code}: {err}"
    return code, json.loads(out)


def combined(tmp_path: Path, *names: str) -> str:
    """-Ln and -Ln --stats as a user pastes them: one file."""
    f = tmp_path / "ipvsadm.txt"
    f.write_text("".join((FIX / n).read_text() for n in names))
    return str(f)


def paths(doc: dict[str, Any], port: str) -> list[dict[str, Any]]:
    return next(p for p in doc["ports"] if p["name"] == port)["paths"]


def codes(doc: dict[str, Any]) -> set[str]:
    return {f["code"] for f in doc["findings"]}


@pytest.mark.parametrize("manifest", [None, str(ROOT / "tests/fixtures/ipvs/readme-services.yaml")], ids=["dump-only", "manifest"])
def test_upstream_readme(manifest):
    require_shared()
    dump = str(DUMPS / README_DUMP)
    # dump-only: IPVS names no Service; a virtual server is asked for by its address (issue 9, class 9)
    service = "10.0.0.1:443" if manifest is None else "default/kubernetes"
    code, doc = run(service, [dump], manifest)
    assert code == 0 and doc["proxyMode"] == "ipvs"
    port = "" if manifest is None else "https"
    (p,) = paths(doc, port)
    kind = "virtualServer" if manifest is None else "clusterIP"  # only the API says it is a cluster IP
    assert (p["entry"], p["address"], p["port"], p["verdict"], p["policyChain"]) == (kind, "10.0.0.1", 443, "forward", "TCP 10.0.0.1:443")
    assert p["chains"] == ["IPVS TCP 10.0.0.1:443"]
    (ep,) = p["endpoints"]
    assert (ep["ip"], ep["port"], ep["weight"], ep["probability"], ep["affinity"], ep["chain"]) == ("192.168.0.1", 6443, 1, 1.0, True, None)
    assert doc["ports"][0]["affinityTimeoutSeconds"] == 10800
    assert {"ipvs-deprecated"} <= codes(doc)
    if manifest:
        assert ep["inSlices"] is True
        code, doc = run("kube-system/kube-dns", [dump], manifest)
        assert code == 0
        for port, label in (("dns", "UDP 10.0.0.10:53"), ("dns-tcp", "TCP 10.0.0.10:53")):
            (p,) = paths(doc, port)
            assert p["policyChain"] == label and [(e["ip"], e["port"]) for e in p["endpoints"]] == [("172.17.0.2", 53)]


def test_hello_service_with_stats_and_iptables_side(tmp_path):
    ipvs = combined(tmp_path, "hello-ipvsadm-Ln.txt", "hello-ipvsadm-Ln-stats-exact.txt")
    code, doc = run("default/hello-service", [ipvs, str(FIX / "hello-iptables-save.txt")], HELLO_MANIFEST)
    assert code == 0, doc["findings"]
    v1 = {p["entry"]: p for p in paths(doc, "port-v1")}
    assert v1["clusterIP"]["chains"] == ["KUBE-SERVICES", "ipset KUBE-CLUSTER-IP", "IPVS TCP 10.101.173.15:39090"]
    assert (v1["clusterIP"]["packets"], v1["clusterIP"]["bytes"]) == (22, 2030)  # InPkts+OutPkts, InBytes+OutBytes
    (ep,) = v1["clusterIP"]["endpoints"]
    assert (ep["ip"], ep["port"], ep["weight"], ep["packets"], ep["ready"], ep["node"]) == ("192.168.189.15", 9090, 1, 22, True, "cp01")
    assert v1["nodePort"]["chains"] == ["KUBE-SERVICES", "KUBE-NODE-PORT", "ipset KUBE-NODE-PORT-TCP", "IPVS TCP 172.18.0.2:30725"]
    assert (v1["nodePort"]["address"], v1["nodePort"]["port"], v1["nodePort"]["packets"]) == ("172.18.0.2", 30725, 0)
    v2 = {p["entry"]: p for p in paths(doc, "port-v2")}
    assert v2["nodePort"]["endpoints"][0]["port"] == 9191 and v2["nodePort"]["packets"] == 11
    assert doc["counters"] is True
    assert codes(doc) == {"ipvs-deprecated"}


def test_hello_service_without_stats_has_no_counters():
    code, doc = run("default/hello-service", [str(FIX / "hello-ipvsadm-Ln.txt")], HELLO_MANIFEST)
    assert code == 0
    p = next(p for p in paths(doc, "port-v1") if p["entry"] == "clusterIP")
    assert (p["packets"], p["endpoints"][0]["packets"], p["endpoints"][0]["weight"]) == (None, None, 1)


@pytest.mark.parametrize("stats", ["dns-ipvsadm-Ln-stats-exact.txt", "dns-ipvsadm-Ln-stats.txt"])
def test_terminating_endpoint_has_weight_zero(tmp_path, stats):
    ipvs = combined(tmp_path, "dns-ipvsadm-Ln.txt", stats)
    code, doc = run("kube-system/kube-dns", [ipvs], str(FIX / "dns-services.yaml"))
    assert code == 0, doc["findings"]
    (p,) = paths(doc, "dns")
    eps = {e["ip"]: e for e in p["endpoints"]}
    assert (eps["10.244.1.5"]["weight"], eps["10.244.1.5"]["probability"]) == (1, 1.0)
    t = eps["10.244.2.9"]
    assert (t["weight"], t["probability"], t["terminating"], t["ready"], t["inSlices"]) == (0, 0.0, True, False, True)
    found = [f for f in doc["findings"] if f["code"] == "ipvs-weight-zero"]
    assert {f["port"] for f in found} == {"dns", "dns-tcp", "metrics"} and all(f["severity"] == "info" for f in found)
    dns = next(f for f in found if f["port"] == "dns")  # one server: singular noun and verb (was "1 real server(s) ... have")
    assert dns["message"] == "port dns 53/UDP: 1 real server of UDP 10.96.0.10:53 has weight 0 (terminating)"
    assert dns["detail"][0].startswith("Weight 0 is kube-proxy's graceful termination: 10.244.2.9:53 gets no new connections;")
    assert not {"stale-endpoint", "endpoint-not-programmed"} & codes(doc)
    if stats.endswith("exact.txt"):
        assert p["bytes"] == 123456789012 + 234567890123
    else:  # rounded by ipvsadm: the report carries what was printed
        assert p["bytes"] == 123_000_000_000 + 234_000_000_000


def test_all_weights_zero_is_an_error(tmp_path):
    text = (FIX / "dns-ipvsadm-Ln.txt").read_text().replace("Masq    1 ", "Masq    0 ")
    f = tmp_path / "ipvs.txt"
    f.write_text(text)
    code, doc = run("kube-system/kube-dns", [str(f)], str(FIX / "dns-services.yaml"))
    assert code == 3
    errors = [x for x in doc["findings"] if x["code"] == "ipvs-weight-zero" and x["severity"] == "error"]
    assert {x["port"] for x in errors} == {"dns", "dns-tcp", "metrics"}


def test_stale_and_missing_real_servers(tmp_path):
    """A real server no slice lists, and a ready endpoint with no real server."""
    text = (FIX / "dns-ipvsadm-Ln.txt").read_text().replace("10.244.1.5:53 ", "10.244.7.7:53 ")
    f = tmp_path / "ipvs.txt"
    f.write_text(text)
    code, doc = run("kube-system/kube-dns", [str(f)], str(FIX / "dns-services.yaml"))
    assert code == 3
    stale = [x for x in doc["findings"] if x["code"] == "stale-endpoint"]
    missing = [x for x in doc["findings"] if x["code"] == "endpoint-not-programmed"]
    assert {x["port"] for x in stale} == {"dns", "dns-tcp"} and all("10.244.7.7:53" in x["message"] for x in stale)
    assert {x["port"] for x in missing} == {"dns", "dns-tcp"} and all("10.244.1.5:53" in x["message"] for x in missing)


def test_missing_virtual_servers(tmp_path):
    lines = (FIX / "hello-ipvsadm-Ln.txt").read_text().splitlines(keepends=True)
    # drop the node port 31576 virtual server and its real server
    i = next(i for i, line in enumerate(lines) if line.startswith("TCP  172.18.0.2:31576"))
    f = tmp_path / "ipvs.txt"
    f.write_text("".join(lines[:i] + lines[i + 2:]))
    code, doc = run("default/hello-service", [str(f)], HELLO_MANIFEST)
    assert code == 3
    msgs = [x["message"] for x in doc["findings"] if x["code"] == "service-not-programmed"]
    assert msgs == ["port port-v2 49191/TCP: no IPVS virtual server for node port 31576/TCP on any address"]


def test_dump_only_pseudo_services():
    require_shared()
    code, out, _ = svcpath("--rules-file", str(DUMPS / README_DUMP), "--all", "-o", "json")
    doc = json.loads(out)
    items = doc["items"] if isinstance(doc, dict) and "items" in doc else doc
    # one unnamed item per virtual server: no made-up namespace, no "ClusterIP" the input does not show
    assert [(i["service"]["namespace"], i["service"]["name"], i["service"]["type"]) for i in items] == [(None, None, None)] * 3
    assert sorted(p["policyChain"] for i in items for port in i["ports"] for p in port["paths"]) == [
        "TCP 10.0.0.10:53", "TCP 10.0.0.1:443", "UDP 10.0.0.10:53"]
    assert all(any("IPVS names no Service" in n and "kubectl get svc -A" in n for n in i["notes"]) for i in items)


def test_node_ports_on_one_node_address_stay_apart(tmp_path):
    """Two node ports on the same node addresses are two Services; their virtual servers are node ports, not
    cluster IPs; and a grep'd listing (no real server lines) claims no absence."""
    listing = tmp_path / "ipvsadm.txt"
    listing.write_text("\n".join([
        "IP Virtual Server version 1.2.1 (size=4096)",
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
        *(line for port, rs in ((30080, "10.244.1.6:80"), (31443, "10.244.2.9:8443")) for addr in ("192.168.9.101", "127.0.0.1")
          for line in (f"TCP  {addr}:{port} rr", f"  -> {rs}                Masq    1      0          0")),
        "",
    ]))
    code, out, _ = svcpath("--rules-file", str(listing), "--all", "-o", "json")
    items = json.loads(out)["items"]
    ports = sorted((p["nodePort"], sorted((x["entry"], x["address"]) for x in p["paths"])) for i in items for p in i["ports"])
    assert ports == [(30080, [("nodePort", "127.0.0.1"), ("nodePort", "192.168.9.101")]),
                     (31443, [("nodePort", "127.0.0.1"), ("nodePort", "192.168.9.101")])]
    assert all(i["service"]["namespace"] is None and i["service"]["type"] is None for i in items)
    notes = [n for i in items for n in i["notes"] if n.startswith("IPVS names no Service")]
    assert sorted(n.rsplit(" ", 1)[1] for n in notes) == ["30080", "31443"]  # kubectl get svc -A | grep -w PORT
    # the same virtual servers grep'd out of the listing: no real server shown, so none is said to be missing
    grep = tmp_path / "grep.txt"
    grep.write_text("$ ipvsadm -Ln | grep -E '30080|31443'\nTCP  192.168.9.101:30080 rr\nTCP  127.0.0.1:30080 rr\n")
    code, out, _ = svcpath("--rules-file", str(grep), "--all", "-o", "json")
    (item,) = json.loads(out)["items"]
    assert code == 0 and [x["verdict"] for p in item["ports"] for x in p["paths"]] == ["not-in-input"] * 2
    assert not {"no-endpoints", "service-not-programmed"} & {f["code"] for f in item["findings"]}
