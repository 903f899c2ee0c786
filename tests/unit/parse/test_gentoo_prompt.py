"""Gentoo's (and many zsh themes') prompt: 'root@lexicon ~ # iptables --list-rules', user@host, a space, then the
directory (stibbons1990/hex, kept in tests/corpus as stibbons-lexicon-*). It was no prompt: the paste was refused at line
1 ('not an iptables-save line', exit 8); the closing bare prompt 'root@lexicon ~ # ' was a rule line too."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import svcpath_on

RULES = """root@lexicon ~ # iptables-save -t nat | grep web
-A KUBE-SERVICES -d 10.98.69.149/32 -p tcp -m comment --comment "default/web cluster IP" -m tcp --dport 80 -j KUBE-SVC-NE3M6G7FP5C7DVRO
-A KUBE-SVC-NE3M6G7FP5C7DVRO -m comment --comment "default/web -> 10.244.3.38:80" -j KUBE-SEP-DSBJGVCOU4RGUKVK
-A KUBE-SEP-DSBJGVCOU4RGUKVK -p tcp -m comment --comment "default/web" -m tcp -j DNAT --to-destination 10.244.3.38:80
user@lexicon ~/notes $ \n"""


def test_gentoo_prompt_and_its_bare_prompt(tmp_path: Path) -> None:
    code, out, err = svcpath_on(tmp_path, RULES, "default/web")
    assert code == 0, err
    assert "10.244.3.38:80" in out and "1 endpoint" in out, out
