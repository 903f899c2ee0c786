"""Where a set of an `ipset list` ends, as ipset 6 prints it (no "Number of entries:" line).

libipset (session.c, plain listing) prints a blank line before each set's "Name:" but the first and nothing after
the last member: ipset 6 (and ipset 7 on a kernel that does not send the count) gives no other sign of where a set's
members end. The last set of such a listing was never read whole, even when the plugin ran `ipset list` itself
(live in kube-proxy's pod, --local): ipset-member-missing could not be said of it. And a set cut with "..." followed
by another set's "Name:" was read whole: a member the cut took was said to be missing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from kubectl_svcpath import pipeline
from kubectl_svcpath.dump import Collection, RuleDump
from kubectl_svcpath.modes.ipvs.ipset import parse_ipsets
from tests.conftest import ROOT, svcpath

FIX = ROOT / "tests" / "fixtures" / "ipvs"
MANIFEST = ROOT / "kubectl_svcpath" / "examples" / "hello-service" / "manifest.yaml"
# the recorded listing (ipset v7.17) without its counts, as ipset 6 prints it, down to KUBE-NODE-PORT-TCP (node port
# 31576 not added): that set is the listing's last
SIX = re.sub(r"Number of entries: \d+\n", "", (FIX / "hello-ipset-list-node-port-missing.txt").read_text())
SIX = SIX[:SIX.index("\n\nName: KUBE-NODE-PORT-LOCAL-TCP")] + "\n"


def test_the_last_set_ends_where_a_listing_the_plugin_ran_ends() -> None:
    sets, _ = parse_ipsets(SIX, "pod/kube-proxy-x: ipset list", to_the_end=True)
    assert sets.sets["KUBE-NODE-PORT-TCP"].whole and sets.sets["KUBE-CLUSTER-IP"].whole
    pasted, _ = parse_ipsets(SIX, "sets.txt")  # (a paste that ends after a whole member line, as ipset's listing ends)
    assert pasted.sets["KUBE-NODE-PORT-TCP"].whole and pasted.sets["KUBE-CLUSTER-IP"].whole
    for cut in (SIX[:-1], SIX[:-3], SIX + "...\n"):  # (mid-line, in a member, below it with dots)
        dots = [n for n, line in enumerate(cut.splitlines(), 1) if line == "..."]  # (the cleaner blanks them)
        pasted, _ = parse_ipsets(cut.replace("...\n", "\n"), "sets.txt", cuts=dots)
        assert not pasted.sets["KUBE-NODE-PORT-TCP"].whole and pasted.sets["KUBE-CLUSTER-IP"].whole


def test_the_plugins_own_listing_says_the_node_port_is_missing() -> None:
    dumps = [RuleDump(text=(FIX / name).read_text(), source=f"local: {name}", kind="local", format=fmt)
             for name, fmt in (("hello-iptables-save.txt", "iptables-save"), ("hello-ipvsadm-Ln.txt", "ipvsadm"))]
    dumps.append(RuleDump(text=SIX, source="local: ipset list", kind="local", format="ipset"))
    collection = Collection(dumps=dumps, node="cp01")
    parsed = pipeline.parse_collection(collection)
    from kubectl_svcpath.manifest import load_objects, snapshot_from_objects

    snapshot = snapshot_from_objects(load_objects(MANIFEST.read_text(), str(MANIFEST)), "default", "hello-service")
    report = pipeline.analyse(snapshot, parsed, collection)
    assert [f.message for f in report.findings if f.code == "ipset-member-missing"] == [
        "port port-v2 49191/TCP: kube-proxy's KUBE-NODE-PORT-TCP does not hold node port 31576, which IPVS serves "
        "(TCP 172.18.0.2:31576)"]


def _findings(tmp_path: Path, sets: str) -> list[str]:
    (tmp_path / "sets.txt").write_text(sets)
    code, out, err = svcpath("default/hello-service", "--rules-file", str(FIX / "hello-iptables-save.txt"), "--rules-file",
                             str(FIX / "hello-ipvsadm-Ln.txt"), "--rules-file", str(tmp_path / "sets.txt"),
                             "--manifest", str(MANIFEST), "-o", "json")
    assert code == 0, err
    return [f["message"] for f in json.loads(out)["findings"] if f["code"] == "ipset-member-missing"]


MISSING = ["port port-v2 49191/TCP: kube-proxy's KUBE-NODE-PORT-TCP does not hold node port 31576, which IPVS serves "
           "(TCP 172.18.0.2:31576)"]


def test_a_paste_shows_where_the_listing_ended(tmp_path: Path) -> None:
    # the paste ends after the last set's last member line, as ipset's listing does: that set is whole. It was not
    # read whole (nothing said of the node port it lacks) unless another command's lines came after it
    assert _findings(tmp_path, SIX) == MISSING
    assert _findings(tmp_path, SIX + "$ sudo ipvsadm -Ln | wc -l\n7\n") == MISSING  # (the next command's prompt after it)
    assert _findings(tmp_path, SIX + "\n") == MISSING  # (a blank line the author left)


def test_a_paste_cut_below_or_in_its_last_set_proves_nothing(tmp_path: Path) -> None:
    assert SIX.endswith("Members:\n30725\n")
    assert _findings(tmp_path, SIX[:-1]) == []  # (no line end after its last member: cut mid-line, maybe)
    assert _findings(tmp_path, SIX[:-3]) == []  # (in its member: "307")
    assert _findings(tmp_path, SIX + "...\n") == []  # (the author cut it below)
    assert _findings(tmp_path, SIX.replace("Members:\n30725\n", "Members:\n30725\n...\n")) == []


def test_a_set_cut_with_dots_is_not_shown_whole(tmp_path: Path) -> None:
    whole = (FIX / "hello-ipset-list.txt").read_text()
    cut = whole.replace("Members:\n30725\n31576\n", "Members:\n30725\n...\n", 1)
    assert cut != whole
    sets, _ = parse_ipsets(cut, "sets.txt", cuts=[cut.splitlines().index("...") + 1])
    assert not sets.sets["KUBE-NODE-PORT-TCP"].whole
    six = re.sub(r"Number of entries: \d+\n", "", cut)  # (no count to tell: the next set's Name: came after the cut)
    assert _findings(tmp_path, six) == []
