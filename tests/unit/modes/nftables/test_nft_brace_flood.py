"""A text of braces nested past what nft prints is refused at the line where it goes too deep.

The hostile-input campaign (seed 35, case 313: a 2 MB line of "{" in an nft listing) found the lexer
making a token of every brace before the reader refused the first: 2.5 s and 390 MB for a 2 MB file,
1.9 GB for 10 MB; a bigger one would have had the process killed without a word.
"""

from __future__ import annotations

from pathlib import Path

from kubectl_svcpath.modes.nftables.text_tokens import MOST_DEPTH
from tests.conftest import svcpath

HEAD = 'table ip kube-proxy {\n\tcomment "rules for kube-proxy"\n'


def test_a_flood_of_braces_is_one_error_line_at_its_line(tmp_path: Path) -> None:
    f = tmp_path / "rules.txt"
    f.write_text(HEAD + "{" * 200_000 + "\n\tchain services {\n\t}\n}\n")
    code, out, err = svcpath("--rules-file", str(f), "web")
    assert code == 8 and out == ""
    assert err.splitlines() == [
        f"error: {f} line 3: braces nested more than {MOST_DEPTH} deep: not nft's output",
        "hint: pass the complete output of `nft list table ip kube-proxy` (or `nft -j list …`)",
    ]

