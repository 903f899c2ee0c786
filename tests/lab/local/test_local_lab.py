"""`kubectl svcpath --local` on a node: real rules in a network namespace, real traffic, both backends.

The plugin runs inside the node namespace (``ip netns exec NODE kubectl-svcpath … --local``), as a
user on the node would run it, and reads that namespace's kernel tables. Every test also checks
the read-only promise: the namespace's tables (legacy table list, iptables-legacy-save, nft list
ruleset) are the same before and after the run, and no empty legacy table appeared.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from kubectl_svcpath import kubeproxy
from kubectl_svcpath.errors import ExitCode
from kubectl_svcpath.modes.iptables.parse_save import parse_iptables_save
from tests.conftest import EXAMPLE, ROOT
from tests.lab import kpgen
from tests.lab.netns import Lab, Node

pytestmark = pytest.mark.lab

CLI = Path(sys.executable).parent / "kubectl-svcpath"
READ_IPTC = Path(__file__).resolve().parent / "read_iptc.py"
RESTORE = EXAMPLE / "kube-proxy-restore-input.txt"
MANIFEST = EXAMPLE / "manifest.yaml"
CIP = "10.101.173.15"
POD_IP = "192.168.189.15"
IPTABLES = {"nft": "iptables-nft", "legacy": "iptables-legacy"}
BACKEND_NAME = {"nft": "nf_tables", "legacy": "legacy"}
SKEW_CODES = {"hidden-port-match", "hidden-mark-match", "prefix-shown-as-host", "table-incompatible",
              "port-match-missing", "mixed-backends", "legacy-tables-present"}


# --- helpers ----------------------------------------------------------------------------------

def hello_node(lab: Lab, backend: str, hint: bool = True) -> Node:
    """The seed scenario: kube-proxy's rules for hello-service, its pod serving 9090 and 9191."""
    node = lab.add_node("cp01")
    lab.add_pod(node, "hello-0", POD_IP, ports=[9090, 9191])
    lab.load_iptables(node, RESTORE.read_text(), backend=backend)
    if hint:  # what kubelet creates with the host's iptables, and kube-proxy's wrapper looks for
        lab.run(node, [IPTABLES[backend], "-t", "mangle", "-N", "KUBE-IPTABLES-HINT"])
    return node


def traffic(lab: Lab, node: Node) -> None:
    assert lab.connect(node, CIP, 39090, n=2) == [f"hello-0 {POD_IP}:9090"] * 2
    assert lab.connect(node, CIP, 49191, n=1) == [f"hello-0 {POD_IP}:9191"]


def tables_state(lab: Lab, node: Node) -> tuple[str, str, str]:
    """Everything --local could change: the rulesets, and which legacy tables exist at all."""
    names4 = lab.run(node, ["cat", "/proc/net/ip_tables_names"], check=False).stdout
    names6 = lab.run(node, ["cat", "/proc/net/ip6_tables_names"], check=False).stdout
    return lab.fingerprint(node), names4, names6


def run_local(lab: Lab, node: Node, *extra: str) -> tuple[int, dict[str, Any] | None, str]:
    r = lab.run(node, [str(CLI), "hello-service", "--local", "--manifest", str(MANIFEST), "-o", "json", *extra],
                check=False, timeout=120)
    doc = json.loads(r.stdout) if r.stdout.strip() else None
    return r.returncode, doc, r.stderr


def run_local_read_only(lab: Lab, node: Node, *extra: str) -> tuple[int, dict[str, Any] | None, str]:
    before = tables_state(lab, node)
    result = run_local(lab, node, *extra)
    after = tables_state(lab, node)
    assert after == before, "--local changed the namespace's tables"
    return result


def path(doc: dict[str, Any], port: str, entry: str) -> dict[str, Any]:
    p = next(p for p in doc["ports"] if p["name"] == port)
    return next(x for x in p["paths"] if x["entry"] == entry)


