"""externalTrafficPolicy Local chains pasted without their entry rules: the external way to KUBE-SVL is followed.

robric's k3s notes (tests/corpus/robric-k3s129-S-v-counters-two-states.txt) list `iptables -t nat -S` of KUBE-EXT (its
last listing: pod and LOCAL traffic to KUBE-SVC, the rest to KUBE-SVL), KUBE-SVL (two local endpoints) and KUBE-SVC
(six), without KUBE-SERVICES or KUBE-NODEPORTS. The report followed the service chain alone: the KUBE-EXT ->
KUBE-SVL way, which the paste shows whole, was not in it. Now both ways are, each with its entry "not in the input".
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import svcpath

CORPUS = Path(__file__).resolve().parents[3] / "corpus"
PASTE = CORPUS / "robric-k3s129-S-v-counters-two-states.txt"
H = "W47NQ5DDJKUWFTVY"


def _paths(path: Path) -> list[dict]:
    code, out, err = svcpath("--rules-file", str(path), "default/nginx-mlb-l2-service", "-o", "json")
    assert code == 0, err
    (port,) = json.loads(out)["ports"]
    assert any(n.startswith("entry rule: not in the input") for n in port["notInInput"])
    return port["paths"]


def test_the_ext_to_svl_way_is_followed_beside_the_service_chain() -> None:
    paths = _paths(PASTE)
    assert [(p["entry"], p["chains"]) for p in paths] == [
        (None, ["?", f"KUBE-SVC-{H}"]), (None, ["?", f"KUBE-EXT-{H}", f"KUBE-SVL-{H}"])]
    local = paths[1]
    assert local["policyChain"] == f"KUBE-SVL-{H}"
    assert [(e["ip"], e["port"], e["probability"]) for e in local["endpoints"]] == [
        ("10.42.0.25", 8080, 0.5), ("10.42.0.26", 8080, 0.5)]
    assert len(paths[0]["endpoints"]) == 6


def test_the_table_shows_it() -> None:
    code, out, err = svcpath("--rules-file", str(PASTE), "default/nginx-mlb-l2-service", "-o", "wide")
    assert code == 0, err
    row = next(ln for ln in out.splitlines() if f"KUBE-EXT-{H}" in ln and f"KUBE-SVL-{H}" in ln)
    assert row.split()[:3] == ["?", "not", "in"] and "10.42.0.25:8080" in row and "50%" in row, row


def test_ext_and_svl_without_the_service_chain_start_at_ext(tmp_path: Path) -> None:
    """Only KUBE-EXT and KUBE-SVL: the way starts at KUBE-EXT (it started at KUBE-SVL, KUBE-EXT left out)."""
    lines = PASTE.read_text().splitlines()
    f = tmp_path / "ext-svl.txt"
    f.write_text("\n".join(lines[10:17] + lines[20:25]) + "\n")
    assert f"-N KUBE-SVC-{H}" not in f.read_text()
    paths = _paths(f)
    assert [p["chains"] for p in paths] == [["?", f"KUBE-EXT-{H}", f"KUBE-SVL-{H}"]]
