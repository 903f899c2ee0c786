"""The lines kube-proxy writes in its service, endpoint and external chains are read with one match
(parse_save._KUBE_PROXY_RULE) instead of the tokeniser: the Rule must be the tokeniser's, field for field,
on every line, and a line the match cannot vouch for must go to the tokeniser. Rules read in any order
keep the line numbers of their text (line_no_of counts on from the last line it numbered).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_svcpath.modes.iptables import parse_save
from kubectl_svcpath.modes.iptables.model import Chain
from tests.conftest import DUMPS
from tests.lab.kpgen import ProxyConfig, cluster_services, save_text

_NEVER = re.compile(r"(?!)")
_CORPUS = Path(__file__).resolve().parents[3] / "corpus"


def _both(line: str, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    """make_rule's answer for ``line`` with the one-match reading and with the tokeniser alone."""
    answers = []
    for pattern in (parse_save._KUBE_PROXY_RULE, _NEVER):
        parser = parse_save._Parser(line + "\n", "dump.txt", True)
        with monkeypatch.context() as m:
            m.setattr(parse_save, "_KUBE_PROXY_RULE", pattern)
            try:
                answers.append((parser.make_rule(Chain("KUBE-SEP-X"), 2, 0, 7), parser.info.skipped, parser.info.annotations))
            except Exception as e:  # noqa: BLE001 - the same error both ways is the same answer
                answers.append((type(e).__name__, str(e)))
    return answers[0], answers[1]


_KUBE_PROXY_LINES = [
    '[5:300] -A KUBE-SEP-2226QNVOV3O43HIP -s 10.129.71.239/32 -m comment --comment "ns/web:http" -j KUBE-MARK-MASQ',
    '[5:300] -A KUBE-SEP-2226QNVOV3O43HIP -p tcp -m comment --comment "ns/web:http" -m tcp -j DNAT --to-destination 10.129.71.239:8080',
    "-A KUBE-SEP-2226QNVOV3O43HIP -p udp -m udp -j DNAT --to-destination [fd00::5]:53",
    '-A KUBE-SVC-LNYJGKBJ4KGVZDFH -m comment --comment "ns/web:http -> 10.1.2.3:8080" -m statistic --mode random '
    "--probability 0.10000000009 -j KUBE-SEP-2226QNVOV3O43HIP",
    '-A KUBE-SVC-LNYJGKBJ4KGVZDFH ! -s 10.244.0.0/16 -d 10.96.0.10/32 -p tcp -m comment --comment "ns/web:http cluster IP" '
    "-m tcp --dport 80 -j KUBE-MARK-MASQ",
    "-A KUBE-EXT-LNYJGKBJ4KGVZDFH -j KUBE-SVC-LNYJGKBJ4KGVZDFH",
    "-A KUBE-SEP-2226QNVOV3O43HIP -m comment --comment ns4/svc4:p80 -j KUBE-MARK-MASQ",
]


