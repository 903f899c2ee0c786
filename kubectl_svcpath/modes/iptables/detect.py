"""Is this text iptables-save's or ``iptables -L``'s? Asked of every dump before it is read, so it
imports neither reader (nor the rule model)."""

from __future__ import annotations

import re

# ("—", "–": the "--" a blog's typography made a dash of, as pasted from the page)
_OPT_TOKENS = {"--", "-f", "!f", "\u2014", "\u2013"}
_PROTO_WORD = re.compile(r"^!?(?:all|tcp|udp|sctp|icmp|ipv6-icmp|icmpv6|esp|ah|gre|udplite|\d{1,3})$")
_COUNT = re.compile(r"^\d+[KMGT]?$")


def looks_like_iptables_save(text: str) -> bool:
    head = text[:65536]
    # (a line may be indented: rules quoted in a Markdown list, some lines by tabs and some by spaces, share no indentation
    # parse/excerpt could take off)
    return bool(re.search(r"^[ \t]*(?:\S*:)?(?:\d+[:-])?(?:\[\d+:\d+\]\s+)?-A \S", head, re.M) or re.search(r"^\*(nat|filter|mangle|raw)\s*$", head, re.M))


def looks_like_iptables_list(text: str) -> bool:
    head = text[:65536]
    if re.search(r"^Chain[ \t]+\S+[ \t]+\((?:policy|\d+[ \t]+references)", head, re.M):  # (spaced out: `| column -t`)
        return True
    # "iptables -L … | grep X": rule lines without their headers; none may look like iptables-save
    seen = 0
    for line in head.split("\n")[:400]:
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith(("-A ", "-N ", "-P ", ":", "*")) or re.match(r"^(?:\S*:)?(?:\d+[:-])?(?:\[\d+:\d+\]\s+)?-A ", s):
            return False
        if columns(s.split()) is not None:
            seen += 1
    return seen > 0


def columns(words: list[str]) -> tuple[int, bool] | None:
    """(index of the 'opt' column, verbose) of an ``-L`` rule line, or None when it is not one."""
    for k in range(1, min(len(words), 7)):
        if words[k] in _OPT_TOKENS and _PROTO_WORD.match(words[k - 1]):
            after = words[k + 1:]
            prefix = words[:k - 1]
            if len(prefix) > 4 or any(w.startswith("-") for w in prefix):
                return None
            verbose = len(after) >= 4 and (after[0] == "*" or after[1] == "*" or sum(1 for w in prefix if _COUNT.match(w)) >= 2)
            if len(after) < (4 if verbose else 2):
                return None
            return k, verbose
    return None
