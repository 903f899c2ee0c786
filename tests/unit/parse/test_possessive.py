"""The possessive regexes of the hot passes, and the greedy twins Python 3.10 compiles instead
(3.10's re refuses `*+`: "multiple repeat"): both find the same matches on every shared dump and
corpus paste, and on lines made to fail them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kubectl_svcpath.modes.iptables import audit, infer, model, parse_save
from kubectl_svcpath.parse import excerpt
from kubectl_svcpath.parse.possessive import compile_possessive, greedy_twin
from tests.conftest import DUMPS, require_shared

PATTERNS = {"_RUN_NAMES": parse_save._RUN_NAMES, "_COUNTED_RUN_NAMES": parse_save._COUNTED_RUN_NAMES,
            "_BARE_RUN_NAMES": parse_save._BARE_RUN_NAMES, "_POLICY_LINE": parse_save._POLICY_LINE,
            "_NOT_SAVE_LINE": excerpt._NOT_SAVE_LINE, "_TWO_JUMPS": model._TWO_JUMPS,
            "_SEP_BODY": audit._SEP_BODY, "_JUMP_LINE": audit._JUMP_LINE, "_LAST_JUMP": infer._LAST_JUMP}
TWO_JUMPS_310 = r" -j (?:[^ \n]| (?!-j ))* -j "
HARD = ("\n-A KUBE-SVC-X -m comment --comment \"a -j b\" -j KUBE-SEP-1 -j X\n-A KUBE-SVC-X -j\n"
        "\n:KUBE-A ACCEPT [1:2]\n:KUBE-B\n[1:2] -A KUBE-SVC-Y " + "a" * 3000 + "\n[123456789012345678901:1] -A Z x\n"
        "\n[12:34 -A W y\n -j " + "b " * 2000 + "\n"
        "[0:0] -A KUBE-SEP-ABCDEFGHIJKLMNOP -s 10.1.2.3/32 -j KUBE-MARK-MASQ\n"
        "[0:0] -A KUBE-SEP-ABCDEFGHIJKLMNOP -p tcp -m tcp -j DNAT --to-destination 10.1.2.3:123456\n"
        "[1:2] -A KUBE-SEP-ABCDEFGHIJKLMNOP -s 1234.1.2.3/32 -j KUBE-MARK-MASQ\n"
        "[1:2] -A KUBE-SVC-ABCDEFGHIJKLMNOP -m statistic --mode random --probability 0.5000000000000000000001 -j KUBE-SEP-A\n"
        "-A KUBE-SVC-ABCDEFGHIJKLMNOP -m comment --comment \"x -j y\" -j KUBE-SEP-ABCDEFGHIJKLMNOPQ -j \n")


def _texts() -> list[str]:
    require_shared()
    paths = sorted(DUMPS.glob("*.txt")) + sorted((Path(__file__).parents[2] / "corpus").glob("*.txt"))
    return [p.read_text(encoding="utf-8", errors="replace") for p in paths] + [HARD]


def _matches(pattern: re.Pattern[str], text: str) -> list[tuple[int, int, tuple[str | None, ...]]]:
    return [(m.start(), m.end(), m.groups()) for m in pattern.finditer(text)]


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_the_greedy_twin_python_3_10_compiles_finds_the_same_matches(name: str) -> None:
    pattern = PATTERNS[name]
    twin = re.compile(TWO_JUMPS_310 if name == "_TWO_JUMPS" else greedy_twin(pattern.pattern), pattern.flags)
    assert not re.search(r"[*+?}]\+", twin.pattern.replace("\\+", ""))  # nothing Python 3.10 refuses
    for text in _texts():
        assert _matches(twin, text) == _matches(pattern, text)


def test_greedy_twin_drops_only_the_possessive_plus() -> None:
    assert greedy_twin(r"\n:(\S++) [^\n]*+(?:x{1,20}+)?+a\+\+") == r"\n:(\S+) [^\n]*(?:x{1,20})?a\+\+"


def test_compile_possessive_on_python_3_10_takes_the_twin_or_the_fallback(monkeypatch) -> None:
    import sys

    monkeypatch.setattr(sys, "version_info", (3, 10, 13))
    assert compile_possessive(r"(\S++) ").pattern == r"(\S+) "
    assert compile_possessive(r"a*+b", fallback="a*b").pattern == "a*b"
