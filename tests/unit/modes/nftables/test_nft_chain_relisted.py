"""A chain an nft paste lists twice: the same rules are read once, other rules are a later moment's.

`nft list table ip kube-proxy` and then `nft list chain ip kube-proxy service-…` pasted together read the chain's
rules twice, one listing after the other: a service chain listed again with the same two endpoints read 'SHARE
100% / 100%'; listed again after a sync that left one endpoint, 200% and 100% and a warning probability-mismatch
('endpoint shares … add up to 3.0000, not 1'). iptables -S and grep pastes of a chain listed again with other
rules are read from the last listing, with a note (modes/iptables/parse_list.py, parse/excerpt.py): so are these.
"""

from __future__ import annotations

import json
from pathlib import Path

from kubectl_svcpath.modes.nftables.parse_text import parse_nft_text
from tests.conftest import DUMPS, require_shared, svcpath

NFT = DUMPS / "derived-netns-nft-list-table-ip-kube-proxy-from-upstream-TestOverallNFTablesRules.txt"
CHAIN = "service-LAUZTJTB-ns4/svc4/tcp/p80"
ONE_ENDPOINT = (f"$ sudo nft list chain ip kube-proxy {CHAIN}\ntable ip kube-proxy {{\n\tchain {CHAIN} {{\n"
                "\t\tip daddr 172.30.0.44 ip saddr != 10.0.0.0/8 jump mark-for-masquerade\n"
                "\t\tnumgen random mod 1 vmap { 0 : goto endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80 }\n\t}\n}\n")