def codes(doc: dict[str, Any]) -> dict[str, str]:
    return {f["code"]: f["severity"] for f in doc["findings"]}


def finding(doc: dict[str, Any], code: str) -> dict[str, Any]:
    return next(f for f in doc["findings"] if f["code"] == code)


# --- the seed scenario on both backends -----------------------------------------------------------

@pytest.mark.parametrize("backend", ["nft", "legacy"])
def test_local_reads_paths_and_counters(lab: Lab, backend: str) -> None:
    node = hello_node(lab, backend)
    traffic(lab, node)
    legacy_before = tables_state(lab, node)[1]
    code, doc, err = run_local_read_only(lab, node)
    assert code == 0, err
    assert doc is not None and doc["backend"] == BACKEND_NAME[backend]
    v1, v2 = path(doc, "port-v1", "clusterIP"), path(doc, "port-v2", "clusterIP")
    assert (v1["address"], v1["port"], v1["packets"], v1["portShown"]) == (CIP, 39090, 2, True)
    assert (v2["address"], v2["port"], v2["packets"], v2["portShown"]) == (CIP, 49191, 1, True)
    assert [(e["ip"], e["port"], e["packets"], e["ready"]) for e in v1["endpoints"]] == [(POD_IP, 9090, 2, True)]
    assert [(e["ip"], e["port"], e["packets"], e["ready"]) for e in v2["endpoints"]] == [(POD_IP, 9191, 1, True)]
    assert v1["chains"] == ["KUBE-SERVICES", "KUBE-SVC-R4PDB35TUPNR4CEW"]
    np1 = path(doc, "port-v1", "nodePort")
    assert (np1["port"], np1["packets"]) == (30725, 0)
    assert np1["chains"] == ["KUBE-NODEPORTS", "KUBE-EXT-R4PDB35TUPNR4CEW", "KUBE-SVC-R4PDB35TUPNR4CEW"]
    assert not {c for c, sev in codes(doc).items() if sev == "error"}
    assert not SKEW_CODES & set(codes(doc))
    sources = {s["source"]: s for s in doc["sources"]}
    if backend == "nft":
        assert set(sources) == {"local: iptables-nft-save -c", "local: nft -j list table ip nat"}
        assert legacy_before == ""  # and (checked above) still no legacy table after the run
    else:
        assert set(sources) == {"local python-iptables (legacy)"}
        assert sources["local python-iptables (legacy)"]["format"] == "python-iptables"
        assert legacy_before.split() == ["mangle", "nat"]  # kube-proxy's nat and kubelet's hint, nothing more


def test_legacy_read_names_the_host_iptables_variant(lab: Lab) -> None:
    node = hello_node(lab, "legacy")
    plain = lab.run(node, ["iptables", "--version"]).stdout.strip()
    code, doc, err = run_local_read_only(lab, node)
    assert code == 0, err
    if "(nf_tables)" in plain:  # Debian's default `iptables` is the nft variant: it would show none of these rules
        assert any(n.startswith(f"`iptables` on this machine is {plain}") and "read with iptables-legacy" in n for n in doc["notes"])
    else:
        assert not any("`iptables` on this machine" in n for n in doc["notes"])


def test_local_without_kube_proxy_rules_creates_nothing(lab: Lab) -> None:
    node = lab.add_node("bare")
    code, doc, err = run_local_read_only(lab, node)
    assert code == 4 and doc is None
    assert "no kube-proxy rules on this machine" in err
    assert tables_state(lab, node)[1] == ""


# --- backends -----------------------------------------------------------------------------------

def stale_rules() -> str:
    # the same Service as an older kube-proxy left it, pointing at a pod that is gone
    return RESTORE.read_text().replace(POD_IP, "192.168.189.99")


