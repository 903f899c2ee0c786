"""A pasted grep's word tells which rules it could print: `iptables-save | grep KUBE-SEP-X` prints, of the
service chain, the one jump to that endpoint (its last, unconditional jump when X is the last endpoint): the
lines a grep of a one-endpoint Service prints. With the command line above the output, the word says which.
Checked on real pastes of tests/corpus as users run the plugin.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubectl_svcpath.parse.grep_words import grep_selection, selects
from tests.conftest import svcpath, svcpath_on

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
SEP_GREP = CORPUS / "chasespace-k8s-tutorial-grep-sep-chain-alone.txt"
TWO_SEPS = CORPUS / "semperti-openshift-sdn-grep-two-seps.txt"
SVC_GREP = CORPUS / "bowser1704-k3s-grep-walk-indented-list.txt"
KIND_WALK = CORPUS / "kind-notes-S-grep-walk-three-seps.txt"


def _run(*args: str) -> str:
    code, out, err = svcpath(*args)
    assert code in (0, 3), err
    return out


def test_a_grep_of_an_endpoint_chain_does_not_show_the_service_chain_whole() -> None:
    """chaseSpace's tutorial: the Service has two endpoints (its -L excerpt shows both); the grep of one endpoint
    chain printed the service chain's last jump alone. Was '1 endpoint … rules OK', 100%, ENDPOINTS 1."""
    out = _run("default/service-hellok8s-clusterip", "--rules-file", str(SEP_GREP))
    assert out.splitlines()[0].startswith("(unnamed) ?/TCP → 1 endpoint shown, any others not in the input")
    assert "100%" not in out and "rules OK" not in out
    assert "the pasted grep's word picks one endpoint's jump alone" in out
    listing = _run("--all", "--rules-file", str(SEP_GREP))
    row = next(line for line in listing.splitlines() if "service-hellok8s-clusterip" in line)
    assert row.split()[5] == "1+?", listing


def test_two_endpoint_greps_are_the_last_two_jumps_not_all_of_them() -> None:
    """OpenShift's sdn pod: greps of two endpoint chains show a 0.5 jump and the unconditional one, the end of a
    cascade a Service with a third endpoint (1/3 first) has too. Was '2 endpoints', 50% each."""
    out = _run("--all", "--rules-file", str(TWO_SEPS))
    row = next(line for line in out.splitlines() if "KUBE-SVC-GIGN3HAIPPOO23F3" in line)
    assert "2+?" in row.split(), out
    port = json.loads(_run("--all", "--rules-file", str(TWO_SEPS), "-o", "json"))["items"][0]["ports"][0]
    assert all(ep.get("probability") is None for path in port["paths"] for ep in path["endpoints"]), port


@pytest.mark.parametrize("paste, service, first, shares", [
    (SVC_GREP, "cert-manager/cert-manager-webhook", "https 443/TCP → 1 endpoint (state", ["100%"]),
    (KIND_WALK, "default/web-service", "(unnamed) 80/TCP → 3 endpoints (state", ["33.3%"] * 3),
])
def test_a_grep_of_the_service_chain_still_shows_it_whole(paste: Path, service: str, first: str,
                                                          shares: list[str]) -> None:
    """The service chain's own name is in each of its rules: its grep printed them all, whatever the endpoint
    chains' greps after it printed again."""
    out = _run(service, "--rules-file", str(paste))
    assert out.splitlines()[0].startswith(first), out
    assert [w for line in out.splitlines() for w in line.split() if w.endswith("%")] == shares


def test_without_the_command_line_what_the_lines_leave_out_tells(tmp_path: Path) -> None:
    """The same output without the command above it: no word says what picked the lines, but nothing jumps to the
    service chain and no line declares it, which a grep of the Service's or the chain's name would print: the one
    jump is what the paste shows (tests/unit/modes/iptables/test_grep_cut_without_command.py)."""
    text = SEP_GREP.read_text(encoding="utf-8").split("\n", 1)[1].split("\n\n")[0] + "\n"
    code, out, err = svcpath_on(tmp_path, text, "default/service-hellok8s-clusterip")
    assert code in (0, 3), err
    assert out.splitlines()[0].startswith("(unnamed) ?/TCP → 1 endpoint shown, any others not in the input (state")


@pytest.mark.parametrize("command, selection", [
    ("iptables-save | grep KUBE-SEP-YHSEP23J6IVZKCOG", [[["KUBE-SEP-YHSEP23J6IVZKCOG"]]]),
    ("sudo iptables -t nat -S | grep -w web", [[["web"]]]),
    ("iptables-save | grep 'ns/svc' | grep -E 'a|b'", [[["ns/svc"], ["a", "b"]]]),
    ('iptables-save | grep "KUBE-SVC-X\\|KUBE-SEP-Y"', [[["KUBE-SVC-X", "KUBE-SEP-Y"]]]),
    ("kubectl exec -n kube-system kube-proxy-x -- iptables-save | grep test-svc", [[["test-svc"]]]),
    ("iptables-save | grep -A3 KUBE-SVC-X", None),   # context lines: other lines printed
    ("iptables-save | grep -v DOCKER", None),
    ("iptables-save | grep 'KUBE-SEP-.*'", None),     # a regex
    ("iptables-save", None),                          # no grep: what it printed is not picked by a word
    ("iptables-save | head -50", None),
])
def test_grep_selection(command: str, selection: list[list[list[str]]] | None) -> None:
    assert grep_selection([command]) == selection


def test_selects_needs_every_stage() -> None:
    sel = grep_selection(["iptables-save | grep web | grep -i kube-svc"])
    assert sel is not None
    assert selects(sel, "-A KUBE-SVC-X -m comment --comment default/web")
    assert not selects(sel, "-A KUBE-SEP-X -m comment --comment default/web")
