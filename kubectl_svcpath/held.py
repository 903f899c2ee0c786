"""What an offline input holds, for the hint under "service ... not found": the Services a user can
name instead (`kubectl get svc` cannot help with a file or the bundled example), the closest first."""

from __future__ import annotations

import difflib

from kubectl_svcpath.wording import counted, listed

_CLOSE = 0.6  # difflib's own cutoff for a close match (get_close_matches)


def closest_first(wanted: str, names: list[str]) -> list[str]:
    """``names`` (NAMESPACE/NAME) sorted, those whose NAME is close to ``wanted``'s moved to the front, the
    closest first: the same name in another namespace, then a typo ("hello-servce" -> hello-service)."""
    names = sorted(set(names))
    close = close_only(wanted, names)
    near = set(close)
    return close + [n for n in names if n not in near]


def close_only(wanted: str, names: list[str]) -> list[str]:
    """Those of ``names`` whose NAME (after the last '/') is close to ``wanted``'s, the closest first."""
    want = wanted.rsplit("/", 1)[-1]
    matcher = difflib.SequenceMatcher(b=want)
    scored = []
    for n in sorted(set(names)):
        matcher.set_seq1(n.rsplit("/", 1)[-1])
        # the quick upper bounds first, as get_close_matches does: 10,000 names stay well under 0.1 s
        if matcher.real_quick_ratio() >= _CLOSE and matcher.quick_ratio() >= _CLOSE and (r := matcher.ratio()) >= _CLOSE:
            scored.append((-r, n))
    return [n for _, n in sorted(scored)]


def holds(what: str, wanted: str, names: list[str]) -> str:
    """``what`` ("svc.yaml holds") and the Services: "svc.yaml holds 3 Services: shop/web, default/db and
    shop/api", at most three named, then "and N more"."""
    if not names:
        return f"{what} no Service"
    return f"{what} {counted(len(set(names)), 'Service')}: {named(wanted, names)}"


def named(wanted: str, names: list[str]) -> str:
    """"a, b, c and 4 more", the closest to ``wanted`` first; a name with a space ('TCP 10.0.0.10:53') quoted."""
    return listed([f"'{n}'" if " " in n else n for n in closest_first(wanted, names)])
