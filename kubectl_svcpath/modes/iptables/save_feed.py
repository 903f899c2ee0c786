"""The structure pass of an iptables-save dump, run on the text while it arrives (a live exec).

A node's ``iptables-save`` writes for about a second at 10,000 Services; the whole-text regexes of
``parse_save._fast_scan`` then take ~0.3 s more after the last byte. They are line-local: each
starts at a newline and looks no further than the end of the line after it (``_RULE_RUN`` spans
several lines, all of one chain). So ``SaveFeed`` runs the same regexes on each piece as it
comes, with the newline that ended the piece before at its start (the piece itself up to, not
including, its own last newline), shifts what they find to whole-text offsets, and joins a
chain's run of rules that a piece boundary cut in two. When the dump is read, ``parse_save``
takes these results instead of scanning the text again, if the feed saw exactly that text.

Anything that would send the dump down the line-by-line path (an odd line, a long line, tables
that do not pair with COMMIT) leaves the feed unused: the parser then does what it always did.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kubectl_svcpath.modes.iptables import parse_save as ps
from kubectl_svcpath.modes.iptables.model import pack_span, span_length


@dataclass(slots=True)
class FedSection:
    """One ``*table`` … ``COMMIT`` of the dump, as ``_fast_scan`` finds it."""

    name: str
    start: int  # after the "*table" line's name (as the whole-text regexes report it)
    end: int = -1  # where the COMMIT line's newline is; -1 while the table is open
    spans: dict[str, int] = field(default_factory=dict)  # chain -> pack_span of its run of rules
    covered: int = 0  # sum of span_length over spans
    first_run: int = -1  # offset of the newline before the table's first run of rules
    # chains declared (":NAME …") before that run and without a run of their own: what the parser's
    # declare_all() adds to the chains with rules (each run's chain is dropped from it as it comes)
    declared: set[str] = field(default_factory=set)


class SaveFeed:
    """Feed it the dump in pieces (``feed``), in order, then ``done(text)`` with their concatenation."""

    def __init__(self) -> None:
        self.usable = True  # False: something the fast path does not take; the parser reads the text itself
        self.odd = False  # a line that is none of iptables-save's own (or too long)
        self.counted = False  # a rule line with [packets:bytes]
        self.notices: list[str] = []  # "# Warning: …" lines, in order
        self.sections: list[FedSection] = []
        self.text: str | None = None  # the whole text, once done()
        self._length = 0  # characters fed so far
        self._newline = False  # the last piece ended with a newline, which opens the next segment
        self._open: FedSection | None = None
        self._last_run: tuple[str, int, int] | None = None  # (chain, start, end) of the last run seen

    def feed(self, piece: str) -> None:
        """Scan one piece; never raises (a failure leaves the feed unused)."""
        if not self.usable or not piece:
            return
        try:
            self._feed(piece)
        except Exception:  # noqa: BLE001 - the feed only saves time: the parser reads the text as before
            self.usable = False

    def done(self, text: str) -> None:
        """The whole text the pieces made: the parser uses the feed only for this very string."""
        self.text = text
        if self._length != len(text) or self._open is not None:
            self.usable = False

    def _feed(self, piece: str) -> None:
        first = self._length == 0
        cut = len(piece) - 1 if piece.endswith("\n") else len(piece)
        segment = ("\n" if self._newline else "") + piece[:cut]
        base = self._length - (1 if self._newline else 0)
        self._length += len(piece)
        self._newline = cut < len(piece)
        if ps._ODD_LINE.search(segment) or ps._has_long_line(segment):
            self.odd, self.usable = True, False
            return
        if not self.counted and ps._ANY_COUNTED_RULE.search(segment):
            self.counted = True
        self.notices += [m.group(0).strip() for m in ps._NOTICE_LINE.finditer(segment)]
        marks = [(m.group(1), m.start(), m.end()) for m in ps._SECTION.finditer(segment)]
        if first:
            m = ps._FIRST_SECTION.match(piece)
            if m is not None:
                marks.insert(0, (m.group(1), m.start(), m.end()))
        lo = 0
        for name, start, end in marks:
            if self._open is not None:
                self._runs(segment, base, lo, start)
            if not self._mark(name, start + base, end + base):
                return
            lo = end - 1 if name is not None else end
        if self._open is not None:
            self._runs(segment, base, lo, len(segment))

    def _mark(self, name: str | None, start: int, end: int) -> bool:
        """A "*table" line opens a table, COMMIT closes it; False (feed unused) when they do not pair."""
        if name is not None:
            if self._open is not None:
                self.usable = False
                return False
            self._open = FedSection(name, end)
            self.sections.append(self._open)
        else:
            if self._open is None:
                self.usable = False
                return False
            self._open.end = start
            self._open = None
        return True

    def _runs(self, segment: str, base: int, lo: int, hi: int) -> None:
        section = self._open
        assert section is not None
        spans = section.spans
        last = self._last_run
        for m in ps._RULE_RUN.finditer(segment, lo, hi):
            if section.first_run < 0:  # the table's declarations end where its first rule starts
                section.declared.update(ps._DECL_NAME.findall(segment, lo, m.start()))
            chain, start, end = m.group(2), m.start() + base, m.end() + base
            if m.start() == 0 and last is not None and last[0] == chain and last[2] == start:
                start = last[1]  # the run goes on from the piece before: one run, as in the whole text
                section.covered -= span_length(spans[chain])
            else:
                start += 1
                old = spans.get(chain)
                if old is not None:  # a second run of the chain: the later one stands, as in the parser's dict
                    section.covered -= span_length(old)
                if section.first_run < 0:
                    section.first_run = start - 1
            spans[chain] = pack_span(start, end)
            section.declared.discard(chain)
            section.covered += end - start
            last = (chain, start, end)
        self._last_run = last
        if section.first_run < 0:
            section.declared.update(ps._DECL_NAME.findall(segment, lo, hi))
