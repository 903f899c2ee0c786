"""--trace of a cluster IP whose KUBE-SERVICES rule is shown but whose service chain is not (a grep of the Service's name,
ars0915/note, tests/corpus/ars0915-logseq-grep-cluster-ip-dots-two-line-prompt): the branch where the missing chain is
assumed to return said 'no Service rule rewrote the destination: not a Service address', of the address the shown rule
matched as the Service's. Now it says that rule matched it and nothing shown rewrote it."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import svcpath

PASTE = str(Path(__file__).resolve().parents[2] / "corpus" / "ars0915-logseq-grep-cluster-ip-dots-two-line-prompt.txt")


def test_a_matched_service_address_is_not_called_no_service_address() -> None:
    code, out, err = svcpath("default/k8s-nginx-cluster", "--rules-file", PASTE, "--trace", "10.244.0.5")
    assert code == 0, err
    assert "not a Service address" not in out, out
    assert "no rule shown rewrote the destination, though nat KUBE-SERVICES #1 matched it as a Service's" in out, out
