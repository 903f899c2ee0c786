"""nft pastes with lines nft's reader only takes inside a block: ``nft list tables`` output, and map
element lines grepped out of ``nft list map ip kube-proxy service-ips``.

A troubleshooting guide's walk (abridged by its author) shows the shape: ``nft list tables``, then
``nft list chain ip kube-proxy services``, then ``nft list map ip kube-proxy service-ips | grep
10.96.120.15`` -> ``\t\t10.96.120.15 . tcp . 80 : goto service-XQ3KZ2C7-netlab/web/tcp/http,``. The
tool refused it ("not a rule dump this tool can read") though the element names the Service, its
cluster IP, port and chain.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import svcpath

WALK = """\
$ nft list tables
table ip kube-proxy
table ip6 kube-proxy
table ip filter
table ip nat

$ nft list chain ip kube-proxy services
table ip kube-proxy {
\tchain services {
\t\tip daddr . meta l4proto . th dport vmap @service-ips
\t\tip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports
\t}
}

$ nft list map ip kube-proxy service-ips | grep 10.96.120.15
\t\t10.96.120.15 . tcp . 80 : goto service-XQ3KZ2C7-netlab/web/tcp/http,
"""


def _write(tmp_path: Path, text: str) -> str:
    f = tmp_path / "paste.txt"
    f.write_text(text)
    return str(f)


def test_a_walk_with_nft_list_tables_and_a_grepped_map_element_names_the_service(tmp_path: Path) -> None:
    dump = _write(tmp_path, WALK)
    code, out, err = svcpath("--rules-file", dump, "--all")
    assert code == 0, err
    (row,) = [line.split() for line in out.splitlines() if line.startswith("netlab")]
    assert row[:5] == ["netlab", "web", "?", "10.96.120.15", "80"] and row[5] == "?"  # endpoints: not in the input
    code, out, err = svcpath("netlab/web", "--rules-file", dump, "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    (path,) = doc["ports"][0]["paths"]
    assert (path["entry"], path["address"], path["port"], path["verdict"]) == ("clusterIP", "10.96.120.15", 80, "not-in-input")
    assert path["chains"][-1] == "service-XQ3KZ2C7-netlab/web/tcp/http"
    assert {f["code"] for f in doc["findings"]} == {"chain-not-in-input", "dump-only", "no-counters-nftables"}
    assert doc["service"]["type"] is None and doc["service"]["sessionAffinity"] is None
    assert any(n.startswith("map element lines pasted without their map: read as elements of map service-ips of table "
                            "ip kube-proxy") for n in doc["notes"])


def test_grepped_elements_alone_take_their_map_from_their_key_and_verdict(tmp_path: Path) -> None:
    text = ("\t\t10.101.0.99 . tcp . 80 comment \"default/empty:http\" : goto reject-chain,\n"
            "\t\tfd00:10:96::a . udp . 53 : goto service-FY5PMXPG-kube-system/kube-dns/udp/dns,\n")
    dump = _write(tmp_path, text)
    code, out, err = svcpath("default/empty", "--rules-file", dump, "-o", "json")
    assert code == 3, err  # the element itself says: no endpoints (goto reject-chain), shown by the paste
    (path,) = json.loads(out)["ports"][0]["paths"]
    assert (path["address"], path["verdict"]) == ("10.101.0.99", "reject")
    code, out, err = svcpath("kube-system/kube-dns", "--rules-file", dump, "-o", "json")
    assert code == 0, err
    (path,) = json.loads(out)["ports"][0]["paths"]
    assert (path["address"], path["port"], path["verdict"]) == ("fd00:10:96::a", 53, "not-in-input")