@pytest.mark.parametrize("backend, other", [("nft", "legacy"), ("legacy", "nft")])
def test_rules_in_both_backends(lab: Lab, backend: str, other: str) -> None:
    node = hello_node(lab, backend)
    traffic(lab, node)  # before the stale rules: with both loaded, either nat table may DNAT first
    lab.load_iptables(node.ns, stale_rules(), backend=other)  # by name: node.backend stays the kubelet's
    code, doc, err = run_local_read_only(lab, node)
    assert code == 3, err
    assert doc["backend"] == BACKEND_NAME[backend]
    f = finding(doc, "mixed-backends")
    assert f["severity"] == "error" and "both iptables-nft and iptables-legacy" in f["message"]
    assert f"backend {BACKEND_NAME[backend]}: KUBE-IPTABLES-HINT in {IPTABLES[backend]}" in f["evidence"][0]
    if other == "legacy":
        assert "iptables-legacy nat KUBE-SERVICES: 3 rules" in f["evidence"]
    else:
        assert "iptables-nft ip nat: 8 kube-proxy chains" in f["evidence"]
    # the path shown is the one of the backend kube-proxy uses, not the stale one
    assert [e["ip"] for e in path(doc, "port-v1", "clusterIP")["endpoints"]] == [POD_IP]


def test_backend_without_hint_is_the_one_holding_rules(lab: Lab) -> None:
    node = hello_node(lab, "legacy", hint=False)
    code, doc, err = run_local_read_only(lab, node)
    assert code == 0, err
    assert doc["backend"] == "legacy"


def test_empty_legacy_tables_beside_nft(lab: Lab) -> None:
    node = hello_node(lab, "nft")
    lab.run(node, ["iptables-legacy", "-t", "filter", "-N", "SOME-HOST-TOOL"])  # a legacy table, no kube-proxy rules
    code, doc, err = run_local_read_only(lab, node)
    assert code == 0, err
    f = finding(doc, "legacy-tables-present")
    assert f["severity"] == "info"
    assert any("Warning: iptables-legacy tables present" in e for e in f["evidence"])
    assert "iptables-legacy tables present: filter (/proc/net/ip_tables_names)" in f["evidence"]
    assert "mixed-backends" not in codes(doc)


# --- what iptables cannot read ------------------------------------------------------------------------

def test_table_iptables_cannot_read(lab: Lab) -> None:
    # a native `ct state` match added with nft: iptables-nft-save prints "# Table `filter' is incompatible"
    node = hello_node(lab, "nft")
    lab.load_nft(node, "table ip filter {\n chain INPUT {\n  type filter hook input priority 0; policy accept;\n"
                       "  ct state established accept\n }\n}\n")
    traffic(lab, node)
    code, doc, err = run_local_read_only(lab, node)
    assert code == 0, err
    f = finding(doc, "table-incompatible")
    assert f["severity"] == "warning" and "cannot read the filter table at all" in f["message"]
    assert "local: nft -j list table ip filter" in {s["source"] for s in doc["sources"]}
    assert path(doc, "port-v1", "clusterIP")["packets"] == 2  # the nat table was still read


def test_rule_iptables_cannot_parse(lab: Lab) -> None:
    # a native payload match added with nft: iptables-nft-save 1.8.9 stops there with exit 3 (no COMMIT)
    node = hello_node(lab, "nft")
    lab.load_nft(node, "table ip nat {\n chain ZZ-NATIVE {\n  ip length 100 counter accept\n }\n}\n")
    traffic(lab, node)
    code, doc, err = run_local_read_only(lab, node, "--lenient")
    assert code == 0, err
    f = finding(doc, "table-incompatible")
    assert "stopped at a rule it cannot parse (exit 3)" in f["message"]
    assert any("Parsing nftables rule failed" in e for e in f["evidence"])
    assert path(doc, "port-v2", "clusterIP")["packets"] == 1  # KUBE-* chains come before ZZ-NATIVE


# --- python-iptables reads what iptables-legacy-save prints ----------------------------------------------

