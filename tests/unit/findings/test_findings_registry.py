"""Every finding code is registered once (findings/registry.py) and README's table says the same."""

from __future__ import annotations

import ast
import re

import pytest

from kubectl_svcpath.findings.model import Finding, Severity
from kubectl_svcpath.findings.registry import CODES
from tests.conftest import ROOT

PKG = ROOT / "kubectl_svcpath"


def _reported() -> list[tuple[str, str, str | None]]:
    """(where, code, severity) of every Finding(...) built in the package, from the source."""
    out = []
    for path in sorted(PKG.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Finding":
                args = list(node.args) + [k.value for k in node.keywords if k.arg in ("code", "severity")]
                code = args[0].value if args and isinstance(args[0], ast.Constant) else None
                sev = args[1].value if len(args) > 1 and isinstance(args[1], ast.Constant) else None
                assert code is not None, f"{path.relative_to(ROOT)}:{node.lineno}: a finding code is a literal (grep-able)"
                out.append((f"{path.relative_to(ROOT)}:{node.lineno}", code, sev))
    return out


@pytest.mark.parametrize("where,code,severity", _reported(), ids=lambda x: str(x))
def test_every_reported_code_is_registered(where: str, code: str, severity: str | None) -> None:
    assert code in CODES, f"{where}: add {code!r} to kubectl_svcpath/findings/registry.py and README.md's table"
    if severity is not None:
        assert Severity(severity) in CODES[code].severities, f"{where}: {code} as {severity}: registry says {CODES[code].severities}"


def test_every_registered_code_is_reported() -> None:
    assert set(CODES) == {code for _, code, _ in _reported()}


def test_readme_table_matches_the_registry() -> None:
    text = (ROOT / "README.md").read_text()
    table = text[text.index("## Findings"):]
    table = table[:table.index("\n## ", 1)]
    rows = {}
    for line in table.splitlines():
        m = re.match(r"^\| `([a-z0-9-]+)` \| ([a-z/]+) \| (.+) \|$", line)
        if m:
            rows[m.group(1)] = set(m.group(2).split("/"))
    assert rows == {c.code: {s.value for s in c.severities} for c in CODES.values()}


def test_severity_is_an_enum_and_typos_fail() -> None:
    assert Finding("no-endpoints", "error", "m").severity is Severity.ERROR
    with pytest.raises(ValueError):
        Finding("no-endpoints", "eror", "m")  # type: ignore[arg-type]
