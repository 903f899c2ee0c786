"""A pasted `ipset list` is read as ipset printed it, not through the paste cleaner.

A 180,000-line `ipset list` (a big IPVS node's KUBE-CLUSTER-IP, KUBE-LOOP-BACK, …) went through the look for
cuts, prompts and other commands' output line by line (~0.9 s, twice: once to split hosts, once to read) and the
cleaner took each set's "Members:" line for a command, commenting it out ("# Members:"). ipset prints a fixed
shape (libipset session.c, plain mode: "Name:", "Type:", header lines, "Members:", one member a line, a blank line
before each set but the first): a text of only those lines, under its command line or not, holds no cut or note.
"""

from __future__ import annotations

from pathlib import Path

from kubectl_svcpath import pipeline
from kubectl_svcpath.dump import RuleDump
from kubectl_svcpath.modes.ipvs.ipset import as_printed
from kubectl_svcpath.parse import excerpt
from tests.conftest import ROOT, svcpath

FIX = ROOT / "tests" / "fixtures" / "ipvs"
LISTING = (FIX / "hello-ipset-list.txt").read_text()  # (real ipset v7.17 output of every set kube-proxy makes)
OTUS = (ROOT / "tests" / "corpus" / "otus-minikube-ipset-list.txt").read_text()  # ("ipset list" above it)


def test_the_listing_is_handed_to_its_reader_as_printed(monkeypatch) -> None:
    def no_cleaner(text: str):
        raise AssertionError("the paste cleaner was asked to look at ipset's own output")

    monkeypatch.setattr(excerpt, "clean", no_cleaner)  # (pipeline.cleaned imports it when a paste needs it)
    for text in (LISTING, OTUS, "$ sudo ipset list\n" + LISTING):
        dump = pipeline.cleaned(RuleDump(text=text, source="sets.txt"))
        assert dump.clean and dump.format == "ipset" and dump.text == text
        assert "# Members:" not in dump.text


def test_what_ipset_does_not_print_goes_through_the_cleaner() -> None:
    cut = LISTING.replace("192.168.189.15,tcp:9191,192.168.189.15\n", "...\n", 1)
    assert not as_printed(cut)
    dump = pipeline.cleaned(RuleDump(text=cut, source="sets.txt"))
    assert dump.elisions == (10,)
    assert not as_printed(LISTING + "$ ipvsadm -Ln\n")  # (another command after it)
    assert not as_printed("ipset list | grep 10.96\n" + LISTING)  # (a grep picks lines: not as printed)
    assert not as_printed(LISTING.replace("Members:\n", "", 1))  # (ipset list -t: no members)


def test_a_big_listing_reads_its_sets(tmp_path: Path) -> None:
    lines: list[str] = []
    ips = [f"10.{96 + i // 65536}.{(i // 256) % 256}.{i % 256}" for i in range(60000)]
    for name, typ, members in (("KUBE-CLUSTER-IP", "hash:ip,port", [f"{ip},tcp:80" for ip in ips]),
                               ("KUBE-NODE-PORT-TCP", "bitmap:port", [str(30000 + i) for i in range(2700)])):
        lines += ([""] if lines else []) + [f"Name: {name}", f"Type: {typ}", "Revision: 7", "Header: family inet",
                                            "Size in memory: 1", "References: 2", f"Number of entries: {len(members)}",
                                            "Members:", *members]
    (tmp_path / "sets.txt").write_text("\n".join(lines) + "\n")
    (tmp_path / "ipvs.txt").write_text("IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler "
                                       "Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
                                       "TCP  10.96.0.1:80 rr\n  -> 10.244.0.5:8080              Masq    1      0          0\n")
    code, out, err = svcpath("TCP 10.96.0.1:80", "--rules-file", str(tmp_path / "ipvs.txt"),
                             "--rules-file", str(tmp_path / "sets.txt"), "-o", "json")
    assert code == 0, err
    assert '"entry": "clusterIP"' in out and "sets.txt:10" in out