def variety() -> list[kpgen.ServiceSpec]:
    """Services that use every kind of rule kube-proxy writes in the nat and filter tables."""
    P = kpgen.PortSpec
    return [
        kpgen.hello_service(),
        kpgen.ServiceSpec("shop", "web", "10.96.1.10", [P("http", 80, 8080), P("dns", 53, 5353, protocol="UDP")],
                          endpoints=["10.244.1.5", "10.244.2.7", "10.244.3.9"], affinity_seconds=10800),
        kpgen.ServiceSpec("shop", "lb", "10.96.1.11", [P("https", 443, 8443, node_port=31443)],
                          endpoints=["10.244.1.6", "10.244.2.8"], local_endpoints={"10.244.1.6"}, type="LoadBalancer",
                          lb_ips=["203.0.113.7"], source_ranges=["198.51.100.0/24"], external_traffic_policy="Local",
                          health_check_node_port=32000),
        kpgen.ServiceSpec("shop", "ext", "10.96.1.12", [P("", 8000, 8000)], endpoints=["10.244.1.7"],
                          external_ips=["192.0.2.10"]),
        kpgen.ServiceSpec("shop", "empty", "10.96.1.13", [P("http", 80, 8080, node_port=30080)], type="NodePort"),
    ]


def test_python_iptables_reads_what_iptables_legacy_save_prints(lab: Lab) -> None:
    node = hello_node(lab, "legacy", hint=False)
    lab.load_iptables(node, kpgen.generate(variety(), kpgen.HELLO_CONFIG), backend="legacy")
    traffic(lab, node)
    text = lab.save(node, backend="legacy")
    assert "[2:120] -A KUBE-SERVICES" in text  # real counters to compare
    expected = parse_iptables_save(text, "iptables-legacy-save")
    start = sorted(c for c in expected.table("nat").chains if c.startswith(("KUBE-SVC-", "KUBE-EXT-", "KUBE-FW-", "KUBE-SVL-")))
    before = tables_state(lab, node)
    got = json.loads(lab.run(node, [sys.executable, str(READ_IPTC), *start]).stdout)
    assert tables_state(lab, node) == before
    fields = ("table", "chain", "position", "raw", "packets", "bytes", "protocol", "source_addr", "dest_addr", "in_iface",
              "out_iface", "matches", "options", "comment", "dport", "probability", "target", "goto", "target_options")
    compared = 0
    for rule in got["rules"]:
        want = expected.rules_of(rule["table"], rule["chain"])[rule["position"] - 1]
        for name in fields:
            assert rule[name] == getattr(want, name), (name, rule["raw"], want.raw)
        compared += 1
    for key, info in got["chains"].items():
        table, chain = key.split()
        want = expected.chain(table, chain)
        assert (info["policy"], info["packets"], info["bytes"], info["n"]) == (want.policy, want.packets, want.bytes, len(want.rules))
    # every chain of every Service was decoded, and nothing else was needed
    nat_read = {k.split()[1] for k in got["chains"] if k.startswith("nat ")}
    service_chains = {c for c in expected.table("nat").chains if c.startswith(kubeproxy.SERVICE_CHAIN_PREFIXES)}
    assert service_chains <= nat_read
    assert {r["options"].get("--probability", [None])[0] for r in got["rules"]} >= {"0.33333333349", "0.50000000000"}
    assert any("--rcheck" in r["options"] for r in got["rules"]) and any(r["target"] == "REJECT" for r in got["rules"])
    assert compared == sum(len(expected.rules_of(*k.split())) for k in got["chains"])
    assert got["dumps"][0]["backend"] == "legacy" and got["dumps"][0]["has_counters"] is True


