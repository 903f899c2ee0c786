"""Issue 10, traffic between two samples offline (--rules-file LATER --since EARLIER): deltas, rates,
a counter that went backwards (chains rewritten), the split test, and collectedAt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubectl_svcpath.dump import dump_time
from kubectl_svcpath.traffic import chi2_sf
from tests.conftest import EXAMPLE, svcpath

AFTER = EXAMPLE / "iptables-save-on-node-host.txt"
MANIFEST = EXAMPLE / "manifest.yaml"


def _before(tmp_path: Path, old: str, new: str, when: str = "02:16:19") -> str:
    text = AFTER.read_text().replace("on Wed Nov 25 02:16:29 2026", f"on Wed Nov 25 {when} 2026")
    assert old in text
    p = tmp_path / "before.txt"
    p.write_text(text.replace(old, new, 1))
    return str(p)


def _since(before: str, *extra: str) -> tuple[int, str, str]:
    return svcpath("default/hello-service", "--rules-file", str(AFTER), "--since", before, "--manifest", str(MANIFEST), *extra)


def test_deltas_and_rates_between_two_dumps(tmp_path: Path):
    before = _before(tmp_path, "[2:120] -A KUBE-SERVICES", "[1:60] -A KUBE-SERVICES")
    code, out, err = _since(before, "-o", "json")
    assert code == 0, err
    t = json.loads(out)["traffic"]
    assert (t["since"], t["until"], t["seconds"]) == ("2026-11-25T02:16:19", "2026-11-25T02:16:29", 10.0)
    v1 = t["ports"][0]
    assert v1["entries"][0] == {"hop": "clusterIP 10.101.173.15:39090", "packets": 1, "bytes": 60, "reset": False,
                                "packetsPerSecond": 0.1, "bytesPerSecond": 6.0}
    assert json.loads(out)["sources"][0]["collectedAt"] == "2026-11-25T02:16:29"


def test_a_counter_that_went_backwards_is_a_reset_not_a_negative_number(tmp_path: Path):
    before = _before(tmp_path, "[2:120] -A KUBE-SERVICES", "[9:540] -A KUBE-SERVICES")
    code, out, _ = _since(before)
    assert code == 0
    traffic = out[: out.index("\n\n", out.index("Findings:"))]
    row = next(ln for ln in traffic.splitlines() if "clusterIP 10.101.173.15:39090" in ln)
    assert row.split()[-3:] == ["reset", "reset", "reset"]
    assert "WARNING  counters-reset: 1 counter went backwards between the samples: kube-proxy rewrote" in traffic
    assert "-7" not in out and "-420" not in out
    _, js, _ = _since(before, "-o", "json")
    hop = json.loads(js)["traffic"]["ports"][0]["entries"][0]
    assert (hop["packets"], hop["bytes"], hop["reset"]) == (None, None, True)


def test_an_entry_whose_port_one_dump_hides_is_matched_and_shown_as_unknown() -> None:
    """The seed's two files: the kube-proxy pod's iptables shows each entry rule's port, the node's older one
    hides it. The entries are matched by kind and address within the service port; the port the later dump
    hides is "?", never Python's None."""
    code, out, err = svcpath("default/hello-service", "--rules-file", str(AFTER), "--since",
                             str(EXAMPLE / "iptables-save-in-kube-proxy-pod.txt"))
    assert code == 0, err
    traffic = out[: out.index("\n\n")]
    assert "None" not in out
    row = next(ln for ln in traffic.splitlines() if "clusterIP 10.101.173.15:?" in ln)
    assert row.split()[-3:] == ["0", "-", "0B"]  # (the same moment, both dumps: no packets between them)
    assert any("nodePort *:?" in ln for ln in traffic.splitlines()), traffic


