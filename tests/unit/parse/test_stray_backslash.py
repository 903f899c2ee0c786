"""A wrap mark with nothing after it: the ` \\` an author's line-wrapping left on a line of its own, or glued to the
next chain's header, in a pasted `iptables -t nat -L -n -v` (hunter9 met one before `Chain INPUT`). The listing was
refused, 'line 5: not an iptables -L rule line'. The mark is blanked (line numbers kept) and the listing reads as the
same listing without it. Tested on a real paste of tests/corpus with the mark put where hunter9 saw it (the paste
they met was not kept).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, svcpath

PASTE = ROOT / "tests/corpus/qifangsu-demo-nat-L-n-v.txt"
HEADER = "Chain INPUT (policy ACCEPT 0 packets, 0 bytes)"


@pytest.mark.parametrize("mark", ["alone", "indented", "glued"])
def test_a_stray_backslash_before_a_chain_header_is_a_wrap_mark(tmp_path: Path, mark: str) -> None:
    lines = PASTE.read_text().splitlines()
    at = lines.index(HEADER)
    assert lines[at - 1].strip() == ""  # (the blank line between two chains in the real paste)
    if mark == "alone":
        lines[at - 1] = "\\"
    elif mark == "indented":
        lines[at - 1] = "    \\"
    else:
        lines[at] = "\\" + lines[at]
    f = tmp_path / "wrapped.txt"
    f.write_text("\n".join(lines) + "\n")
    code, out, err = svcpath("--rules-file", str(f), "--all")
    assert (code, err) == (0, ""), err
    assert out == svcpath("--rules-file", str(PASTE), "--all")[1].replace(str(PASTE), str(f))
    code, out, err = svcpath("--rules-file", str(f), "default/nginx-svc", "--explain")
    assert code == 0, err  # (the evidence cites each rule at its own line, as in the paste without the mark)
    assert out == svcpath("--rules-file", str(PASTE), "default/nginx-svc", "--explain")[1].replace(str(PASTE), str(f))
