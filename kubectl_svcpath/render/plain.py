"""Tables in tabulate's "plain" format, written out: kubectl's look (columns as wide as their widest cell,
two spaces apart, headers left as they are).

tabulate, with the importlib.metadata, email and zipfile modules it brings, is ~15 ms of a run's start
(a twentieth of one Service's analysis of a 10,000-Service dump); it loads only for a table with a cell
outside ASCII or with a line break, which it measures its own way.
"""

from __future__ import annotations


def plain_table(cells: list[list[str]], headers: list[str], min_padding: int = 0) -> str:
    """tabulate(cells, headers, tablefmt="plain", disable_numparse=True) with tabulate.MIN_PADDING
    ``min_padding``: a column is at least its header and that many spaces wide (0: kubectl-like, as wide as
    its widest cell; the trace's branch table keeps tabulate's own 2)."""
    if any(not c.isascii() or "\n" in c or "\r" in c for row in cells for c in row):
        import tabulate

        tabulate.MIN_PADDING = min_padding
        return tabulate.tabulate(cells, headers=headers, tablefmt="plain", disable_numparse=True)
    stripped = [list(map(str.strip, row)) for row in cells]
    columns = list(zip(*stripped, strict=True)) if stripped else [()] * len(headers)
    widths = [max(len(h) + min_padding, max(map(len, column), default=0)) for h, column in zip(headers, columns, strict=True)]
    row_format = "  ".join(f"{{:<{w}}}" for w in widths)  # (one C call a row: half the time of ljust and join)
    return "\n".join([row_format.format(*row).rstrip() for row in [headers, *stripped]])
