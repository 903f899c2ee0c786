"""Big ``nft list`` tables: chain blocks found by their layout, each read when it is asked for.

nft prints a chain as a block: ``<indent>chain NAME {`` (a ``# handle N`` after it with ``-a``),
body lines indented deeper, and ``<indent>}``. A 10,000-Service table has ~41,000 such blocks and
one Service's analysis reads a dozen. ``chain_blocks`` finds them with one regex (C speed);
``skeleton`` tokenises everything else (tables, sets and maps with their elements, commands) and
puts one ``LAZY`` token where each block was, which the structure reader records as the chain's
place (``LazyChains``) instead of reading it. A block whose lines do not keep that layout is not
found here and is read with the rest, as before.

What the whole-text reader refuses inside a block is still found before anything is read:
``check_quotes`` is the lexer's one error (a quote that does not close on its line); a block's
braces cannot leave it (its lines are all indented deeper than its own), and a block that does
not read as one chain is an error when it is read.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterator

from kubectl_svcpath.errors import BadDump
from kubectl_svcpath.modes.nftables.text_tokens import NL, Token, tokenize

LAZY = "lazy"  # a token standing for a run of unread chain blocks: "first-last" block numbers
ELEMENTS = "elements"  # a token standing for the inside of "elements = { … }": "start-end" offsets

_BLOCK = re.compile(r'^([ \t]+)chain ([^\s{};,"#]+) \{[ \t]*(?:#[^\n]*)?\n'  # "\tchain NAME {  # handle 3"
                    r'(?:(?:\1[ \t][^\n]*)?\n)*?'  # body lines, each indented deeper (or blank)
                    r'\1\}[ \t]*(?:#[^\n]*)?$', re.M)  # "\t}" at the block's own indentation
_OPEN_QUOTE = re.compile(r'(?:[^"#\n]|"(?:[^"\\\n]|\\.)*")*"(?:[^"\\\n]|\\.)*\\?$', re.M)
_ELEMENTS = re.compile(r'^[ \t]*elements = \{', re.M)  # a set's elements as nft lists them
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_ELEMENT = re.compile(r'(?:[^,"]+|"(?:[^"\\\n]|\\.)*")+')  # one element: up to a comma outside a string

Block = tuple[str, int, int, int]  # chain name, start and end offsets in the text, first line


class Blocks:
    """The chain blocks of a text, in text order (compact: a big table has ~41,000)."""

    __slots__ = ("names", "places")

    def __init__(self) -> None:
        self.names: list[str] = []
        self.places = array("q")  # start, end, first line of each block

    def add(self, name: str, start: int, end: int, line: int) -> None:
        self.names.append(name)
        self.places.extend((start, end, line))

    def __getitem__(self, k: int) -> Block:
        p = self.places
        return self.names[k], p[3 * k], p[3 * k + 1], p[3 * k + 2]

    def __len__(self) -> int:
        return len(self.names)


def chain_blocks(text: str) -> Blocks:
    """Each chain block laid out as nft prints it, in text order."""
    out = Blocks()
    line, at = 1, 0
    for m in _BLOCK.finditer(text):
        start = m.start()
        line += text.count("\n", at, start)
        at = start
        out.add(m.group(2), start, m.end(), line)
    return out


def check_quotes(text: str, source: str) -> None:
    """BadDump on the first line with a quote that does not close on it (outside a ``#`` comment),
    as ``tokenize`` says it; only lines holding a quote are looked at."""
    at = text.find('"')
    while at >= 0:
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        end = len(text) if end < 0 else end
        if _OPEN_QUOTE.match(text, start, end):
            raise BadDump(source, "unterminated quoted string", text.count("\n", 0, start) + 1)
        at = text.find('"', end)


def skeleton(text: str, source: str, blocks: Blocks) -> list[Token]:
    """The tokens of everything but the blocks, with a ``LAZY`` token ("first-last" block numbers)
    in the place of each run of blocks that only blank space separates."""
    out: list[Token] = []
    pos, line = 0, 1
    run: list[int] = []  # first and last block of the run being gathered
    for k in range(len(blocks)):
        _, start, end, first = blocks[k]
        if run and text[pos:start].isspace():
            run[1] = k
        else:
            if run:
                out.append(Token(LAZY, f"{run[0]}-{run[1]}", blocks[run[0]][3]))
            out += _tokens(text, pos, start, source, line)
            run = [k, k]
        line = first + text.count("\n", start, end)
        pos = end
    if run:
        out.append(Token(LAZY, f"{run[0]}-{run[1]}", blocks[run[0]][3]))
    out += _tokens(text, pos, len(text), source, line)
    return out


def _tokens(text: str, pos: int, end: int, source: str, line: int) -> list[Token]:
    """The tokens of ``text[pos:end]`` (line ``line`` at ``pos``), an ``ELEMENTS`` token for the
    inside of each element list (read one element at a time: a map of 10,000 is 100,000 tokens)."""
    out: list[Token] = []
    for m in _ELEMENTS.finditer(text, pos, end):
        inner = m.end()
        close = _list_end(text, inner, end)
        if close is None or inner < pos:
            continue
        out += tokenize(text[pos:inner], source, line)
        line += text.count("\n", pos, inner)
        out.append(Token(ELEMENTS, f"{inner}-{close}", line))
        line += text.count("\n", inner, close)
        pos = close
    out += tokenize(text[pos:end], source, line)
    return out


def _list_end(text: str, start: int, end: int) -> int | None:
    """Where the element list opened before ``start`` closes: its ``}``, None when a comment, a
    nested brace or an open quote comes first (then it is read with the rest, token by token)."""
    at = start
    close = text.find("}", at, end)
    while True:
        if close < 0:
            return None
        quote = text.find('"', at, close)
        if quote < 0:
            return None if text.find("{", at, close) >= 0 or text.find("#", at, close) >= 0 else close
        if text.find("{", at, quote) >= 0 or text.find("#", at, quote) >= 0:
            return None
        m = _STRING.match(text, quote, end)
        if m is None:
            return None
        at = m.end()
        if at > close:  # (the brace was inside that string: the next one; else the same, not looked for again:
            close = text.find("}", at, end)  # a list of 10^6 quoted strings made that a scan a string, 12 s)


def elements(text: str, span: str, line: int, source: str) -> Iterator[list[Token]]:
    """The tokens of each element of an ``ELEMENTS`` token's list (newlines left out)."""
    start, _, end = span.partition("-")
    pos = int(start)
    for m in _ELEMENT.finditer(text, pos, int(end)):
        piece = m.group()
        if piece.isspace():
            continue
        line += text.count("\n", pos, m.start())
        pos = m.start()
        toks = [t for t in tokenize(piece, source, line) if t.kind != NL]
        if toks:
            yield toks


def pack(start: int, end: int, line: int) -> int:
    """A block's place as one int (a big table has ~41,000): start and end offsets, first line."""
    return start | end << 40 | line << 80


def unpack(place: int) -> tuple[int, int, int]:
    return place & _MASK, place >> 40 & _MASK, place >> 80


_MASK = (1 << 40) - 1


def counted(text: str, blocks: Blocks) -> list[int]:
    """The blocks with the word ``counter`` in them (rules that may carry a counter), by number."""
    found: list[int] = []
    k, at = 0, text.find("counter")
    while at >= 0 and k < len(blocks):
        while k < len(blocks) and blocks[k][2] <= at:
            k += 1
        if k < len(blocks) and blocks[k][1] <= at:
            found.append(k)
            at = blocks[k][2]  # the next block
        at = text.find("counter", at + 1)
    return found