def test_python_iptables_leaves_other_services_out(lab: Lab) -> None:
    node = hello_node(lab, "legacy", hint=False)
    lab.load_iptables(node, kpgen.generate(variety(), kpgen.HELLO_CONFIG), backend="legacy")
    expected = parse_iptables_save(lab.save(node, backend="legacy"), "iptables-legacy-save")
    hello = set(kpgen.service_chains("default/hello-service:port-v1", "tcp").values())
    got = json.loads(lab.run(node, [sys.executable, str(READ_IPTC), *sorted(hello)]).stdout)
    # the dispatch chains keep this Service's rules and the service-independent ones, at the kernel's positions
    kept = [(r["position"], r["target"]) for r in got["rules"] if (r["table"], r["chain"]) == ("nat", "KUBE-SERVICES")]
    want = [(r.position, r.target) for r in expected.rules_of("nat", "KUBE-SERVICES")
            if r.target in hello or not r.target.startswith(kubeproxy.SERVICE_CHAIN_PREFIXES)]
    assert kept == want and kept[-1][1] == "KUBE-NODEPORTS"
    assert len(expected.rules_of("nat", "KUBE-SERVICES")) > len(kept)  # others were left out
    read = {r["chain"] for r in got["rules"] if r["table"] == "nat"}
    assert not {c for c in read if c.startswith(kubeproxy.SERVICE_CHAIN_PREFIXES)} - hello - {
        c for c in read if c.startswith("KUBE-SEP-") and all(
            "hello-service:port-v1" in (r["comment"] or "") for r in got["rules"] if r["chain"] == c)}


def test_python_iptables_reads_ipv6_tables_too(lab: Lab) -> None:
    node = lab.add_node("v6")
    P = kpgen.PortSpec
    specs = [kpgen.ServiceSpec("shop", "web6", "fd00:10:96::10", [P("http", 80, 8080, node_port=30081)],
                               endpoints=["fd00:10:244::5", "fd00:10:244::7"], type="NodePort", affinity_seconds=600),
             kpgen.ServiceSpec("shop", "none6", "fd00:10:96::11", [P("dns", 53, 53, protocol="UDP")])]
    lab.load_iptables(node, kpgen.generate(specs, kpgen.ProxyConfig(cluster_cidr="fd00:10:244::/64", jumps=True)),
                      backend="legacy", ipv6=True)
    expected = parse_iptables_save(lab.run(node, ["ip6tables-legacy-save", "-c"]).stdout, "ip6tables-legacy-save")
    start = sorted(c for c in expected.table("nat").chains if c.startswith(("KUBE-SVC-", "KUBE-EXT-")))
    before = tables_state(lab, node)
    got = json.loads(lab.run(node, [sys.executable, str(READ_IPTC), "-6", *start]).stdout)
    assert tables_state(lab, node) == before
    assert got["rules"], "nothing read"
    uncounted = re.compile(r"^\[\d+:\d+\] ")  # IPv6 neighbour discovery moves filter counters meanwhile
    for rule in got["rules"]:
        want = expected.rules_of(rule["table"], rule["chain"])[rule["position"] - 1]
        assert {k: rule[k] for k in ("source_addr", "dest_addr", "protocol", "dport", "target", "options", "target_options")} == {
            "source_addr": want.source_addr, "dest_addr": want.dest_addr, "protocol": want.protocol,
            "dport": want.dport, "target": want.target, "options": want.options, "target_options": want.target_options}
        assert uncounted.sub("", rule["raw"]) == uncounted.sub("", want.raw)
    assert any(r["dest_addr"] == "fd00:10:96::10/128" for r in got["rules"])
    assert any((r["target_options"].get("--to-destination") or [""])[0] == "[fd00:10:244::5]:8080" for r in got["rules"])
    assert got["dumps"][0]["source"] == "local python-iptables (legacy, IPv6)"


