"""Is this text nft's? Asked of every dump before it is read, so it imports nothing of the reader."""

from __future__ import annotations

COMMANDS = ("add", "create", "insert", "replace", "flush", "delete", "destroy")


def looks_like_nft_text(text: str) -> bool:
    """True for ``nft list`` output or an nft transaction (``add table|chain|rule|element …``)."""
    for line in text.splitlines()[:200]:
        s = line.split("#", 1)[0].strip()  # `nft -a` ends lines with "# handle N"
        if not s:
            continue
        words = s.split()
        if words[0] == "table" and len(words) == 3 and "{" not in s:
            continue  # `nft list tables` output before the listing: a table's name alone
        if words[0] == "table" and len(words) >= 3 and words[-1] == "{":
            return True
        if words[0] in COMMANDS and len(words) >= 3 and words[1] in ("table", "chain", "rule", "set", "map", "element"):
            return True
        return False
    return False
