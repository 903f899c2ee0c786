"""An exec's stdout handed over while it arrives: pieces that end at a newline, decoded, whose
concatenation is exactly what decoding the whole output gives (multi-byte characters and invalid
bytes cut across frames included)."""

from __future__ import annotations

import random

import pytest

from kubectl_svcpath.kube.exec import _Pieces

SAMPLES = [
    b"",
    b"no newline at all",
    b"*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -m comment --comment \"caf\xc3\xa9 \xe2\x80\xa6\" -j X\nCOMMIT\n",
    b"bad \xff\xfe bytes\n\xe2\x82 cut euro sign\n\xf0\x9f\x98\x80 emoji\nlast line without newline \xe2\x80",
    b"\n\n\n",
]


@pytest.mark.parametrize("data", SAMPLES)
@pytest.mark.parametrize("seed", range(5))
def test_pieces_join_to_the_whole_decoded_output(data: bytes, seed: int) -> None:
    rnd = random.Random(seed)
    seen: list[str] = []
    out = _Pieces(seen.append)
    i = 0
    while i < len(data):  # frames of random sizes, cutting characters and lines anywhere
        j = i + rnd.randint(1, 7)
        out.add(bytearray(data[i:j]))
        i = j
    text = out.text()
    assert text == data.decode("utf-8", "replace")
    assert "".join(seen) == text
    assert all(p.endswith("\n") for p in seen[:-1])


def test_without_a_reader_the_output_is_decoded_once() -> None:
    out = _Pieces(None)
    out.add(b"a\xc3")
    out.add(b"\xa9\n")
    assert out.text() == "a\u00e9\n"
