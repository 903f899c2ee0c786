"""No cyclic garbage collection while one input is parsed, analysed or rendered.

That work makes millions of small objects that hold no reference cycles (a Service with 10^5
endpoints: ~2 x 10^6 dicts, tuples and dataclasses; a 10,000-Service nft table), and each
collection pass walked them all again (3.9 of 10.6 CPU-s for the first, a 2.5x slower parse for
the second). Reference counting still frees them; collection resumes after.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

FREEZE_BYTES = 1 << 20


@contextmanager
def paused_gc(size: int = 0) -> Iterator[None]:
    """Collection off inside; restored after (a nested pause leaves it to the outer one).

    A parsed input over ``FREEZE_BYTES`` (``size``) is then frozen (``gc.freeze``): the table
    lives until the process ends, and each later full collection (an --all audit makes a few)
    would walk its millions of objects again (a third of a 10,000-Service audit's time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if size > FREEZE_BYTES:
                gc.freeze()
            gc.enable()
