"""IPVS mode live, where the kube-proxy image has no ipvsadm.

Upstream's kube-proxy image (kubernetes/release images/build/distroless-iptables) stages iptables,
ipset, nft, kmod and cat, not ipvsadm: `ipvsadm -Ln --stats --exact` cannot start in the pod. The
kernel's own listing, /proc/net/ip_vs, holds the same virtual and real servers (in hex): the plugin
reads it with `cat` (on the allow-list) and says what that listing lacks.

The iptables half of IPVS mode is real: its ipsets are created and its rules restored in the node's
namespace. This machine's kernel has no IPVS (tests/fixtures/ipvs/README.md), so /proc/net/ip_vs does
not exist in the lab: the success case replays the kernel's listing (rendered with
ip_vs_info_seq_show's formats) through the API server's exec; the failure case runs the real `cat`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubectl_svcpath.errors import ExitCode
from tests.conftest import svcpath
from tests.lab import ipvsgen, kpgen
from tests.live.conftest import Scenario
from tests.live.test_faults import hint_of, one_error

pytestmark = pytest.mark.lab

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "ipvs"
PROC = ("cat", "/proc/net/ip_vs")
IPVSADM = ["ipvsadm", "-Ln", "--stats", "--exact"]
IPSET = ("ipset", "list")
# kube-proxy's ipsets that the iptables half matches (ipset names and types of pkg/proxy/ipvs)
IPSETS = (("KUBE-CLUSTER-IP", "hash:ip,port"), ("KUBE-LOOP-BACK", "hash:ip,port,ip"),
          ("KUBE-NODE-PORT-TCP", "bitmap:port", "range", "0-65535"))


def ipvs_node(scenario: Scenario, command: tuple[str, ...] = ("kube-proxy", "--proxy-mode=ipvs")) -> str:
    """hello-service on node cp01 in IPVS mode: the ipsets and iptables rules kube-proxy writes there,
    and a kube-proxy pod whose image lacks ipvsadm."""
    node = scenario.node("cp01", command=list(command))
    for name, kind, *extra in IPSETS:
        scenario.lab.run(node, ["ipset", "create", name, kind, *extra])
    scenario.lab.load_iptables(node, (FIX / "hello-iptables-save.txt").read_text(), counters=True)
    scenario.cluster.add_objects(kpgen.api_objects(kpgen.hello_service(), node_of={"192.168.189.15": "cp01"}))
    scenario.cluster.faults.missing_binaries = {"ipvsadm"}
    scenario.snapshot_rules()
    return node.ns


def test_ipvs_without_ipvsadm_reads_the_kernels_listing(scenario: Scenario):
    ns = ipvs_node(scenario)
    scenario.cluster.replay[(ns, PROC)] = (FIX / "hello-proc-net-ip_vs.txt").read_bytes()
    code, out, err = svcpath("hello-service", "--kubeconfig", str(scenario.kubeconfig()))
    assert code == 0, err
    assert "Traceback" not in err
    # each port's virtual servers and real server, decoded from the kernel's hex
    assert "TCP 10.101.173.15:39090" in out and "192.168.189.15:9090" in out
    assert "TCP 10.101.173.15:49191" in out and "192.168.189.15:9191" in out
    assert "0A65AD0F" not in out.split("Note:")[0]  # (the hex is in the evidence, not in the table)
    flat = " ".join(out.split())
    assert "the kube-proxy image has no `ipvsadm`: the IPVS table was read with `cat /proc/net/ip_vs`" in flat
    assert "no packet counters" in flat and "/proc/net/ip_vs listing (addresses and ports in hex)" in flat
    assert "counters not in the input" in out
    execs = [tuple(a) for a in scenario.cluster.execs()]
    # each listing once: the save, the two ipvsadm listings and kube-proxy's sets side by side, then the kernel's listing
    assert sorted(execs) == sorted([("iptables-save", "-c"), tuple(IPVSADM), ("ipvsadm", "-Ln"), IPSET, PROC])
    assert flat.count("has no `ipvsadm`") == 1 and flat.count("addresses and ports in hex") == 1
    scenario.assert_read_only()


def test_ipvs_without_ipvsadm_or_proc_listing_is_one_clear_error(scenario: Scenario):
    ipvs_node(scenario)  # (no replay: the real `cat /proc/net/ip_vs` fails, the lab's kernel has no IPVS)
    code, out, err = svcpath("hello-service", "--kubeconfig", str(scenario.kubeconfig()))
    assert code == ExitCode.COLLECT_FAILED
    assert '"ipvsadm" is not in the container' in one_error(err) and "/proc/net/ip_vs could not be read" in one_error(err)
    assert "pass both outputs with --rules-file" in hint_of(err) and "--local" not in hint_of(err)
    execs = [tuple(a) for a in scenario.cluster.execs()]
    assert tuple(IPVSADM) in execs and PROC in execs
    scenario.assert_read_only()


def test_ipvs_reads_counters_and_weights(scenario: Scenario):
    """An image with ipvsadm: --stats gives each hop's counters, -Ln the weights and scheduler (the
    kernel's listings replayed: this kernel has no IPVS)."""
    ns = ipvs_node(scenario)
    scenario.cluster.faults.missing_binaries = set()
    scenario.cluster.replay[(ns, tuple(IPVSADM))] = (FIX / "hello-ipvsadm-Ln-stats-exact.txt").read_bytes()
    scenario.cluster.replay[(ns, ("ipvsadm", "-Ln"))] = (FIX / "hello-ipvsadm-Ln.txt").read_bytes()
    code, out, err = svcpath("hello-service", "--kubeconfig", str(scenario.kubeconfig()))
    assert code == 0, err
    flat = " ".join(out.split())
    assert "192.168.189.15:9090 w1" in out  # the weight, from -Ln
    assert "no ipvsadm -Ln listing" not in flat and "no ipvsadm --stats listing" not in flat
    assert "counters not in the input" not in out
    execs = [tuple(a) for a in scenario.cluster.execs()]
    assert sorted(execs) == sorted([("iptables-save", "-c"), tuple(IPVSADM), ("ipvsadm", "-Ln"), IPSET])
    scenario.assert_read_only()