@pytest.mark.parametrize("line", _KUBE_PROXY_LINES)
def test_kube_proxy_lines_are_read_with_one_match_into_the_tokenisers_rule(line: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_save._KUBE_PROXY_RULE.fullmatch(line.removeprefix("[5:300] ")) is not None
    fast, slow = _both(line, monkeypatch)
    assert fast == slow


def test_every_rule_line_of_the_shared_dumps_corpus_and_a_generated_node_reads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [p.read_text(errors="replace") for p in sorted(DUMPS.glob("*.txt")) + sorted(_CORPUS.glob("*.txt"))]
    texts.append(save_text(cluster_services(30, 3), ProxyConfig(jumps=True)))
    lines = [line for text in texts for line in text.split("\n") if "-A " in line]
    assert len(lines) > 500
    matched = 0
    for line in lines:
        fast, slow = _both(line, monkeypatch)
        assert fast == slow, line
        matched += parse_save._KUBE_PROXY_RULE.fullmatch(line.strip()) is not None
    assert matched > len(lines) // 2


_ADDR = st.sampled_from(["10.0.0.1/32", "10.244.0.0/16", "fd00::1/128", "...", "[...]", "-1", "!", "10.0.0.1", ":", "a"])
_WORD = st.sampled_from(["ns/web:http", "ns/web:http cluster IP", "...", "…", "-x", "!", "a\\b", 'a"b', "a\tb", "a\u2028b",
                         "a\x85b", "x #y", "a // b", "a <- b", "", " ", "é", "0x4000/0x4000", "-", "-1", "[snip]"])
_TARGET = st.sampled_from(["KUBE-SEP-2226QNVOV3O43HIP", "KUBE-MARK-MASQ", "DNAT", "...", "-x", "RETURN", "a"])
_PROB = st.sampled_from(["0.1", "0.10000000009", "1.0", "1.5", "0", "1", "0.", "٠.٥", "0.1e1", "nan"])
_TO = st.sampled_from(["10.0.0.1:8080", "[fd00::1]:80", "[...]", "...", "10.0.0.1", ":80", "-1", "!"])
_PARTS = st.lists(st.one_of(
    st.builds(lambda neg, a: f"{'! ' if neg else ''}-s {a}", st.booleans(), _ADDR),
    st.builds("-d {}".format, _ADDR),
    st.sampled_from(["-p tcp", "-p udp", "-p sctp", "-p TCP", "-m tcp", "-m udp", "-m sctp", "! -p tcp"]),
    st.builds('-m comment --comment "{}"'.format, _WORD),
    st.builds("-m comment --comment {}".format, _WORD),
    st.builds("-m tcp --dport {}".format, st.sampled_from(["80", "080", "65536", "٨٠", "80:90", "!", "-1"])),
    st.builds("-m statistic --mode random --probability {}".format, _PROB),
    st.builds("-j {}".format, _TARGET),
    st.builds("-j DNAT --to-destination {}".format, _TO),
    st.sampled_from(["-c 1 2", "-m recent --rcheck --seconds 10800 --reap", "!", "...", '"', "\\", "-g KUBE-SVC-X"]),
), max_size=7)


@settings(max_examples=400, deadline=None)
@given(counters=st.sampled_from(["", "[0:0] ", "[12:720] ", "[1:2]  ", "[٣:2] "]), verb=st.sampled_from(["-A", "-I", "-A", "-A"]),
       parts=_PARTS, target=st.one_of(st.none(), _TARGET), to=st.one_of(st.none(), _TO), tail=st.sampled_from(["", " ", "\r", " # note"]))
def test_any_line_reads_the_same_with_or_without_the_one_match(counters: str, verb: str, parts: list[str], target: str | None,
                                                               to: str | None, tail: str) -> None:
    line = " ".join([f"{counters}{verb} KUBE-SEP-X", *parts] + ([f"-j {target}"] if target else [])
                    + ([f"--to-destination {to}"] if to else [])) + tail
    with pytest.MonkeyPatch.context() as mp:
        fast, slow = _both(line, mp)
    assert fast == slow


@settings(max_examples=100, deadline=None)
@given(order=st.permutations(range(40)), comment_lines=st.sets(st.integers(0, 39)))
def test_rules_read_in_any_order_keep_their_line_numbers(order: list[int], comment_lines: set[int]) -> None:
    lines = ["# Generated by iptables-save v1.8.9", "*nat", ":KUBE-SEP-X - [0:0]"]
    for i in range(40):
        lines += ["# a note"] * (i in comment_lines) + [f"-A KUBE-SEP-X -s 10.0.0.{i}/32 -j KUBE-MARK-MASQ"]
    text = "\n".join([*lines, "COMMIT"]) + "\n"
    offsets = [m.start() + 1 for m in re.finditer(r"\n-A ", text)]
    parser = parse_save._Parser(text, "dump.txt", False)
    for i in order:
        assert parser.line_no_of(offsets[i]) == text.count("\n", 0, offsets[i]) + 1


_MAYBE = st.booleans()


@settings(max_examples=600, deadline=None)
@given(counters=st.sampled_from(["", "[0:0] ", "[12:720] "]), neg=_MAYBE, src=st.one_of(st.none(), _ADDR), dst=st.one_of(st.none(), _ADDR),
       proto=st.sampled_from([None, "tcp", "udp", "sctp", "icmp"]), quoted=_MAYBE, comment=st.one_of(st.none(), _WORD),
       module=st.sampled_from([None, "tcp", "udp"]), dport=st.sampled_from([None, "80", "080", "65536", "٨٠", "!", "-1"]),
       prob=st.one_of(st.none(), _PROB), target=_TARGET, to=st.one_of(st.none(), _TO))
def test_lines_in_kube_proxys_order_with_any_values_read_the_same(counters: str, neg: bool, src: str | None, dst: str | None,
                                                                  proto: str | None, quoted: bool, comment: str | None,
                                                                  module: str | None, dport: str | None, prob: str | None,
                                                                  target: str, to: str | None) -> None:
    parts = [f"{counters}-A KUBE-SEP-X"]
    parts += [f"{'! ' if neg else ''}-s {src}"] if src is not None else []
    parts += [f"-d {dst}"] if dst is not None else []
    parts += [f"-p {proto}"] if proto else []
    parts += [f'-m comment --comment "{comment}"' if quoted else f"-m comment --comment {comment}"] if comment is not None else []
    parts += [f"-m {module}" + (f" --dport {dport}" if dport else "")] if module else []
    parts += [f"-m statistic --mode random --probability {prob}"] if prob is not None else []
    parts += [f"-j {target}"] + ([f"--to-destination {to}"] if to is not None else [])
    with pytest.MonkeyPatch.context() as mp:
        fast, slow = _both(" ".join(parts), mp)
    assert fast == slow
