"""kubectl's habits that svcpath's one SERVICE argument does not take: say how to write them."""

from __future__ import annotations

from tests.conftest import svcpath


def test_kubectl_get_svc_name_habit_is_answered_with_the_one_word_form() -> None:
    code, out, err = svcpath("svc", "web", "-n", "shop", "--rules-file", "/nonexistent")

    assert code == 2 and out == ""
    error, hint = err.splitlines()
    # (click's own words: "argument (web)" in 8.1, "argument(s) (web)" later: the floor and the newest both run)
    assert error.startswith("error: Got unexpected extra argument") and error.endswith(" (web)")
    assert hint == "hint: name the Service in one word: kubectl svcpath svc/web (or just web)"


def test_another_extra_argument_keeps_the_general_hint() -> None:
    code, _, err = svcpath("web", "extra", "--rules-file", "/nonexistent")

    assert code == 2 and err.splitlines()[1] == "hint: see 'kubectl svcpath --help'"
