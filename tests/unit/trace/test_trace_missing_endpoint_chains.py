"""--trace through a service chain whose endpoint chains are not in the input: one branch per endpoint, with its share.

tests/corpus/blog-k8s17-grep-external-ip-physdev-ten-endpoints.txt greps a 1.7-era Service's own chain: ten jumps
(1/10 ... 1/2, the rest), none of its endpoint chains. The trace forked at each one, "stops here" or "returns"
(assumed), 2^10 ways, and printed 'the trace was cut short' at 4096 branches, every share '?'. kube-proxy ends every
endpoint chain with its DNAT for the protocol the entry rule matched: a packet sent to one does not come back. Now
ten branches, 10% each, each ending unknown at its endpoint chain, which is not in the input.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import svcpath

PASTE = Path(__file__).resolve().parents[2] / "corpus" / "blog-k8s17-grep-external-ip-physdev-ten-endpoints.txt"


def test_each_endpoint_chain_not_in_the_input_ends_one_branch_with_its_share() -> None:
    code, out, err = svcpath("docker2048", "-n", "admin", "--rules-file", str(PASTE), "--trace", "10.0.0.5",
                             "--to", "10.13.52.135:80")
    assert code == 0, err
    assert "cut short" not in out and "returns" not in out, out
    rows = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit() and "unknown" in line]
    assert [r[0] for r in rows] == [str(i) for i in range(1, 11)], out
    assert all(r[1:] == ["unknown", "-", "10%", "-"] for r in rows), out
    assert out.count("(not in the input: an endpoint chain, which ends in its DNAT)") == 10, out
