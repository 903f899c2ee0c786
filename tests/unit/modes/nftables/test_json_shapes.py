"""`nft -j` documents with a field of another kind: every key of a real document (kube-proxy's nftables
table from the upstream proxier test, and iptables-nft's nat table of the bundled example) set, all its
occurrences at once, to values nft never writes there (a number for a string, a list for an object, a
mod of 10^30...). Each variant gives what a user can act on - a report, or one error line with a
documented exit code - never a traceback (exit 1, "internal error") or a hang.

Found so: a comment that is a number, `fib` flags of null, a numgen `mod` that is a string or an object
(tracebacks), a numgen mod of 10^30 (--trace forked a branch for every value: a hang), a jump target that
is a list (fuzz seed 32).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from kubectl_svcpath.errors import ExitCode
from tests.conftest import DUMPS, EXAMPLE, require_shared, svcpath

_ODD = [None, True, -1, 10 ** 30, 1.5, "x", [], {"a": 1}]
_DOCUMENTS = {
    # document -> the commands run on each variant (the shared upstream table holds ns1/svc1 at 172.30.0.41)
    "kube-proxy": ("derived-netns-nft-json-list-table-ip-kube-proxy-from-upstream-TestOverallNFTablesRules.json",
                   [["--all"], ["ns1/svc1", "--trace", "10.0.0.1"]]),
    "iptables-nft": ("nft-list-table-ip-nat.json",
                     [["--all"], ["hello-service", "--trace", "10.0.0.1:39090", "--manifest", str(EXAMPLE / "manifest.yaml")]]),
}


def _keys(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            found.add(k)
            found |= _keys(v)
    elif isinstance(value, list):
        for v in value:
            found |= _keys(v)
    return found


def _with(value: Any, key: str, odd: Any) -> Any:
    """``value`` with every ``key`` set to ``odd`` (the root's "nftables" list kept: else it is no nft -j document)."""
    if isinstance(value, dict):
        return {k: (odd if k == key and k != "nftables" else _with(v, key, odd)) for k, v in value.items()}
    if isinstance(value, list):
        return [_with(v, key, odd) for v in value]
    return value


_DOCUMENTED = {int(c) for c in ExitCode} - {ExitCode.INTERNAL}


# (the longest unit test, ~1,300 in-process runs: a sweep like the fixed fuzz slice, so marked like it - the full
# suite runs it, make test-min on the oldest versions leaves it out)
@pytest.mark.fuzz
@pytest.mark.parametrize("which", sorted(_DOCUMENTS))
def test_every_key_of_another_kind_is_a_report_or_one_error_line(tmp_path, which: str) -> None:
    name, commands = _DOCUMENTS[which]
    path = (DUMPS / name) if which == "kube-proxy" else (EXAMPLE / name)
    if which == "kube-proxy":
        require_shared()
    doc = json.loads(path.read_text())
    keys = sorted(_keys(doc) - {"nftables"})
    assert len(keys) > 20  # (the document's own keys: family, table, chain, expr, comment, numgen, mod, ...)
    f = tmp_path / "odd.json"
    outcomes: dict[int, int] = {}
    wrong: list[str] = []  # (all of them said at once: one failure shows every key to mend)
    for key in keys:
        for odd in _ODD:
            f.write_text(json.dumps(_with(doc, key, odd)))
            for args in commands:
                code, out, err = svcpath("--rules-file", str(f), *args)
                said = f"{key}={odd!r} {' '.join(args)}: exit {code}: {err.splitlines()[0][:200] if err else ''}"
                if code not in _DOCUMENTED or "internal error" in err or "Traceback" in err:
                    wrong.append(said)
                elif code == ExitCode.BAD_DUMP and not (out == "" and err.startswith("error: ") and len(err.splitlines()) <= 2):
                    wrong.append(said)  # one error line and its hint
                outcomes[code] = outcomes.get(code, 0) + 1
    assert not wrong, "\n".join(wrong)
    assert outcomes.get(ExitCode.BAD_DUMP, 0) > 50 and outcomes.get(0, 0) + outcomes.get(ExitCode.PROBLEMS_FOUND, 0) > 50