# kube-proxy's members for hello-service (pkg/proxy/ipvs: each cluster IP,proto:port, each node port, each
# endpoint ip,proto:port,ip for hairpin masquerade), added to the node's real sets
MEMBERS = (("KUBE-CLUSTER-IP", "10.101.173.15,tcp:39090"), ("KUBE-CLUSTER-IP", "10.101.173.15,tcp:49191"),
           ("KUBE-NODE-PORT-TCP", "30725"), ("KUBE-NODE-PORT-TCP", "31576"),
           ("KUBE-LOOP-BACK", "192.168.189.15,tcp:9090,192.168.189.15"),
           ("KUBE-LOOP-BACK", "192.168.189.15,tcp:9191,192.168.189.15"))


def with_ipvsadm(scenario: Scenario, members: tuple[tuple[str, str], ...] = MEMBERS, filtered: bool = False) -> str:
    """ipvs_node with an image that has ipvsadm (its listings replayed) and kube-proxy's set members; ``filtered``:
    every set kube-proxy makes, and its filter table's KUBE-IPVS-FILTER."""
    ns = ipvs_node(scenario)
    if filtered:
        for name, kind in ipvsgen.KUBE_PROXY_SETS:
            scenario.lab.run(scenario.nodes["cp01"], ipvsgen.create_set(name, kind))
        scenario.lab.load_iptables(scenario.nodes["cp01"], ipvsgen.IPVS_FILTER, counters=True)
    scenario.cluster.faults.missing_binaries = set()
    scenario.cluster.replay[(ns, tuple(IPVSADM))] = (FIX / "hello-ipvsadm-Ln-stats-exact.txt").read_bytes()
    scenario.cluster.replay[(ns, ("ipvsadm", "-Ln"))] = (FIX / "hello-ipvsadm-Ln.txt").read_bytes()
    for name, member in members:
        scenario.lab.run(scenario.nodes["cp01"], ["ipset", "add", name, member])
    scenario.snapshot_rules()
    return ns


