"""A big ipvsadm listing of one node is read once, and its addresses without the ipaddress module when they are
already written as it writes them.

One Service of a 10,000-Service IPVS listing (110,000 lines) took 3.8 s: split_nodes read every line to learn that
the paste holds one node, parse_ipvsadm read them again, and each real server's address went through ipaddress
twice. Now 1.7 s with the same output (README, Benchmarks). These tests hold the shortcuts to what the long way
gives: a shortcut that took a paste of several nodes for one node's would merge their tables.
"""

from __future__ import annotations

import ipaddress
import random
from pathlib import Path

import pytest

from kubectl_svcpath.errors import BadDump
from kubectl_svcpath.modes.ipvs.model import normalize_ip
from kubectl_svcpath.modes.ipvs.parse import _one_plain_listing, _read_nodes, split_nodes
from kubectl_svcpath.parse.excerpt import clean
from tests.conftest import SHARED, svcpath
from tests.lab.ipvsgen import listing

CORPUS = Path(__file__).resolve().parents[3] / "corpus"
def _ipvs_texts() -> list[tuple[str, str]]:
    paths = sorted(CORPUS.glob("*.txt")) + sorted(SHARED.glob("dumps/*ipvs*")) if SHARED.exists() else sorted(CORPUS.glob("*.txt"))
    texts = [(p.name, p.read_text(encoding="utf-8", errors="replace")) for p in paths]
    return [(n, t) for n, t in texts if "RemoteAddress:Port" in t or "  -> " in t]


@pytest.mark.parametrize("variant", ["as is", "two nodes", "a prompt", "again", "a note"])
def test_the_one_listing_shortcut_holds_only_for_one_node(variant: str) -> None:
    text = listing(3, 2)
    text = {"as is": text, "two nodes": ">>> node-a\n" + text + ">>> node-b\n" + text.replace("10.128.0.1:", "10.128.9.1:"),
            "a prompt": "root@node-a:~# ipvsadm -Ln\n" + text, "again": text + text.replace("10.128.0.1:", "10.128.9.1:"),
            "a note": text.replace("TCP  10.96.0.2:80", "this one:\nTCP  10.96.0.2:80")}[variant]
    assert _one_plain_listing(text) is (variant == "as is")
    if variant in ("two nodes", "again"):
        assert len(split_nodes(text, "p")) == 2  # (the long way still splits them)


def test_every_real_listing_the_shortcut_takes_is_one_node_the_long_way() -> None:
    texts = _ipvs_texts()
    assert len(texts) >= 10
    taken = 0
    for name, text in texts:
        cleaned = clean(text).text
        if _one_plain_listing(cleaned):
            taken += 1
            try:
                nodes = _read_nodes(cleaned, name, lenient=True).nodes
            except BadDump:  # a paste refused either way (tigera-…-cut-host-names: no address on any line)
                continue
            assert len(nodes) <= 1, name
    assert taken >= 2  # (some real pastes are plain listings)


def test_addresses_written_as_ipaddress_writes_them_are_kept_as_they_are() -> None:
    rng = random.Random(7)
    words = ["10.0.0.1", "0.0.0.0", "255.255.255.255", "1.2.3.04", "256.1.1.1", "01.2.3.4", "1.2.3", "fd00::1",
             "[fd00::0001]", "FD00::1", "::ffff:10.0.0.1", "10.0.0.1 "]
    words += [".".join(str(rng.choice([rng.randrange(256), rng.randrange(1000), "0" + str(rng.randrange(10))])) for _ in range(4))
              for _ in range(2000)]
    for w in words:
        try:
            expected = ipaddress.ip_address(w.strip("[]")).compressed
        except ValueError:
            expected = w
        assert normalize_ip(w) == expected, w


@pytest.mark.parametrize("args", [["10.96.1.7:80"], ["--all"], ["10.96.1.7:80", "-o", "json"]])
def test_a_big_listing_reads_the_same_the_long_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    f = tmp_path / "ipvs.txt"
    f.write_text(listing(400, 5))
    quick = svcpath("--rules-file", str(f), *args)
    # the long way: split_nodes reads the lines, the quick look takes ipvsadm's arrows for an author's marks,
    # addresses go through ipaddress
    from kubectl_svcpath.modes.ipvs import model, parse
    from kubectl_svcpath.parse import excerpt

    monkeypatch.setattr(parse, "_one_plain_listing", lambda text: False)
    monkeypatch.setattr(excerpt, "_ARROW_LINE", excerpt._LineLed(r"[ \t]*(?:-{1,3}|={1,3})>[ \t]"))
    monkeypatch.setattr(model, "CANONICAL_V4", _NEVER)
    monkeypatch.setattr(parse, "CANONICAL_V4", _NEVER)
    assert svcpath("--rules-file", str(f), *args) == quick
    assert "10.96.1.7" in quick[1]


class _Never:
    def fullmatch(self, text: str) -> None:
        return None


_NEVER = _Never()
