"""zeusro's 'kubernetes iptables' (Russian edition, kept in tests/corpus): an ACK 1.12 node's `iptables -t nat -nL` under
oh-my-zsh's '➜  ~' prompt, a `kgsvc testsvc` alias whose table ends its header in 'w', the author's notes above chains
and one between a chain's header and its column heads, and comments naming 'default/testsvc' on chains another name
hashes to (the author renamed the Service)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT, corpus_cut, svcpath, svcpath_on

PASTE = str(ROOT / "tests" / "corpus" / "zeusro-ack112-nL-kube-fw-xlb-russian-notes-zsh-prompt.txt")


def test_an_oh_my_zsh_prompt_and_an_alias_are_read_as_commands() -> None:
    """Refused at line 2 ('not an iptables -L rule line': '➜  ~ kgsvc testsvc')."""
    code, out, err = svcpath("--rules-file", PASTE, "--all")
    assert code == 0, err
    assert "not rule output, left out: lines 3-4 (a kubectl get table)" in " ".join(out.split()), out


def test_one_service_whose_comments_were_edited_is_found_as_listing_all_finds_it(tmp_path: Path) -> None:
    """`--all` read it; `default/testsvc` said '(unnamed) 443/TCP → no rule for it in the input — UNKNOWN', 'type ?'
    (the listing alone, from its first Chain header)."""
    listing = corpus_cut(tmp_path, "zeusro-ack112-nL-kube-fw-xlb-russian-notes-zsh-prompt.txt", 8, 59)
    code, out, err = svcpath("default/testsvc", "--rules-file", listing, "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["service"]["type"] == "LoadBalancer" and doc["service"]["loadBalancerIPs"] == ["172.6.6.6"]
    assert [(p["entry"], p["verdict"]) for p in doc["ports"][0]["paths"]] == [("clusterIP", "forward"), ("loadBalancer", "drop")]
    flat = " ".join(svcpath("default/testsvc", "--rules-file", listing)[1].split())
    assert ("the rules' comments name default/testsvc, but the chains they jump to (KUBE-SVC-M42ZCW2EYUCRBVAF) are not the "
            "ones kube-proxy derives from that name") in flat


def test_an_authors_note_under_a_chain_header_leaves_the_chain_whole(tmp_path: Path) -> None:
    """'# 172.31.9.52 — это виртуальный IP пода' between 'Chain KUBE-SEP-…' and its column heads: the chain was 'its
    header without the column heads under it (grep output): its own rules are not in the input'."""
    listing = corpus_cut(tmp_path, "zeusro-ack112-nL-kube-fw-xlb-russian-notes-zsh-prompt.txt", 8, 59)
    code, out, err = svcpath("--rules-file", listing, "--all", "-o", "json")
    doc = json.loads(out)["items"][0]
    hops = [(e["chain"], e["ip"], e["port"]) for e in doc["ports"][0]["paths"][0]["endpoints"]]
    assert ("KUBE-SEP-BVMKBOC4GGNJ3567", "172.31.9.52", 80) in hops, hops
    assert not any("BVMKBOC4GGNJ3567: its header without the column heads" in n for n in doc["notes"]), doc["notes"]


def test_a_notice_line_is_still_a_notice(tmp_path: Path) -> None:
    text = ("# Warning: iptables-legacy tables present, use iptables-legacy to see them\n"
            "Chain KUBE-SVC-M42ZCW2EYUCRBVAF (2 references)\n"
            "target                     prot opt source               destination\n"
            "KUBE-SEP-BVMKBOC4GGNJ3567  all  --  0.0.0.0/0            0.0.0.0/0\n")
    code, out, err = svcpath_on(tmp_path, text, "--all", "-o", "json")
    assert code == 0, err
    assert any(f["code"] == "legacy-tables-present" for item in json.loads(out)["items"] for f in item["findings"]), out
