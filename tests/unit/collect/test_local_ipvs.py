"""--local in IPVS mode: the kernel's own listing, /proc/net/ip_vs, read as a file (no tool needed).

This machine's kernel has no IPVS (tests/fixtures/ipvs/README.md): the listing is read from a fixture
rendered with the kernel's formats, through the same function --local calls with /proc/net/ip_vs;
``ipvsadm -Ln --stats --exact`` really runs (and fails here, as on a node without IPVS counters to give).
"""

from __future__ import annotations

from kubectl_svcpath import pipeline
from kubectl_svcpath.collect import local
from kubectl_svcpath.dump import Collection, RuleDump
from kubectl_svcpath.manifest import load_objects, snapshot_from_objects
from kubectl_svcpath.render import render_report
from kubectl_svcpath.render.text import Style
from tests.conftest import EXAMPLE, ROOT

FIX = ROOT / "tests/fixtures/ipvs"


def _iptables_half() -> Collection:
    """What --local read of IPVS mode's iptables half (no KUBE-SVC chain: no proxy mode decided yet)."""
    return Collection(dumps=[RuleDump(text=(FIX / "hello-iptables-save.txt").read_text(), source="local: iptables-nft-save -c",
                                      format="iptables-save", kind="local", returncode=0)])


def test_local_reads_the_kernels_ipvs_listing():
    coll = _iptables_half()
    local.add_ipvs(coll, str(FIX / "hello-proc-net-ip_vs.txt"))
    assert [d.format for d in coll.dumps][-1] == "ipvsadm"
    parsed = pipeline.parse_collection(coll)
    assert str(parsed.mode) == "ipvs"
    objects = load_objects((EXAMPLE / "manifest.yaml").read_text(), "manifest.yaml")
    report = pipeline.analyse(snapshot_from_objects(objects, "default", "hello-service"), parsed, coll)
    out = render_report(report, "table", Style(color=False), width=200)
    assert "TCP 10.101.173.15:39090" in out and "192.168.189.15:9090 w1" in out
    assert "/proc/net/ip_vs listing (addresses and ports in hex)" in " ".join(out.split())


def test_local_without_virtual_servers_adds_nothing(tmp_path):
    heads = tmp_path / "ip_vs"  # ip_vs loaded, no virtual server (a node in another proxy mode)
    heads.write_text("IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n"
                     "  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n")
    for proc in (str(heads), str(tmp_path / "absent")):
        coll = _iptables_half()
        local.add_ipvs(coll, proc)
        assert len(coll.dumps) == 1 and not coll.notes
