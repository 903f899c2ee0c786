"""nft's text forms as tokens: the lexer every reader of ``nft list`` text shares.

Public API (also for iptables-nft's tables printed by ``nft list``):
- ``tokenize(text, source)`` -> ``list[Token]``: words, quoted strings (unquoted), ``{ } ; ,`` and
  newlines, each with its line number; ``#`` comments (``# handle 7``) dropped;
- ``Token(kind, value, line)`` with ``.shown`` (a string re-quoted, as written);
- ``Cursor(tokens)``: reads them left to right; ``statement()`` takes one statement (up to a newline
  or ``;`` outside braces, or the ``}`` closing its block);
- ``shown(tokens)``: a statement's tokens as one line of text.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from kubectl_svcpath.errors import BadDump

NL, STR, PUNCT, WORD = "nl", "str", "punct", "word"


class Token(NamedTuple):
    kind: str  # NL, STR, PUNCT or WORD
    value: str  # a string's text without its quotes
    line: int  # 1-based line of the input

    @property
    def shown(self) -> str:
        """The token as nft prints it: a string in quotes."""
        return f'"{self.value}"' if self.kind == STR else self.value

    def is_punct(self, value: str) -> bool:
        return self.kind == PUNCT and self.value == value


def shown(tokens: list[Token]) -> str:
    return " ".join(t.shown for t in tokens)


# nft built with libxtables prints a match of iptables-nft it cannot translate as its iptables words after "#", in the
# middle of a rule ("ip saddr != 10.0.0.0/8 # match-set KUBE-CLUSTER-IP dst,dst counter … jump KUBE-MARK-MASQ": the
# ipsets of kube-proxy's IPVS mode): such a set match is kept as tokens ("# match-set", its set, its flags), the rest of
# the line read on; any other "#" text (a handle, nft's own comment) is dropped to the end of the line
_FAST_TOKEN = re.compile(r'\n|#[ \t]*!?[ \t]*match-set[ \t]+[^\s{};,"#]+[ \t]+[^\s{};"#]+|#[^\n]*|"(?:[^"\\\n]|\\.)*"|"|[{};,]|[^\s{};,"#]+')
XT_SET = "# match-set"  # the token that opens such a match (shown as nft printed it)
# nft nests braces a few deep (table, chain or map, an anonymous set or verdict map inside a rule): a text
# nested deeper is no listing of nft's, refused at the line where it goes past this (a line of 10^7 "{"
# had the lexer hold 10^7 tokens, 1.9 GB, before the reader refused its first brace)
MOST_DEPTH = 64
LISTING_HINT = "pass the complete output of `nft list table ip kube-proxy` (or `nft -j list …`)"
_UNESCAPE = re.compile(r"\\(.)")
_new = tuple.__new__  # Token(...) without NamedTuple's Python-level __new__: a big table has millions


def tokenize(text: str, source: str, line: int = 1) -> list[Token]:
    """Every token of ``text`` (whose first line is line ``line`` of the input); BadDump for a quote
    that does not close on its line, or braces nested past MOST_DEPTH."""
    out: list[Token] = []
    append = out.append
    depth = 0
    joined = False  # nft's "# Warning: XT target DNAT not found" ends the line; the rule goes on on the next one
    for value in _FAST_TOKEN.findall(text):
        c = value[0]
        if c == "\n":
            if not joined:
                append(_new(Token, (NL, "\n", line)))
            joined = False
            line += 1
        elif c == "#":
            if value.startswith("# Warning: XT ") and value.rstrip().endswith(" not found"):
                joined = True  # ('… counter packets 81 bytes 4860 # Warning: …' then 'xt target "DNAT"': one rule)
            elif "match-set" in value:  # "# [!] match-set NAME FLAGS"
                words = value[1:].replace("!", " ! ").split()
                neg = "!" if words[0] == "!" else ""
                append(_new(Token, (WORD, XT_SET, line)))
                append(_new(Token, (WORD, neg + words[-2], line)))
                append(_new(Token, (WORD, words[-1], line)))
            continue
        elif c == '"':
            if len(value) == 1:  # a quote that never closes on its line
                raise BadDump(source, "unterminated quoted string", line)
            body = value[1:-1]
            append(_new(Token, (STR, _UNESCAPE.sub(r"\1", body) if "\\" in body else body, line)))
        elif c in "{};," and len(value) == 1:
            if c == "{":
                depth += 1
                if depth > MOST_DEPTH:
                    raise BadDump(source, f"braces nested more than {MOST_DEPTH} deep: not nft's output", line, LISTING_HINT)
            elif c == "}":
                depth -= 1
            append(_new(Token, (PUNCT, value, line)))
        else:
            append(_new(Token, (WORD, value, line)))
    return out


class Cursor:
    """Tokens read left to right. ``peek``/``kind`` look ahead without moving; ``next`` moves."""

    __slots__ = ("toks", "i")

    def __init__(self, toks: list[Token]) -> None:
        self.toks = toks
        self.i = 0

    def at(self, ahead: int = 0) -> Token | None:
        j = self.i + ahead
        return self.toks[j] if j < len(self.toks) else None

    def peek(self, ahead: int = 0) -> str | None:
        tok = self.at(ahead)
        return tok.value if tok is not None else None

    def kind(self, ahead: int = 0) -> str | None:
        tok = self.at(ahead)
        return tok.kind if tok is not None else None

    def take(self) -> Token:
        """The next token (IndexError at the end)."""
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def next(self) -> str:
        return self.take().value

    def done(self) -> bool:
        return self.i >= len(self.toks)

    def skip_separators(self) -> None:
        """Past newlines and ``;`` between statements."""
        toks, n = self.toks, len(self.toks)
        while self.i < n and (toks[self.i].kind == NL or toks[self.i].is_punct(";")):
            self.i += 1

    def statement(self) -> list[Token]:
        """Tokens up to a newline or ';' outside braces, or up to the '}' closing the enclosing block
        (not taken); newlines inside braces are dropped."""
        out: list[Token] = []
        depth = 0
        toks, n = self.toks, len(self.toks)
        while self.i < n:
            tok = toks[self.i]
            kind, value = tok.kind, tok.value
            if kind == PUNCT:
                if value == "{":
                    depth += 1
                elif value == "}":
                    if depth == 0:
                        break
                    depth -= 1
                elif value == ";" and depth == 0:
                    break
            elif kind == NL:
                if depth == 0:
                    break
                self.i += 1
                continue
            out.append(tok)
            self.i += 1
        return out