def test_without_nft_the_iptables_nft_listing_still_serves(lab: Lab, tmp_path: Path) -> None:
    # a node without the nft binary: backend and rules come from iptables-nft-save alone
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("iptables", "iptables-nft", "iptables-legacy", "iptables-nft-save", "ip6tables-nft-save"):
        found = shutil.which(tool)
        assert found, tool
        (bindir / tool).symlink_to(found)
    node = hello_node(lab, "nft")
    traffic(lab, node)
    before = tables_state(lab, node)
    r = lab.run(node, ["env", f"PATH={bindir}", str(CLI), "hello-service", "--local", "--manifest", str(MANIFEST),
                       "-o", "json"], check=False)
    assert tables_state(lab, node) == before
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["backend"] == "nf_tables"
    assert [s["source"] for s in doc["sources"]] == ["local: iptables-nft-save -c"]
    assert any(n.startswith("nft is not installed") for n in doc["notes"])
    assert path(doc, "port-v1", "clusterIP")["packets"] == 2


def test_without_privileges_the_error_says_what_to_do(lab: Lab) -> None:
    node = hello_node(lab, "nft")
    r = lab.run(node, ["setpriv", "--bounding-set", "-net_admin,-net_raw", "--", str(CLI), "hello-service", "--local",
                       "--manifest", str(MANIFEST)], check=False)
    assert r.returncode == 7 and r.stdout == ""  # ExitCode.COLLECT_FAILED
    assert "Operation not permitted" in r.stderr and "root" in r.stderr
    assert "Traceback" not in r.stderr


def test_local_on_ipvs_rules_without_an_ipvs_table_says_so(lab: Lab) -> None:
    """IPVS mode's iptables half (its ipsets and rules restored here), and a kernel with no IPVS table
    (this lab's has no IPVS at all): --local names what is missing instead of asking for a file."""
    node = lab.add_node("ipvs")
    for name, kind, *extra in (("KUBE-CLUSTER-IP", "hash:ip,port"), ("KUBE-LOOP-BACK", "hash:ip,port,ip"),
                               ("KUBE-NODE-PORT-TCP", "bitmap:port", "range", "0-65535")):
        lab.run(node, ["ipset", "create", name, kind, *extra])
    lab.load_iptables(node, (ROOT / "tests/fixtures/ipvs/hello-iptables-save.txt").read_text(), counters=True)
    code, _, err = run_local(lab, node)
    assert code == ExitCode.UNSUPPORTED
    assert "IPVS mode" in err and "this machine's kernel holds no IPVS virtual server (/proc/net/ip_vs)" in err
    assert "--rules-file" not in err and "Traceback" not in err


def test_a_hostname_that_is_no_node_name_judges_no_locality(tmp_path: Path):
    """kube-proxy may know the node by another name than its hostname (--hostname-override, cloud names).
    --local took the hostname for the node's name and called the local endpoint of an
    externalTrafficPolicy Local Service "not local": a false endpoint-not-expected error (exit 3)."""
    import socket

    name = "svp-node-" + socket.gethostname()  # the Node's name: never this machine's hostname
    loc = kpgen.ServiceSpec("shop", "loc", "10.96.0.40", [kpgen.PortSpec("http", 80, 8080, node_port=30080)],
                            endpoints=["10.244.2.10"], local_endpoints={"10.244.2.10"}, type="NodePort",
                            external_traffic_policy="Local")
    manifest = tmp_path / "loc.json"
    manifest.write_text(json.dumps({"apiVersion": "v1", "kind": "List",
                                    "items": kpgen.api_objects(loc, node_of={"10.244.2.10": name})}))
    with Lab() as lab:
        node = lab.add_node("w1")
        lab.load_iptables(node, kpgen.generate([loc], kpgen.ProxyConfig(cluster_cidr="10.244.0.0/16", jumps=True)),
                          backend="nft")
        base = [str(CLI), "loc", "-n", "shop", "--local", "--manifest", str(manifest)]

        r = lab.run(node, base, check=False, timeout=120)

        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.startswith("http 80/TCP → 1 of 1 endpoint (ready), 0 pkts — OK"), r.stdout
        assert "node unknown," in r.stdout and "endpoint-not-expected" not in r.stdout
        assert f'this machine\'s hostname "{socket.gethostname()}" names no node of the API objects' in r.stdout

        r = lab.run(node, [*base, "--node", name], check=False, timeout=120)  # named: judged, and right

        assert r.returncode == 0 and f"node {name}," in r.stdout, r.stdout + r.stderr


