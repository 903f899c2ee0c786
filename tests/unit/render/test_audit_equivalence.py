"""The --all audit gives each Service the same answer as asking for that Service alone (issue 11).

The audit reads the input once for all Services (whole-input notes worked out once, each
Service's chains read when it is reached and forgotten after); these tests hold it to the
single-Service analysis on every shared dump: same ports, paths, endpoints, findings, notes.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from kubectl_svcpath.app import Env, gather_and_analyse
from kubectl_svcpath.options import Options
from tests.conftest import DUMPS, require_shared

DUMP_FILES = sorted(p.name for p in DUMPS.glob("*") if p.is_file() and p.name != "INDEX.md") if DUMPS.is_dir() else []


def _reports(opts: Options) -> list[dict[str, Any]]:
    env = Env(io.StringIO(), io.StringIO())
    return [r.to_dict() for r in gather_and_analyse(opts, env).reports]


@pytest.mark.parametrize("dump", DUMP_FILES)
def test_audit_equals_one_service_at_a_time(dump: str) -> None:
    require_shared()
    path = str(DUMPS / dump)
    audit = _reports(Options(rules_files=[path], all_services=True))
    named = [doc for doc in audit if doc["service"]["name"]]
    assert audit, f"the audit of {dump} listed no Service"
    if not named:  # (an ipvsadm listing names no Service: there is no single-Service run to compare with)
        pytest.skip(f"{dump} names no Service")
    for doc in named:
        ref = f'{doc["service"]["namespace"]}/{doc["service"]["name"]}'
        alone = _reports(Options(service=ref, rules_files=[path]))
        assert len(alone) == 1
        assert alone[0] == doc, f"{dump}: {ref} differs between --all and a single-Service run"
