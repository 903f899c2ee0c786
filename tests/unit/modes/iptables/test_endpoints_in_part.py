"""A service chain shown in part states no endpoint count: "1 endpoint ... rules OK" was said of a chain cut after
the first of its jumps.

Found by reading cut real pastes against the whole ones (the ENDPOINTS of each Service a cut shows, against the
whole paste's):
- tests/corpus/xczhw-grep-elided-notes.txt down to its first KUBE-SVC jump, "--probability 0.33332999982" (the
  first of three), then "...": "1 endpoint ... rules OK", ENDPOINTS 1, ok;
- a `iptables -L` listing cut (bare) after a service chain's jump with a probability: kube-proxy's last endpoint
  jump is unconditional, so the listing was cut there;
- tests/corpus/tkng-nodeport-L-sep-chains.txt's two endpoint chains without the service chain: "2 endpoints ...
  rules OK", though the chain that picks among them, and any other it jumps to, is not in the input.
Each now: the endpoints shown, "any others not in the input", UNKNOWN, ENDPOINTS "N+?" and "?: not in the input".
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ROOT, svcpath

CORPUS = ROOT / "tests" / "corpus"


def _row(out: str, name: str) -> str:
    return " ".join(next(r for r in out.splitlines() if f" {name} " in f" {r} ").split())


def test_an_excerpt_cut_after_the_first_of_three_jumps(tmp_path: Path) -> None:
    lines = (CORPUS / "xczhw-grep-elided-notes.txt").read_text().splitlines()
    first = next(i for i, x in enumerate(lines) if x.startswith("-A KUBE-SVC-RPP7DHNHMGOIIFDC") and "0.3333" in x)
    f = tmp_path / "cut.txt"
    f.write_text("\n".join(lines[1:first + 1]) + "\n...\n")
    code, out, err = svcpath("--rules-file", str(f), "--all")
    assert code == 0, err
    assert _row(out, "kubernetes-bootcamp-v1").endswith("8080 1+? - ?: not in the input"), out
    code, out, err = svcpath("--rules-file", str(f), "kubernetes-bootcamp-v1")
    assert out.splitlines()[0].startswith("(unnamed) 8080/TCP → 1 endpoint shown, any others not in the input"), out
    assert out.splitlines()[0].endswith("UNKNOWN (not all its endpoints are in the input)"), out
    assert "rules OK" not in out


def test_a_listing_cut_after_a_jump_with_a_probability(tmp_path: Path) -> None:
    walk = (CORPUS / "apedano-kind-L-n-line-numbers-svc.txt").read_text().splitlines()
    last = max(i for i, x in enumerate(walk) if "statistic mode random probability" in x)
    f = tmp_path / "cut.txt"
    f.write_text("\n".join(walk[: last + 1]) + "\n")
    code, out, err = svcpath("--rules-file", str(f), "--all")
    assert code == 0, err
    assert "+? - ?: not in the input" in " ".join(out.splitlines()[1].split()), out
    code, out, err = svcpath("--rules-file", str(f), "--all", "-o", "json")
    assert "listed down to an endpoint's jump with a probability" in out


def test_endpoint_chains_without_their_service_chain(tmp_path: Path) -> None:
    lines = (CORPUS / "tkng-nodeport-L-sep-chains.txt").read_text().splitlines()
    seps = [i for i, x in enumerate(lines) if x.startswith("Chain KUBE-SEP-")]
    assert len(seps) >= 2 and not any(x.startswith("Chain KUBE-SVC-") for x in lines[seps[0]:seps[1] + 5])
    f = tmp_path / "cut.txt"
    f.write_text("\n".join(lines[seps[0]:seps[1] + 5]) + "\n")
    code, out, err = svcpath("--rules-file", str(f), "--all")
    assert code == 0, err
    assert _row(out, "web").endswith("2+? - ?: not in the input"), out


def test_endpoint_chains_of_two_ports_without_their_dnat_are_not_counted_as_pods(tmp_path: Path) -> None:
    """A real -L paste (tests/corpus/qifangsu-demo-nat-L-n-v.txt) cut to its KUBE-SERVICES and service chains:
    kube-dns' two ports jump to two endpoint chains each, the chains themselves cut out. ENDPOINTS counts pods,
    and each port's chains were counted as pods of their own: "4", where the whole paste shows 2 pods (each
    behind both ports). Two are proven (one port's two chains), more is not in the input: "2+?"."""
    lines = (CORPUS / "qifangsu-demo-nat-L-n-v.txt").read_text().splitlines()
    first = lines.index(next(x for x in lines if x.startswith("Chain KUBE-SERVICES ")))
    f = tmp_path / "cut.txt"
    f.write_text("\n".join(lines[first:]) + "\n")
    assert not any(x.startswith("Chain KUBE-SEP-") for x in lines[first:])
    code, out, err = svcpath("--rules-file", str(f), "--all")
    assert code == 0, err
    assert _row(out, "kube-dns").split()[4:6] == ["53/UDP,53", "2+?"], out
    code, out, err = svcpath("--rules-file", str(CORPUS / "qifangsu-demo-nat-L-n-v.txt"), "--all")
    assert _row(out, "kube-dns").split()[5] == "2", out  # (the whole paste: each pod's address seen)


def test_a_service_chain_listed_whole_above_the_cut(tmp_path: Path) -> None:
    """chaseSpace's tutorial: `iptables -L -v -n -t nat` cut with "..." above KUBE-SERVICES and right under the
    service chain's last row, its jump without a probability (kube-proxy writes nothing after it): the chain is
    whole from its header to there. Was '2 endpoints shown, any others not in the input … UNKNOWN', ENDPOINTS 2+?,
    shares '-'. A "..." between its header and that row, or a last row with a probability, still cuts it."""
    paste = CORPUS / "chasespace-k8s-tutorial-L-nat-excerpt-svc-chain.txt"
    code, out, err = svcpath("--rules-file", str(paste), "default/service-hellok8s-clusterip")
    assert code == 0, err
    assert out.splitlines()[0].startswith("(unnamed) 3000/TCP → 2 endpoints (state not in the input), 6 pkts"), out
    assert [w for line in out.splitlines() for w in line.split() if w.endswith("%")] == ["50%", "50%"], out
    assert "is listed from its header down to its last endpoint's jump" in out
    code, out, err = svcpath("--rules-file", str(paste), "--all")
    # (2 endpoints, not 2+?; its health is '?': the endpoint chains' DNAT rules are cut out, only the jumps' comments name them)
    assert _row(out, "service-hellok8s-clusterip").endswith("3000 2 6 ?: not in the input"), out
    lines = paste.read_text().splitlines()
    cut_inside = tmp_path / "cut-inside.txt"
    cut_inside.write_text("\n".join(lines[:14] + ["..."] + lines[14:]) + "\n")
    code, out, err = svcpath("--rules-file", str(cut_inside), "--all")
    assert _row(out, "service-hellok8s-clusterip").endswith(" 6 ?: not in the input"), out  # (rows after a cut: ?)
    cut_before_last = tmp_path / "cut-before-last.txt"
    cut_before_last.write_text("\n".join(lines[:15] + ["..."]) + "\n")
    code, out, err = svcpath("--rules-file", str(cut_before_last), "--all")
    assert _row(out, "service-hellok8s-clusterip").endswith("3000 1+? 6 ?: not in the input"), out
