"""An IPVS report says each thing once, and nothing its other lines deny (qa9).

The upstream README's `ipvsadm -Ln` (shared/dumps, no --stats) read 'Note: IPVS mode is deprecated since Kubernetes
v1.35; counters are ipvsadm --stats totals since each virtual/real server was created' right above 'Note: no ipvsadm
--stats listing: each hop's traffic is not known', and under them the finding 'ipvs-deprecated: kube-proxy runs in IPVS
mode, which is deprecated since Kubernetes v1.35': the deprecation twice, and counters that the input does not have.
"""

from __future__ import annotations

from tests.conftest import DUMPS, ROOT, require_shared, svcpath

STATS = str(ROOT / "tests/corpus/desist-node1-ipvsadm-ln-stats-indented.txt")  # ipvsadm -ln --stats, a real paste


def _notes(out: str) -> list[str]:
    """The report's notes, each whole (a note wraps onto lines indented under it)."""
    notes: list[str] = []
    for line in out.splitlines():
        if line.startswith("Note:"):
            notes.append(line[5:].strip())
        elif notes and line.startswith("          ") and not line.strip().startswith(("Unknown", "PORT")):
            notes[-1] += " " + line.strip()
        elif notes and not line.startswith(" "):
            break
    return notes


def test_no_stats_listing_says_no_counters_and_the_deprecation_once() -> None:
    require_shared()
    code, out, err = svcpath("--rules-file", str(DUMPS / "upstream-ipvs-readme-ipvsadm-ln.txt"), "10.0.0.1:443")
    assert code == 0, err
    notes = _notes(out)
    assert "no ipvsadm --stats listing: each hop's traffic is not known (ipvsadm -Ln --stats --exact)" in notes
    assert not any("counters are" in n for n in notes), notes
    assert out.count("deprecated since Kubernetes v1.35") == 1
    assert "  INFO  ipvs-deprecated: kube-proxy runs in IPVS mode, which is deprecated since" in out


def test_a_stats_listing_says_what_its_counters_are() -> None:
    code, out, err = svcpath("--rules-file", STATS, "10.96.0.1:443")
    assert code == 0, err
    notes = _notes(out)
    assert "counters are ipvsadm --stats totals since each virtual/real server was created" in notes
    assert not any(n.startswith("no ipvsadm --stats listing") for n in notes), notes
    assert out.count("deprecated since Kubernetes v1.35") == 1


THREE_NODES = str(ROOT / "tests/corpus/opsnull-ipvsadm-three-nodes.txt")  # three nodes' ipvsadm -Ln, alike, no --stats


def test_what_is_one_nodes_and_what_dash_means_are_said_only_of_what_is_shown() -> None:
    """Three nodes' listings read as one said 'connection counts and counters are node 172.27.138.251's' beside 'no
    ipvsadm --stats listing: each hop's traffic is not known', and the table's legend explained a '-' no cell showed."""
    code, out, err = svcpath("--rules-file", THREE_NODES, "10.254.0.1:443")
    assert code == 0, err
    notes = _notes(out)
    assert any(n.endswith("weights: read as one; connection counts are node 172.27.138.251's") for n in notes), notes
    assert "no ipvsadm --stats listing: each hop's traffic is not known (ipvsadm -Ln --stats --exact)" in notes
    assert "ACT/INACT: active/inactive connections now (ipvsadm -Ln or /proc/net/ip_vs)" in out.splitlines()
    code, out, err = svcpath("--rules-file", STATS, "10.96.0.1:443")  # (--stats alone: its cells are '-')
    assert "ACT/INACT: active/inactive connections now (ipvsadm -Ln or /proc/net/ip_vs); -: not in the input" in out.splitlines()
    assert " -/-  " in out