def _shares(path: Path) -> tuple[list[tuple[str, float | None]], dict]:
    code, out, err = svcpath("--rules-file", str(path), "ns4/svc4", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    (cluster_ip,) = [p for p in doc["ports"][0]["paths"] if p["entry"] == "clusterIP"]
    return [(e["ip"], e["probability"]) for e in cluster_ip["endpoints"]], doc


def test_the_same_chain_listed_again_is_read_once(tmp_path: Path) -> None:
    require_shared()
    text = NFT.read_text()
    block = text[text.index(f"\tchain {CHAIN} {{"):]
    block = block[:block.index("\n\t}\n") + 4]
    (tmp_path / "p.txt").write_text(text + f"$ sudo nft -a list chain ip kube-proxy {CHAIN}\ntable ip kube-proxy {{ # handle 9\n"
                                    + block.replace(" {\n", " { # handle 12\n", 1) + "}\n")
    shares, doc = _shares(tmp_path / "p.txt")
    assert shares == [("10.180.0.4", 0.5), ("10.180.0.5", 0.5)]
    assert not [n for n in doc["notes"] if "listed twice" in n]


def test_a_chain_listed_again_with_other_rules_is_read_from_its_last_listing(tmp_path: Path) -> None:
    require_shared()
    (tmp_path / "p.txt").write_text("$ sudo nft list table ip kube-proxy\n" + NFT.read_text() + ONE_ENDPOINT)
    shares, doc = _shares(tmp_path / "p.txt")
    assert shares == [("10.180.0.4", 1.0)]
    assert not [f for f in doc["findings"] if f["code"] == "probability-mismatch"]
    first, last = [i for i, ln in enumerate((tmp_path / "p.txt").read_text().splitlines(), 1)
                   if ln.strip() == f"chain {CHAIN} {{"]
    assert f"{tmp_path / 'p.txt'}: chain {CHAIN} (table ip kube-proxy) is listed twice with other rules (lines {first}, " \
           f"{last}): several moments pasted together; its last listing is read (line {last}), as the later state" in doc["notes"]


def test_a_chain_block_read_whole_listed_again() -> None:
    """Blocks nft did not lay out (no indentation) are read with the rest of the text: the same, there."""
    text = ("table ip kube-proxy {\nchain c {\nip daddr 10.0.0.1 jump a\n}\nchain c {\nip daddr 10.0.0.1 jump a\n}\n"
            "chain d {\njump a\n}\nchain d {\njump b\n}\n}\n")
    nft = parse_nft_text(text, "p.txt")
    table = nft.table("ip", "kube-proxy")
    assert table is not None
    assert [r.text for r in table.chains["c"].rules] == ["ip daddr 10.0.0.1 jump a"]
    assert [r.text for r in table.chains["d"].rules] == ["jump b"]
    assert nft.dumps[0].relisted == [("ip kube-proxy", "d", [8, 11])]


def test_a_map_listed_again_with_other_elements_is_read_from_its_last_listing(tmp_path: Path) -> None:
    """The same for kube-proxy's maps: a later `nft list map ip kube-proxy service-ips` after ns1/svc1 was deleted."""
    require_shared()
    text = NFT.read_text()
    block = text[text.index("\tmap service-ips {"):]
    block = block[:block.index("\n\t}\n") + 4]
    later = block.replace("\t\t\t     172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80,\n", "")
    assert later != block
    (tmp_path / "p.txt").write_text(text + "table ip kube-proxy {\n" + block + "}\n")  # (the same again: read once)
    code, out, err = svcpath("--rules-file", str(tmp_path / "p.txt"), "--all")
    assert code == 3 and "svc1" in out and "listed twice" not in out
    (tmp_path / "p.txt").write_text(text + "table ip kube-proxy {\n" + later + "}\n")
    code, out, err = svcpath("--rules-file", str(tmp_path / "p.txt"), "ns4/svc4")
    assert code == 0, err
    assert "map service-ips (table ip kube-proxy) is listed twice with other elements (lines 37, 229)" in " ".join(out.split())
    code, out, err = svcpath("--rules-file", str(tmp_path / "p.txt"), "--all")
    assert "ns1        svc1" not in out  # (the later listing has no element of it)


def test_a_chain_block_without_its_table_pasted_twice_reads_as_once(tmp_path: Path) -> None:
    """`nft list chain …` blocks cut out without their table, pasted twice: the same rules read as one paste (there
    was a note 'is listed again on line 6 … only the listing on line 1 was read'); other rules, from the last listing."""
    require_shared()
    text = NFT.read_text()
    block = text[text.index(f"\tchain {CHAIN} {{"):]
    block = block[:block.index("\n\t}\n") + 4]
    once, twice = tmp_path / "once.txt", tmp_path / "twice.txt"
    once.write_text(block)
    twice.write_text(block + block)
    one = svcpath("--rules-file", str(once), "ns4/svc4", "-o", "json")
    two = svcpath("--rules-file", str(twice), "ns4/svc4", "-o", "json")
    assert one[0] == two[0] == 0, (one[2], two[2])
    assert json.loads(two[1])["notes"] == [n.replace(str(once), str(twice)) for n in json.loads(one[1])["notes"]]
    later = block.replace(", 1 : goto endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80", "").replace("mod 2", "mod 1")
    assert later != block
    twice.write_text(block + later)
    code, out, err = svcpath("--rules-file", str(twice), "ns4/svc4", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert [n for n in doc["notes"] if "listed twice" in n] == [
        f"chain {CHAIN} is listed twice with other rules (lines 1, 5): several moments (or nodes) pasted together; its "
        "last listing is read (line 5), as the later state; pass each node's listing in its own file"]


def test_a_real_service_chain_pasted_twice_keeps_its_shares(tmp_path: Path) -> None:
    """The k3s notes' nine-endpoint service chain, cut out and pasted twice: the same paths and shares as once."""
    require_shared()
    text = (DUMPS / "repo-k3s-nft-list-table-ip-kube-proxy.txt").read_text()
    start = text.index("        chain service-P6J77WGM-riset/hellopod-np-svc/tcp/ {")
    block = text[start:text.index("        }\n", start) + len("        }\n")]
    (tmp_path / "once.txt").write_text(block)
    (tmp_path / "twice.txt").write_text(block + "\n" + block)
    docs = []
    for name in ("once.txt", "twice.txt"):
        code, out, err = svcpath("--rules-file", str(tmp_path / name), "riset/hellopod-np-svc", "-o", "json")
        assert code == 0, err
        docs.append(json.loads(out))
    paths = [[[(e["ip"], e["probability"]) for e in p["endpoints"]] for p in d["ports"][0]["paths"]] for d in docs]
    assert paths[0] == paths[1] and len(paths[0][0]) == 9 and paths[0][0][0][1] == round(1 / 9, 6)
    assert not [n for n in docs[1]["notes"] if "listed" in n]