def test_legacy_chains_read_whole_by_python_iptables_prove_a_missing_endpoint(tmp_path: Path):
    """python-iptables decodes this Service's own chains whole: an endpoint without a rule there is missing.
    They were taken as an excerpt ("Unknown: endpoints not shown: KUBE-SVC-… is not all in the input"), so a
    ready endpoint kube-proxy never programmed went unreported."""
    web = kpgen.ServiceSpec("shop", "web", "10.96.0.20", [kpgen.PortSpec("http", 80, 8080)], endpoints=["10.244.2.10"])
    objects = kpgen.api_objects(web, node_of={"10.244.2.10": "w1"})
    objects[1]["endpoints"].append({"addresses": ["10.244.2.11"], "nodeName": "w1",
                                    "conditions": {"ready": True, "serving": True, "terminating": False}})
    manifest = tmp_path / "web.json"
    manifest.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    with Lab() as lab:
        node = lab.add_node("w1")
        lab.load_iptables(node, kpgen.generate([web], kpgen.ProxyConfig(cluster_cidr="10.244.0.0/16", jumps=True)),
                          backend="legacy")
        before = tables_state(lab, node)

        r = lab.run(node, [str(CLI), "web", "-n", "shop", "--local", "--manifest", str(manifest), "--node", "w1"],
                    check=False, timeout=120)

        assert tables_state(lab, node) == before
    assert r.returncode == ExitCode.PROBLEMS_FOUND, r.stdout + r.stderr
    assert "read with python-iptables (legacy backend)" in r.stdout
    assert r.stdout.startswith("http 80/TCP → 1 of 2 endpoints (ready), 0 pkts — FAIL: endpoint-not-programmed"), r.stdout
    assert "not all in the input" not in r.stdout


READ_IPVS = Path(__file__).resolve().parent / "read_ipvs.py"


def test_local_ipvs_reads_the_nodes_ipsets(lab: Lab) -> None:
    """--local in IPVS mode runs `ipset list` there as live reads it in the pod: every set kube-proxy makes,
    real in the node's namespace, node port 31576 left out of KUBE-NODE-PORT-TCP. Without ipset installed,
    a note says what is not read."""
    from tests.lab import ipvsgen

    node = lab.add_node("ipvs")
    for name, kind in ipvsgen.KUBE_PROXY_SETS:
        lab.run(node, ipvsgen.create_set(name, kind))
    for name, member in (("KUBE-CLUSTER-IP", f"{CIP},tcp:39090"), ("KUBE-CLUSTER-IP", f"{CIP},tcp:49191"),
                         ("KUBE-NODE-PORT-TCP", "30725"), ("KUBE-IPVS-IPS", CIP)):
        lab.run(node, ["ipset", "add", name, member])
    read = [sys.executable, str(READ_IPVS), str(ROOT / "tests/fixtures/ipvs/hello-proc-net-ip_vs.txt"), str(MANIFEST)]
    doc = json.loads(lab.run(node, read).stdout)
    assert {"source": "local: ipset list", "format": "ipset", "kind": "local"}.items() <= doc["sources"][-1].items()
    (f,) = [f for f in doc["findings"] if f["code"] == "ipset-member-missing"]
    assert f["message"] == ("port port-v2 49191/TCP: kube-proxy's KUBE-NODE-PORT-TCP does not hold node port 31576, "
                            "which IPVS serves (TCP 172.18.0.2:31576)")
    doc = json.loads(lab.run(node, ["env", "PATH=/nonexistent", *read]).stdout)
    assert [s["format"] for s in doc["sources"]] == ["ipvsadm"]
    assert any(n.startswith("ipset is not installed here: kube-proxy's ipsets (KUBE-CLUSTER-IP, KUBE-NODE-PORT-TCP, …) "
                            "were not read") for n in doc["notes"])
