"""Several ``nft -j`` documents in one paste: ``nft -j list table ip kube-proxy`` and ``… ip6 kube-proxy`` run one
after the other, or one table listed twice (two moments). Pure.

``nft -j`` prints one JSON object, ``{"nftables": [...]}``, per command. A paste of two is not one JSON document
(json.loads: "Extra data"); between them there may be the commands' prompt lines, which the paste cleaner has made
``#`` lines. Each document is read on its own (its objects' pointers are into it: ``paste.json:40#/nftables/7``) and
the tables are put together: a table another document lists too is read once when both list the same objects, and
from the later listing, as the later state, when they differ (as an ``nft list`` text that lists a chain twice).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from kubectl_svcpath.modes.nftables.model import NftRuleset
from kubectl_svcpath.wording import numbered


def documents(text: str) -> list[tuple[int, str]] | None:
    """(the line it starts on, its text) for each JSON object of a text of JSON objects and, around them, nothing but
    blank and ``#`` lines; None for any other text (stray words, or no object)."""
    decode = json.JSONDecoder().raw_decode
    out: list[tuple[int, str]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] in " \t\r\n":
            i += 1
        elif text[i] == "#":  # (a command's prompt line, commented out by the paste cleaner)
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif text[i] == "{":
            try:
                _, end = decode(text, i)
            except (ValueError, RecursionError):
                return None
            out.append((text.count("\n", 0, i) + 1, text[i:end]))
            i = end
        else:
            return None
    return out or None


def _by_table(doc: str) -> dict[tuple[str, str], list[str]]:
    """Each table's objects in a document, as canonical JSON (to tell two listings of it alike or not)."""
    items = json.loads(doc).get("nftables")
    out: dict[tuple[str, str], list[str]] = {}
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or len(item) != 1:
            continue
        (kind, body), = item.items()
        if isinstance(body, dict) and len(body) == 1 and kind in ("add", "create", "insert", "replace"):
            (kind, body), = body.items()
        if isinstance(body, dict) and kind != "metainfo":
            name = body.get("name") if kind == "table" else body.get("table")
            out.setdefault((str(body.get("family")), str(name)), []).append(json.dumps(body, sort_keys=True))
    return out


def read_documents(docs: list[tuple[int, str]], source: str,
                   parse: Callable[[str, str], NftRuleset]) -> tuple[NftRuleset, list[str], list[str]]:
    """The documents' tables as one ruleset, the notes that say what was read of each, and each document's source."""
    if len(docs) == 1:  # (one document under its command's prompt line)
        return parse(docs[0][1], source), [], [source]
    sources = [f"{source}:{line}" for line, _ in docs]
    listed = [_by_table(doc) for _, doc in docs]
    combined = parse(docs[0][1], sources[0])
    seen = {key: (docs[0][0], objects) for key, objects in listed[0].items()}  # table -> (line of the listing read, objects)
    notes = [f"{source} holds {len(docs)} nft -j documents, each read (" + "; ".join(
        f"line {line}: {', '.join(f'table {f} {n}' for f, n in tables) or 'no table'}"
        for (line, _), tables in zip(docs, listed, strict=True)) + ")"]
    for (line, doc), where, tables in zip(docs[1:], sources[1:], listed[1:], strict=True):
        ruleset = parse(doc, where)
        for key, table in ruleset.tables.items():
            first, objects = seen.get(key), tables.get(key, [])
            lines = numbered("line", [first[0], line]) if first is not None else ""
            if first is not None and first[1] == objects:
                notes.append(f"{source}: table {key[0]} {key[1]} is listed again, the same ({lines}): read once")
                continue
            if first is not None:
                notes.append(f"{source}: table {key[0]} {key[1]} is listed twice with other objects ({lines}): several "
                             f"moments pasted together; its last listing is read (line {line}), as the later state")
            combined.tables[key] = table
            seen[key] = (line, objects)
        combined.merge(NftRuleset(dumps=ruleset.dumps))  # (its documents' facts; a merge forgets what was worked out)
    return combined, notes, sources
