"""An nft listing's element list is found whole (text_index._list_end) however many quoted strings it
holds, and a `}` inside one of them does not end it.

The hostile campaign's seed 22: a set whose one 2,000,000-character line held ~10^6 quoted strings
took 14 s, each string making a fresh search for the list's `}` from where it ended.
"""

from __future__ import annotations

from kubectl_svcpath.modes.nftables import text_index


def _list(body: str) -> tuple[str, int]:
    text = "elements = { " + body + " }\n}\n"
    return text, text.index("{") + 1


def test_the_list_ends_at_its_own_brace() -> None:
    text, start = _list('"a", "b", "c"')
    assert text_index._list_end(text, start, len(text)) == text.index(" }\n") + 1


def test_a_brace_inside_a_string_does_not_end_the_list() -> None:
    text, start = _list('"x}y", "z } w", "last"')
    assert text_index._list_end(text, start, len(text)) == text.rindex(" }\n}") + 1


def test_many_strings_then_a_brace_inside_one() -> None:
    body = ", ".join(f'"s{i}"' for i in range(5000)) + ', "in}side", "after"'
    text, start = _list(body)
    assert text_index._list_end(text, start, len(text)) == text.rindex(" }\n}") + 1


def test_a_nested_brace_or_comment_leaves_the_list_to_the_tokens() -> None:
    for body in ('"a", { "b" }', '"a" # note', "{ 1 }"):
        text, start = _list(body)
        assert text_index._list_end(text, start, len(text)) is None, body
