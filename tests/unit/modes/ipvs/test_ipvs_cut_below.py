"""A paste that ends at a virtual server's line says its real servers are not in the input, not that it has none.

ipvsadm prints nothing after a listing's last real server that would show the listing ended there, so a paste cut
right below a virtual server line (the title lines kept: not a headerless excerpt) looked whole: a cut of
tests/corpus/feiskyer-handbook-ipvsadm-persistent.txt ending at "UDP  10.0.0.10:53 rr" made that virtual server
"error: no-endpoints ... kube-proxy rejects its traffic" (found by cutting the corpus' pastes at random lines and
reading every absence the reports claimed). A line after it - the next command's prompt - shows the listing went
on without one: then it has none.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import svcpath

PASTE = Path(__file__).resolve().parents[3] / "corpus" / "feiskyer-handbook-ipvsadm-persistent.txt"


def _cut(tmp_path: Path, after: str = "") -> str:
    lines = PASTE.read_text().splitlines()
    end = lines.index("UDP  10.0.0.10:53 rr") + 1
    f = tmp_path / "cut.txt"
    f.write_text("\n".join(lines[:end]) + "\n" + after)
    return str(f)


def test_the_last_virtual_server_of_a_cut_paste_has_its_real_servers_not_in_the_input(tmp_path: Path) -> None:
    f = _cut(tmp_path)
    code, out, err = svcpath("--rules-file", f, "--all")
    assert code == 0, err
    row = next(r for r in out.splitlines() if "(UDP 10.0.0.10:53)" in r)
    assert " ".join(row.split()).endswith("53/UDP ? - ?: not in the input"), row  # (ENDPOINTS "?", was "0")
    assert "no-endpoints" not in out
    code, out, _ = svcpath("--rules-file", f, "UDP 10.0.0.10:53", "-o", "json")
    doc = json.loads(out)
    assert "no-endpoints" not in [x["code"] for x in doc["findings"]]
    assert doc["ports"][0]["paths"][0]["verdict"] == "not-in-input"
    assert "real servers of UDP 10.0.0.10:53: not in the input (the paste ends at its line)" in doc["ports"][0]["notInInput"]


def test_a_line_after_it_shows_the_listing_went_on_without_real_servers(tmp_path: Path) -> None:
    f = _cut(tmp_path, "$ kubectl get svc -A | grep 10.0.0.10\n")
    code, out, err = svcpath("--rules-file", f, "--all")
    assert code == 3, err
    assert next(r for r in out.splitlines() if "(UDP 10.0.0.10:53)" in r).endswith("error: no-endpoints")


def test_the_trace_does_not_drop_where_the_real_servers_are_not_in_the_input(tmp_path: Path) -> None:
    """--trace said "dropped by IPVS UDP 10.0.0.10:53 ... has no real server" of the cut paste, and of a headerless
    excerpt (a listing's lines without its title lines) likewise."""
    f = _cut(tmp_path)
    code, out, err = svcpath("--rules-file", f, "UDP 10.0.0.10:53", "--trace", "node")
    assert ("Verdict:  unknown: virtual server UDP 10.0.0.10:53's real servers are not in the input (the paste ends at "
            "its line)") in out, out + err
    assert "dropped" not in out
    headerless = tmp_path / "lines.txt"
    headerless.write_text("TCP  10.0.0.10:53 rr\n  -> 172.17.0.2:53                Masq    1      0          0\n"
                          "UDP  10.0.0.10:53 rr\n\n$ exit\n")
    code, out, err = svcpath("--rules-file", str(headerless), "UDP 10.0.0.10:53", "--trace", "node")
    assert "Verdict:  unknown: virtual server UDP 10.0.0.10:53's real servers are not in the input (the listing is cut)" in out, out + err
    code, out, err = svcpath("--rules-file", _cut(tmp_path, "$ exit\n"), "UDP 10.0.0.10:53", "--trace", "node")
    assert "Verdict:  dropped by IPVS UDP 10.0.0.10:53" in out, out + err  # (the listing went on: it has none)


def test_an_excerpt_cut_with_dots_claims_no_virtual_server_absent(tmp_path: Path) -> None:
    """tests/corpus/k8s-68437-ipvsadm-ipv6-only-nodeport-ipv4-cut-real-server.txt cut above its cluster IP's virtual
    server, with "..." where the author cut: "ERROR service-not-programmed: ... no IPVS virtual server for clusterIP
    [fd00:4000::c698]:5001/TCP" beside the note that nothing is said to be absent (tests/fuzz/cuts.py, seed 37)."""
    lines = (PASTE.parent / "k8s-68437-ipvsadm-ipv6-only-nodeport-ipv4-cut-real-server.txt").read_text().splitlines()
    cluster_ip = lines.index("TCP  [fd00:4000::c698]:5001 rr")
    f = tmp_path / "cut.txt"
    f.write_text("\n".join(["...", *lines[:cluster_ip], "..."]) + "\n")
    code, out, err = svcpath("cgen", "--rules-file", str(f))
    assert code == 0, err
    assert "service-not-programmed" not in out and "is an excerpt" in out, out
    f.write_text("\n".join(lines[:cluster_ip]) + "\n")  # the same lines, nobody marked a cut: the table reads whole
    code, out, err = svcpath("cgen", "--rules-file", str(f))
    assert "no IPVS virtual server for clusterIP [fd00:4000::c698]:5001/TCP" in out, out
