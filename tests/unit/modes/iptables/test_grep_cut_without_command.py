"""A grep for one endpoint, pasted without its command line, shows a service chain's one jump: not "1 endpoint".

``iptables-save | grep KUBE-SEP-…`` (or a grep for the endpoint's address) prints the endpoint chain's rules and the
service chain's jump to it: a chain's last jump is unconditional, the same line a one-endpoint Service has. With the
command line the grep's word tells (d3805a0); without it, what tells is what the lines leave out: nothing jumps to
the service chain and nothing declares it, while a grep of the Service's name prints its entry rules and a grep of
the chain's name its declaration. Real pastes: chaseSpace's grep (tests/corpus/chasespace-k8s-tutorial-grep-sep-
chain-alone.txt, a Service with two endpoints) without its prompt line, and greps of a kind node's whole dump
(tests/corpus/ericpuwang-kind123-iptables-save-full.txt, default/kubernetes: one endpoint).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import svcpath

CORPUS = Path(__file__).resolve().parents[3] / "corpus"
KIND = CORPUS / "ericpuwang-kind123-iptables-save-full.txt"


def _write(tmp_path: Path, lines: list[str]) -> str:
    f = tmp_path / "cut.txt"
    f.write_text("\n".join(lines) + "\n")
    return str(f)


def _grep(word: str) -> list[str]:
    return [line for line in KIND.read_text().splitlines() if word in line]


@pytest.mark.parametrize("first", [2, 3])  # with the endpoint chain's ':' line (a grep of its name), without (of its address)
def test_an_endpoint_grep_without_its_command_is_what_the_paste_shows(tmp_path: Path, first: int) -> None:
    lines = (CORPUS / "chasespace-k8s-tutorial-grep-sep-chain-alone.txt").read_text().splitlines()[first - 1:5]
    assert not any(line.startswith("$") for line in lines)
    f = _write(tmp_path, lines)
    code, out, err = svcpath("--rules-file", f, "default/service-hellok8s-clusterip")
    assert code == 0, err
    flat = " ".join(out.split())
    assert "1 endpoint shown, any others not in the input" in flat, out
    assert "the input shows it only by its jumps to endpoint chains" in flat, out
    assert "rules OK" not in flat and "100%" not in flat, out
    code, out, err = svcpath("--rules-file", f, "--all")
    row = next(r for r in out.splitlines() if r.startswith("default "))
    assert " 1+? " in row and " ok" not in row, out


@pytest.mark.parametrize(("word", "why"), [
    ("default/kubernetes", "a grep of the Service's name: its entry rule jumps to the chain"),
    ("KUBE-SVC-NPX46M4PTMTKRN6Y", "a grep of the chain's name: its ':' declaration"),
    (None, "the whole dump"),
])
def test_a_whole_chain_still_reads_whole(tmp_path: Path, word: str | None, why: str) -> None:
    f = str(KIND) if word is None else _write(tmp_path, _grep(word))
    code, out, err = svcpath("--rules-file", f, "default/kubernetes")
    assert code == 0, err
    first = " ".join(out.split("\n\n")[0].split())
    # (a grep of the chain's name prints its jump, not the endpoint chain's DNAT: where it sends is not known)
    status = "UNKNOWN (its endpoint chains are not in the input)" if "declaration" in why else "rules OK"
    assert "→ 1 endpoint (" in first and status in first, (why, out)


def test_a_chain_listed_by_s_reads_whole(tmp_path: Path) -> None:
    lines = ["-N KUBE-SVC-NPX46M4PTMTKRN6Y", *_grep("-A KUBE-SVC-NPX46M4PTMTKRN6Y")]
    code, out, err = svcpath("--rules-file", _write(tmp_path, lines), "default/kubernetes")
    assert code == 0, err
    assert "→ 1 endpoint (" in out.splitlines()[0], out


def test_the_kind_endpoint_grep_says_shown(tmp_path: Path) -> None:
    code, out, err = svcpath("--rules-file", _write(tmp_path, _grep("KUBE-SEP-OJCTP5LCEHQJ3D72")), "default/kubernetes")
    assert code == 0, err
    assert "1 endpoint shown, any others not in the input" in " ".join(out.split()), out
