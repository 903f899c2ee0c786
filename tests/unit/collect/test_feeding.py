"""An iptables-save listing's feed runs in a thread of its own (collect/kube_proxy_pod._Feeding): big
pieces are fed in parts cut after a newline, and the reports are those of the whole-text pass; a read
that failed drops what is still queued."""

from __future__ import annotations

import pytest

from kubectl_svcpath.collect.kube_proxy_pod import _Feeding, _text_feed
from kubectl_svcpath.modes.iptables.save_feed import SaveFeed
from tests.conftest import DUMPS
from tests.unit.modes.iptables.test_save_feed import BASE, _reports


@pytest.mark.parametrize("part", [1, 50, 4096, 1 << 20])
def test_parts_of_big_pieces_give_the_same_reports(part: int, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (DUMPS / BASE).read_text()
    monkeypatch.setattr(_Feeding, "PART", part)
    feeding = _Feeding(SaveFeed())
    half = text.index("\n", len(text) // 2) + 1
    feeding.put(text[:half])
    feeding.put(text[half:])
    feed = feeding.done(text)
    assert feed.usable
    assert _reports(text, feed) == _reports(text, None)


def test_a_dropped_feed_ends_its_thread_and_is_not_used() -> None:
    text = (DUMPS / BASE).read_text()
    feeding = _Feeding(SaveFeed())
    feeding.put(text[: text.index("\n", 100) + 1])
    feeding.close(drop=True)
    assert not feeding.thread.is_alive()
    feeding.feed.done(text)
    assert not feeding.feed.usable


def test_only_iptables_save_listings_are_fed() -> None:
    for argv in (["iptables-save", "-c"], ["ip6tables-save", "-c"]):
        feeding = _text_feed(argv)
        assert feeding is not None
        feeding.close()
    assert _text_feed(["nft", "-j", "list", "table", "ip", "kube-proxy"]) is None
    assert _text_feed(["ipvsadm", "-Ln", "--stats", "--exact"]) is None
