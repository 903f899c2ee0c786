"""A listing the plugin ran itself in kube-proxy's pod is no paste (pipeline.parse_collection).

Pastes get their cuts, prompts, other commands' output and `kubectl describe` text set aside
(parse/excerpt.py, parse/describe.py: ~3 ms of a 0.7 MB dump, per node with --all-nodes); a pod's
output has none of these, so it is read as it is: the same reports on every shared dump, and a
line that only a paste would explain is not taken for an author's cut.
"""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_svcpath import pipeline
from kubectl_svcpath.dump import Collection, RuleDump
from kubectl_svcpath.errors import BadDump
from kubectl_svcpath.parse.excerpt import clean
from tests.conftest import DUMPS, EXAMPLE, ROOT, require_shared

DUMP_FILES = sorted(p for p in DUMPS.glob("*") if p.is_file() and p.name != "INDEX.md") if DUMPS.is_dir() else []
SOURCE = "node n1 pod kube-system/kube-proxy-x: iptables-save -c"


def _reports(text: str, kind: str) -> list[dict[str, Any]]:
    """Every Service the rules describe, each analysed as the user would read it (-o json)."""
    coll = Collection(dumps=[RuleDump(text=text, source=SOURCE, kind=kind)], node="n1")
    parsed = pipeline.parse_collection(coll)
    return [pipeline.analyse(s, parsed, coll).to_dict() for s in pipeline.each_service(parsed)]


@pytest.mark.parametrize("path", DUMP_FILES + [EXAMPLE / "iptables-save-in-kube-proxy-pod.txt"], ids=lambda p: p.name)
def test_a_pods_listing_reads_as_the_same_file(path) -> None:
    require_shared()
    text = path.read_text()
    if clean(text).text != text:
        pytest.skip(f"{path.name} is a paste (cut or annotated), not a listing as a tool prints it")
    as_pod = _reports(text, "pod")
    assert as_pod, f"no Service in {path.name}"
    as_file = _reports(text, "file")
    for doc in as_file:  # the sources say where the rules came from; nothing else may differ
        assert [s.pop("kind") for s in doc["sources"]] == ["file"]
    for doc in as_pod:
        assert [s.pop("kind") for s in doc["sources"]] == ["pod"]
    assert as_pod == as_file


def test_a_pods_listing_has_no_authors_cut() -> None:
    """A "..." line in a file is where its author cut it; in a pod's own output it is a line the
    listing does not print (a rule comment holding a newline): an error naming it, not an excerpt."""
    lines = (EXAMPLE / "iptables-save-in-kube-proxy-pod.txt").read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if "-A KUBE-SEP-" in line)
    text = "\n".join(lines[:at + 1] + ["..."] + lines[at + 1:]) + "\n"

    (as_file, *_) = _reports(text, "file")
    assert any("is an excerpt (cut at line" in n for n in as_file["notes"])
    with pytest.raises(BadDump, match=f"line {at + 2}: not an iptables-save line: [.][.][.]"):
        _reports(text, "pod")


def test_a_local_listing_other_than_iptables_save_is_read_as_printed() -> None:
    """--local's ipset and ipvsadm listings are the tools' own output: not searched for a paste's cuts and
    prompts (ipset's "Members:" lines were taken for commands and commented out); nor is a file of the same text,
    every line of ipset's own shapes (tests/unit/modes/ipvs/test_ipset_as_printed.py)."""
    text = (ROOT / "tests" / "fixtures" / "ipvs" / "hello-ipset-list.txt").read_text()
    local = pipeline.cleaned(RuleDump(text=text, source="local: ipset list", format="ipset", kind="local"))
    assert local.clean and local.text is text
    pasted = pipeline.cleaned(RuleDump(text=text, source="sets.txt", format="ipset"))
    assert pasted.clean and pasted.text is text and "# Members:" not in pasted.text
