"""The plain scan of an iptables-save dump, run on the text while it arrives (a live exec).

A node's ``iptables-save`` writes for about a second at 10,000 Services; ``parse_save._plain_scan``
then takes ~0.17 s more after the last byte. Its regexes are line-local: each starts at a newline
and looks no further than the end of the line after it (``_RUN_NAMES`` spans several lines, all of
one chain). So ``SaveFeed`` runs the same regexes on each piece as it comes, with the newline that
ended the piece before at its start (the piece itself up to, not including, its own last newline):
the lines outside the tables checked for odd ones, each table's declaration names up to its first
rule, then one name per run of a chain's rules (a run that a piece boundary cut in two counted
once). When the dump is read, ``parse_save`` takes these results instead of scanning the text
again, if the feed saw exactly that text; the chains' runs are then located in the text as before.

Anything that would send the dump down another path (an odd or long line, tables that do not pair
with COMMIT) leaves the feed unused: the parser then reads the text as it always did.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kubectl_svcpath.modes.iptables import parse_save as ps


@dataclass(slots=True)
class FedSection:
    """One ``*table`` … ``COMMIT`` of the dump, as ``_plain_scan`` reads it."""

    name: str
    start: int  # after the "*table" line's name (where the whole-text regexes put it)
    end: int = -1  # where the COMMIT line's newline is; -1 while the table is open
    head: int = -1  # the newline before the table's first rule; -1 until one came
    decls: list[str] = field(default_factory=list)  # _DECL_OR_ODD's names before the first rule ("" = odd line)
    runs: list[str] = field(default_factory=list)  # _RUN_NAMES's names from the first rule on ("" = other line)


class SaveFeed:
    """Feed it the dump in pieces (``feed``), in order, then ``done(text)`` with their concatenation."""

    def __init__(self) -> None:
        self.usable = True  # False: something the plain scan does not take; the parser reads the text itself
        self.counted = False  # a rule line with [packets:bytes]
        self.notices: list[str] = []  # "# Warning: …" lines, in order
        self.sections: list[FedSection] = []
        self.text: str | None = None  # the whole text, once done()
        self._length = 0  # characters fed so far
        self._newline = False  # the last piece ended with a newline, which opens the next segment
        self._open: FedSection | None = None

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
        if self._length != len(text) or self._open is not None or not self.sections:
            self.usable = False

    def _feed(self, piece: str) -> None:
        first = self._length == 0
        cut = len(piece) - 1 if piece.endswith("\n") else len(piece)
        segment = ("\n" if self._newline else "") + piece[:cut]
        base = self._length - (1 if self._newline else 0)
        self._length += len(piece)
        self._newline = cut < len(piece)
        if ps._has_long_line(segment):
            self.usable = False
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
            if name is not None:  # "*table": the lines before it are outside any table
                if self._open is not None or not self._outside(segment, lo, start):  # (up to the "*table" line)
                    self.usable = False
                    return
                self._open = FedSection(name, end + base)
                self.sections.append(self._open)
                lo = end - 1
            else:  # COMMIT: the table ends at its newline
                if self._open is None:
                    self.usable = False
                    return
                self._inside(segment, base, lo, start)
                self._open.end, self._open = start + base, None
                lo = start
        if self._open is not None:
            self._inside(segment, base, lo, len(segment))
        elif not self._outside(segment, lo, len(segment)):
            self.usable = False

    @staticmethod
    def _outside(segment: str, lo: int, hi: int) -> bool:
        return lo >= hi or ps._ODD_LINE.search(segment, lo, hi) is None

    def _inside(self, segment: str, base: int, lo: int, hi: int) -> None:
        """``segment[lo:hi]`` of the open table: declarations until its first rule, then runs of rules."""
        section = self._open
        assert section is not None
        if section.head < 0:
            first = ps._FIRST_RULE.search(segment, lo, hi)
            section.decls += ps._DECL_OR_ODD.findall(segment, lo, first.start() if first is not None else hi)
            if first is None:
                return
            section.head, lo = first.start() + base, first.start()
        runs = ps._RUN_NAMES.findall(segment, lo, hi)
        if lo == 0 and runs and section.runs and runs[0] and runs[0] == section.runs[-1]:
            del runs[0]  # the run goes on from the piece before: one run, as in the whole text
        section.runs += runs
