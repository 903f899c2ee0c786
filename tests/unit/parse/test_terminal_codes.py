"""A paste that kept the terminal's color codes: `grep --color=always` (CI logs, `script` transcripts) wraps each
match in "\\x1b[01;31m\\x1b[K" … "\\x1b[m\\x1b[K", a colored prompt sets the window title ("\\x1b]0;root@node: ~\\x07").
Before: the codes were read as part of the names: --all listed 'default/\\x1b[01;31m\\x1b[Ktest1\\x1b[m\\x1b[K' (escaped),
and `default/test1` was 'not found in the rules' (exit 4)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ROOT, svcpath_on

WALK = (ROOT / "tests" / "corpus" / "maxidea-k8s118-S-walk-dnat-unsupported-revision.txt").read_text()
RED, END = "\x1b[01;31m\x1b[K", "\x1b[m\x1b[K"


def _colored() -> str:
    lines = WALK.splitlines(keepends=True)
    lines[0] = "\x1b]0;root@k8s-node: ~\x07" + lines[0]
    return "".join(lines[:1] + [ln.replace("test1", f"{RED}test1{END}") for ln in lines[1:3]] + lines[3:])


def test_grep_color_codes_are_taken_out(tmp_path: Path) -> None:
    code, out, err = svcpath_on(tmp_path, _colored(), "default/test1")
    assert code == 0, err
    assert "\x1b" not in out and "\\x1b" not in out, out
    assert out.splitlines()[0].startswith("80 80/TCP → 3 endpoints"), out
    flat = " ".join(out.split())
    assert ("paste.txt: the terminal's color codes (grep --color=always, a colored prompt) taken out of lines 1, 2, 3: "
            "the text between them read") in flat, out
    code, out, err = svcpath_on(tmp_path, _colored(), "--all")
    assert code == 0 and out.splitlines()[1].split()[:2] == ["default", "test1"], out


def test_codes_on_many_lines_are_numbered_in_one_pass() -> None:
    """Each line holding a code named once, in order, with the codes of one line counted once (the line numbers are
    counted on from the last code: a count from the text's start for each code was quadratic on a big paste)."""
    from kubectl_svcpath.dump import RuleDump
    from kubectl_svcpath.pipeline import _uncolored

    text = "".join(f"{RED}-A{END} KUBE-SVC-X -j {RED}KUBE-SEP-{i}{END}\n" if i % 3 == 0 else f"-A KUBE-SVC-X -j KUBE-SEP-{i}\n"
                   for i in range(30000))
    notes: list[str] = []
    out = _uncolored(RuleDump(text, "paste.txt"), notes)
    assert "\x1b" not in out.text and out.text.count("\n") == 30000
    assert notes[0].startswith("paste.txt: the terminal's color codes (grep --color=always, a colored prompt) taken out of "
                               "lines 1, 4, 7, 10, 13, 16, 19, 22 and 9992 more: the text between them read"), notes[0]