def _same_sources(doc: dict, names: dict[str, str]) -> str:
    """A report's JSON with its sources named as ``names`` says and its read times left out: what else it says."""
    # (and the node's zone: live, the Node read says it has none; offline, no Node is given)
    doc = {k: v for k, v in doc.items() if k not in ("sources", "node", "kubeProxyPod", "rulesRead")}
    doc["expected"] = {k: v for k, v in doc["expected"].items() if k != "zoneSource"}
    text = json.dumps(doc, indent=1)
    for old, new in names.items():
        text = text.replace(json.dumps(old)[1:-1], new)
    return text


def test_ipvs_reads_kube_proxys_ipsets_as_a_paste_is_read(scenario: Scenario, tmp_path: Path):
    """`ipset list` runs in the pod (the real ipset, in the node's namespace, through the API server's exec)
    and is read as a pasted one: each Service address's member is its path's evidence, and the live report
    says what the offline one says of the same listings."""
    with_ipvsadm(scenario)
    kubeconfig = str(scenario.kubeconfig())
    code, out, err = svcpath("hello-service", "--kubeconfig", kubeconfig, "-o", "json")
    assert code == 0, err
    live = json.loads(out)
    pod = live["kubeProxyPod"]
    assert {"source": f"node cp01 pod {pod}: ipset list", "format": "ipset", "kind": "pod"}.items() <= live["sources"][-1].items()
    listing = scenario.lab.run(scenario.nodes["cp01"], ["ipset", "list"]).stdout
    line = listing.splitlines().index("10.101.173.15,tcp:39090") + 1
    cluster_ip = live["ports"][0]["paths"][0]
    assert cluster_ip["entry"] == "clusterIP" and f"node cp01 pod {pod}: ipset list:{line}" in cluster_ip["evidence"]
    # the same listings offline: the node's save and sets as its commands print them, ipvsadm's as replayed
    files = {"iptables-save -c": scenario.lab.run(scenario.nodes["cp01"], ["iptables-nft-save", "-c"]).stdout,
             "ipvsadm -Ln --stats --exact": (FIX / "hello-ipvsadm-Ln-stats-exact.txt").read_text(),
             "ipvsadm -Ln": (FIX / "hello-ipvsadm-Ln.txt").read_text(), "ipset list": listing}
    args: list[str] = []
    for i, text in enumerate(files.values()):
        (tmp_path / f"{i}.txt").write_text(text)
        args += ["--rules-file", str(tmp_path / f"{i}.txt")]
    objects = kpgen.api_objects(kpgen.hello_service(), node_of={"192.168.189.15": "cp01"})
    (tmp_path / "svc.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    code, out, err = svcpath("hello-service", *args, "--manifest", str(tmp_path / "svc.json"), "--node", "cp01", "-o", "json")
    assert code == 0, err
    offline = json.loads(out)
    names = {str(tmp_path / f"{i}.txt"): f"node cp01 pod {pod}: {cmd}" for i, cmd in enumerate(files)}
    assert _same_sources(offline, names) == _same_sources(live, {})
    assert [s["format"] for s in offline["sources"]] == [s["format"] for s in live["sources"]]
    scenario.assert_read_only()


def test_ipvs_image_without_ipset_is_a_note(scenario: Scenario):
    """An image without ipset (upstream's has it: a custom one) is read all the same; a note says what is lost."""
    with_ipvsadm(scenario, members=())
    scenario.cluster.faults.missing_binaries = {"ipset"}
    code, out, err = svcpath("hello-service", "--kubeconfig", str(scenario.kubeconfig()), "--explain")
    assert code == 0, err
    assert "error" not in err.lower() and "Traceback" not in err
    flat = " ".join(out.split())
    assert ("the kube-proxy image has no `ipset`: kube-proxy's ipsets (KUBE-CLUSTER-IP, KUBE-NODE-PORT-TCP, …) were "
            "not read: which Service addresses and ports they hold is not in the input") in flat
    assert "ipset list [ipset" not in flat and "192.168.189.15:9090 w1" in out
    assert IPSET in [tuple(a) for a in scenario.cluster.execs()]
    scenario.assert_read_only()


def test_ipvs_ipset_failing_is_a_note(scenario: Scenario):
    with_ipvsadm(scenario, members=())
    scenario.cluster.faults.exec_exit = {"ipset": (1, "ipset v7.17: Kernel error received: Operation not permitted\n")}
    code, out, err = svcpath("hello-service", "--kubeconfig", str(scenario.kubeconfig()))
    assert code == 0, err
    flat = " ".join(out.split())
    assert ("`ipset list` failed (exit 1): ipset v7.17: Kernel error received: Operation not permitted: kube-proxy's "
            "ipsets (KUBE-CLUSTER-IP, KUBE-NODE-PORT-TCP, …) were not read") in flat
    scenario.assert_read_only()


def test_ipvs_trace_reads_the_live_sets(scenario: Scenario, tmp_path: Path):
    """A node port kube-proxy left out of KUBE-NODE-PORT-TCP (the real set, read live): the trace from outside
    is not masqueraded, as the same listings say offline; no note says the sets were not in the input."""
    with_ipvsadm(scenario, members=tuple(m for m in MEMBERS if m[1] != "31576"))
    trace = ("--trace", "203.0.113.9", "--to", "172.18.0.2:31576", "--node-ip", "172.18.0.2", "-o", "json")
    code, out, err = svcpath("hello-service", "--kubeconfig", str(scenario.kubeconfig()), *trace)
    assert code == 0, err
    (live,) = json.loads(out)["traces"]
    (branch,) = live["branches"]
    assert branch["verdict"] == "delivered" and branch["masquerade"] is False
    assert not any("not in the input" in n for n in live["notes"])
    node = scenario.nodes["cp01"]
    files = [scenario.lab.run(node, ["iptables-nft-save", "-c"]).stdout, (FIX / "hello-ipvsadm-Ln-stats-exact.txt").read_text(),
             (FIX / "hello-ipvsadm-Ln.txt").read_text(), scenario.lab.run(node, ["ipset", "list"]).stdout]
    args: list[str] = []
    for i, text in enumerate(files):
        (tmp_path / f"{i}.txt").write_text(text)
        args += ["--rules-file", str(tmp_path / f"{i}.txt")]
    objects = kpgen.api_objects(kpgen.hello_service(), node_of={"192.168.189.15": "cp01"})
    (tmp_path / "svc.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    code, out, err = svcpath("hello-service", *args, "--manifest", str(tmp_path / "svc.json"), *trace)
    assert code == 0, err
    (offline,) = json.loads(out)["traces"]
    assert offline["branches"][0]["masquerade"] is False and offline["notes"] == live["notes"]
    assert [s["where"] for s in offline["branches"][0]["steps"]] == [s["where"] for s in branch["steps"]]
    scenario.assert_read_only()


def test_ipvs_cluster_ip_its_live_set_lacks_is_rejected(scenario: Scenario):
    """Every set kube-proxy makes and its filter of kube-ipvs0's addresses, real in the node's namespace; its
    KUBE-CLUSTER-IP lacks port-v2's cluster IP and port: live, the finding says new connections are rejected, and
    the trace from a pod ends at that REJECT."""
    members = tuple(m for m in MEMBERS if m[1] != "10.101.173.15,tcp:49191") + (("KUBE-IPVS-IPS", "10.101.173.15"),)
    with_ipvsadm(scenario, members=members, filtered=True)
    kubeconfig = str(scenario.kubeconfig())
    code, out, err = svcpath("hello-service", "--kubeconfig", kubeconfig)
    assert code == ExitCode.PROBLEMS_FOUND, err
    flat = " ".join(out.split())
    assert ("ERROR ipset-member-missing: port port-v2 49191/TCP: kube-proxy's KUBE-CLUSTER-IP does not hold clusterIP "
            "10.101.173.15:49191, which IPVS serves (TCP 10.101.173.15:49191) new connections to it are rejected "
            "(filter KUBE-IPVS-FILTER)") in flat
    assert "port-v1 39090/TCP → 1 of 1 endpoint (ready), 22 pkts — OK" in out
    code, out, err = svcpath("hello-service", "--kubeconfig", kubeconfig, "--trace", "192.168.1.5", "--to",
                             "10.101.173.15:49191", "-o", "json")
    (branch,) = json.loads(out)["traces"][0]["branches"]
    assert branch["verdict"] == "rejected" and branch["verdictRule"]["where"] == "filter KUBE-IPVS-FILTER #6"
    scenario.assert_read_only()


def test_ipvs_mode_unconfigured_is_read_as_the_rules_show_it(scenario: Scenario):
    """No --proxy-mode flag and no ConfigMap saying the mode (a configuration file of the node's): the rules tell it.
    The iptables-save of an IPVS node was refused live with the offline hint 'also pass the output of `ipvsadm -Ln
    --stats --exact` with --rules-file'; its IPVS listings are now run and the node is read in IPVS mode."""
    ns = ipvs_node(scenario, ("kube-proxy", "--v=2"))
    scenario.cluster.replay[(ns, PROC)] = (FIX / "hello-proc-net-ip_vs.txt").read_bytes()
    code, out, err = svcpath("hello-service", "--kubeconfig", str(scenario.kubeconfig()))
    assert code == 0, err
    assert "Rules:    ipvs (nf_tables) mode, node cp01" in out
    assert ("Note:     node cp01's iptables rules match kube-proxy's IPVS ipsets (KUBE-CLUSTER-IP, …): read as IPVS "
            "mode, with the IPVS table\n") in out
    assert "TCP 10.101.173.15:39090" in out and "192.168.189.15:9090" in out
    execs = [tuple(a) for a in scenario.cluster.execs()]
    # (an unknown mode's listings first: the save, kube-proxy's nftables table if any; IPVS's once the rules said so)
    assert execs[0] == ("iptables-save", "-c")
    assert sorted(execs) == sorted([("iptables-save", "-c"), ("nft", "-j", "list", "table", "ip", "kube-proxy"),
                                    tuple(IPVSADM), ("ipvsadm", "-Ln"), IPSET, PROC])
    scenario.assert_read_only()


def test_ipvs_mode_configured_as_iptables_is_read_as_the_rules_show_it(scenario: Scenario):
    """The ConfigMap says iptables, kube-proxy's pod still runs IPVS (started before it changed): refused as 'these
    iptables rules are kube-proxy's IPVS mode' with the offline hint 'also pass the output of ipvsadm … with
    --rules-file'. Now read in IPVS mode, the note naming the disagreement."""
    ns = ipvs_node(scenario, ("kube-proxy", "--config=/var/lib/kube-proxy/config.conf"))
    scenario.cluster.set_proxy_config("iptables")
    scenario.cluster.replay[(ns, PROC)] = (FIX / "hello-proc-net-ip_vs.txt").read_bytes()
    code, out, err = svcpath("hello-service", "--kubeconfig", str(scenario.kubeconfig()))
    assert code == 0, err
    assert "Rules:    ipvs (nf_tables) mode, node cp01" in out
    flat = " ".join(out.split())
    assert ('Note: ConfigMap kube-system/kube-proxy key config.conf says proxy mode "iptables", but node cp01\'s iptables '
            "rules match kube-proxy's IPVS ipsets (KUBE-CLUSTER-IP, …): read as IPVS mode, with the IPVS table (kube-proxy "
            "takes its mode when it starts: a pod started before the configuration changed keeps its own)") in flat
    execs = [tuple(a) for a in scenario.cluster.execs()]
    assert sorted(execs) == sorted([("iptables-save", "-c"), tuple(IPVSADM), ("ipvsadm", "-Ln"), IPSET, PROC])
    scenario.assert_read_only()