def test_the_traffic_table_fits_80_columns_in_a_terminal(tmp_path: Path):
    """At 200 columns one table with a PORT column; at 80 each port heads its own rows instead, nothing wraps."""
    from tests.terminal import in_tmux

    before = _before(tmp_path, "[2:120] -A KUBE-SERVICES", "[1:60] -A KUBE-SERVICES")
    args = ["default/hello-service", "--rules-file", str(AFTER), "--since", before, "--manifest", str(MANIFEST)]
    wide = in_tmux(args, 200)
    assert wide[1].split() == ["PORT", "HOP", "PKTS", "PKTS/S", "BYTES", "SPLIT", "PROGRAMMED"]
    assert wide[2].split()[:5] == ["port-v1", "39090/TCP", "clusterIP", "10.101.173.15:39090", "1"]
    lines = in_tmux(args, 80)
    assert all(len(ln) <= 80 for ln in lines), "\n".join(lines)
    assert lines[0] == "Traffic 2026-11-25T02:16:19 → 2026-11-25T02:16:29 (10s):"
    assert lines[1].split() == ["HOP", "PKTS", "PKTS/S", "BYTES", "SPLIT", "PROGRAMMED"]
    assert lines[2] == "port-v1 39090/TCP"
    assert lines[3].split() == ["clusterIP", "10.101.173.15:39090", "1", "0.1", "60B"]
    assert lines[5].split() == ["→", "192.168.189.15:9090", "0", "0.0", "0B", "-", "100%"]


def test_since_needs_rules_file():
    code, _, err = svcpath("web", "--since", "x.txt")
    assert code == 2 and "--rules-file" in err


@pytest.mark.parametrize("x,df,p", [(3.841, 1, 0.05), (10.828, 1, 0.001), (5.991, 2, 0.05), (16.266, 3, 0.001)])
def test_chi_square_tail_matches_the_tables(x: float, df: int, p: float):
    assert abs(chi2_sf(x, df) - p) < p * 0.01


def test_split_departing_beyond_chance_is_a_finding():
    from kubectl_svcpath.path import EndpointHop, EntryPath, PortPath
    from kubectl_svcpath.report import Report, SourceInfo
    from kubectl_svcpath.snapshot import ServicePort, ServiceSnapshot
    from kubectl_svcpath.traffic import compare

    def report(a: int, b: int) -> Report:
        hops = [EndpointHop("10.0.0.1", 80, "KUBE-SEP-A", 0.5, packets=a), EndpointHop("10.0.0.2", 80, "KUBE-SEP-B", 0.5, packets=b)]
        pp = PortPath(ServicePort("http", "TCP", 80), [EntryPath("clusterIP", "10.96.0.1", 80, [], packets=a + b, endpoints=hops)])
        return Report(ServiceSnapshot("ns", "web"), "iptables", [pp], sources=[SourceInfo("s", "iptables-save")])

    even = compare(report(0, 0), report(16, 14), seconds=3)
    assert not even.findings and [e.observed for e in even.ports[0].endpoints] == [16 / 30, 14 / 30]
    skewed = compare(report(0, 0), report(29, 1), seconds=3)
    (f,) = skewed.findings
    assert f.code == "split-departs" and "chi-square 26.1, df 1" in f.message and "p < 0.001" in " ".join(f.detail)
    few = compare(report(0, 0), report(9, 1), seconds=3)  # 10 connections: too few to judge
    assert not few.findings


def test_dump_time_reads_the_header():
    assert dump_time("# Generated by iptables-save v1.8.9 (nf_tables) on Mon Nov  2 02:16:29 2026\n*nat\n") == "2026-11-02T02:16:29"
    assert dump_time("*nat\n:KUBE-SERVICES - [0:0]\n") is None


def test_samples_without_their_times_say_so_in_one_parenthesis() -> None:
    """'(interval unknown (the samples carry no time))': one aside in another."""
    from tests.conftest import DUMPS

    dump = str(DUMPS / "upstream-iptables-proxier-test-TestOverallIPTablesRules.txt")
    code, out, _ = svcpath("ns1/svc1", "--rules-file", dump, "--since", dump)
    assert code == 0 and out.splitlines()[0] == "Traffic ? → ? (interval not in the input: the samples carry no time):"
