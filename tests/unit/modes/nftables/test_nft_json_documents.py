"""Several `nft -j` documents in one paste: `nft -j list table ip kube-proxy` and `nft -j list table ip6 kube-proxy`
run one after the other (a dual-stack node), or one table listed twice. Each command prints one JSON object, so the
paste is no one JSON text: it was refused ("not valid JSON (Extra data)", exit 8), and with the commands' prompt
lines above the documents "not a rule dump this tool can read". Now each document is read and a note says what
was read of each: a table listed twice the same is read once; listed with other objects, from its last listing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubectl_svcpath.errors import ExitCode
from tests.conftest import DUMPS, require_shared, svcpath_on

TABLE = "derived-netns-nft-json-list-table-ip-kube-proxy-from-upstream-TestOverallNFTablesRules.json"


@pytest.fixture(scope="module")
def ip() -> str:
    require_shared()
    return (DUMPS / TABLE).read_text().strip()


def _ip6(doc: str) -> str:
    # the same Services' table ip6 kube-proxy: cluster IPs fd00::41 … for 172.30.0.41 …
    return (doc.replace('"family": "ip"', '"family": "ip6"').replace("ipv4_addr", "ipv6_addr")
            .replace("172.30.0.4", "fd00::4"))


def test_two_tables_one_document_each_are_both_read(tmp_path: Path, ip: str) -> None:
    code, out, err = svcpath_on(tmp_path, f"{ip}\n{_ip6(ip)}\n", "--all")
    assert code == 3, err  # (svc6 has no endpoints)
    assert "172.30.0.41,fd00::41" in out
    assert ("Note: " + str(tmp_path / "paste.txt") + " holds 2 nft -j documents, each read (line 1: table ip kube-proxy; "
            "line 2: table ip6 kube-proxy)") in out
    code, out, err = svcpath_on(tmp_path, f"{ip}\n{_ip6(ip)}\n", "ns1/svc1", "-o", "json")
    report = json.loads(out)
    refs = {e for p in report["ports"][0]["paths"] for e in p["evidence"]}
    assert any(e.startswith(str(tmp_path / "paste.txt") + ":2#/nftables/") for e in refs)  # (a pointer into document 2)


def test_under_the_commands_prompt_lines(tmp_path: Path, ip: str) -> None:
    paste = f"$ sudo nft -j list table ip kube-proxy\n{ip}\n$ sudo nft -j list table ip6 kube-proxy\n{_ip6(ip)}\n"
    code, out, err = svcpath_on(tmp_path, paste, "ns1/svc1")
    assert code == 0, err
    assert "cluster IP 172.30.0.41,fd00::41" in out
    assert "holds 2 nft -j documents, each read (line 2: table ip kube-proxy; line 4: table ip6 kube-proxy)" in out
    code, out, err = svcpath_on(tmp_path, f"$ sudo nft -j list table ip kube-proxy\n{ip}\n", "ns1/svc1")
    assert code == 0, err  # (one document under its command: "not a rule dump this tool can read")
    assert "cluster IP 172.30.0.41\n" in out and "nft -j documents" not in out


def test_one_table_twice_is_read_once_or_from_its_last_listing(tmp_path: Path, ip: str) -> None:
    code, out, err = svcpath_on(tmp_path, f"{ip}\n{ip}\n", "ns4/svc4")
    assert code == 0, err
    flat = " ".join(out.split())
    assert "table ip kube-proxy is listed again, the same (lines 1, 2): read once" in flat
    assert flat.count(" 50% ") == 4  # (two endpoints, two ways in: each listing's rules not read twice)
    later = ip.replace("10.180.0.5", "10.180.0.6")
    code, out, err = svcpath_on(tmp_path, f"{ip}\n{later}\n", "ns4/svc4")
    assert code == 0, err
    flat = " ".join(out.split())
    assert ("table ip kube-proxy is listed twice with other objects (lines 1, 2): several moments pasted together; its "
            "last listing is read (line 2), as the later state") in flat
    assert "10.180.0.6:80" in out and "10.180.0.5:80" not in out


def test_other_words_between_them_are_still_refused(tmp_path: Path, ip: str) -> None:
    code, out, err = svcpath_on(tmp_path, f"{ip}\nand then:\n{ip}\n", "ns4/svc4")
    assert code == ExitCode.BAD_DUMP and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2
