"""The fixed slice of the one-pass campaign (tests/fuzz/onepass.py; ``make fuzz-onepass`` runs a long one):
mutated dumps of seed 0, each --all table the same through the one pass as through the full analysis."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fuzz import onepass

SEED = 0
CASES = {"iptables": 120, "api": 40, "nft": 60, "nft-json": 30}


@pytest.mark.fuzz
@pytest.mark.parametrize("form", onepass.FORMS)
def test_the_one_pass_gives_the_full_analysis_table_on_mutated_input(form: str) -> None:
    cases = CASES[form]
    outcomes = list(onepass.run(SEED, cases, form))
    differ = [f"case {o.case.index} ({', '.join(o.case.edits)}; LEARN_AFTER {o.learn_after}): {o.detail}"
              for o in outcomes if o.verdict == "differ"]
    assert not differ, (f"{len(differ)} of {cases} (replay: python -m tests.fuzz.onepass --seed {SEED} --form {form}):\n"
                        + "\n".join(differ))
    # not vacuous: the one pass took the cases, and the edits changed what the table says in many of them
    assert sum(o.verdict == "same" for o in outcomes) >= cases * 0.9
    assert sum(o.changed for o in outcomes) >= cases // 10


@pytest.mark.fuzz
@pytest.mark.parametrize("form", ["iptables", "api"])
def test_a_row_the_one_pass_gets_wrong_is_reported(monkeypatch: pytest.MonkeyPatch, form: str) -> None:
    """The check can fail: a one pass that puts a wrong PKTS in the rows a recipe makes is caught."""
    from kubectl_svcpath.modes.iptables import audit

    base = onepass.Base(form)
    base.full_rows()  # (the unedited table, made right)
    real = audit._apply

    def wrong(recipe: Any, vals: Any, d: Any) -> Any:
        line = real(recipe, vals, d)
        line.row["PKTS"] = "999"
        return line

    monkeypatch.setattr(audit, "_apply", wrong)
    outcomes = list(onepass.run(SEED, 3, form, base))
    assert [o.verdict for o in outcomes] == ["differ"] * 3, [o.detail for o in outcomes]
    assert "999" in outcomes[0].detail
