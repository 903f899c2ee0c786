"""The fixed slice of tests/fuzz/cuts.py CI runs: cut real pastes claim no absence the cut does not show."""

from __future__ import annotations

import pytest

from tests.fuzz.cuts import run


@pytest.mark.fuzz
def test_cut_pastes_claim_no_absence_without_its_evidence() -> None:
    found = run(seed=0, cases=120)
    assert not found, "\n".join(found)
