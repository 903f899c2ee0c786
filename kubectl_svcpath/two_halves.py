"""A one-pass audit's lines made by two processes: a forked child makes the second half's.

After a live ``--all`` has its rules, the rest is CPU in one interpreter (one core: the GIL) while
the machine's other cores sit idle. The one-pass audit (modes/*/audit*.py) is set up once - the
rules parsed, the Services listed from them, the lines of the first few hundred made (and with them
most templates) - and only then forked: the child inherits all of it (copy-on-write, nothing is
sent), makes the lines of the second half of the rest and sends them back pickled through a pipe,
while this process makes the first half's. The lines come out in the order one process would give.

Each half is the same one pass over fewer Services: a template first met in a half gets its full
analysis there, the others are derived from it, so the lines are those of one process. Anything
odd - no ``os.fork`` (Windows), one CPU, a child that fails or dies - and this process makes the
second half itself. The child never writes to the terminal, and ends with ``os._exit``: no
``finally`` or ``atexit`` of the parent runs twice.
"""

from __future__ import annotations

import itertools
import os
import pickle
import signal
from collections.abc import Callable, Iterable, Iterator
from typing import Any

FROM = 2000  # Services: below this, a fork (~10 ms, and the child's own first analyses) does not pay
HEAD = 500  # lines made before the fork


class _Part:
    """The items the one pass is given, read one at a time as its lines are asked for: each process
    moves its own bounds after the fork."""

    def __init__(self, items: list[Any]) -> None:
        self.items, self.next, self.end = items, 0, len(items)

    def __iter__(self) -> Iterator[Any]:
        while self.next < self.end:
            self.next += 1
            yield self.items[self.next - 1]


def lines_in_two(make: Callable[[Iterable[Any]], Iterator[Any] | None], items: list[Any],
                 least: int | None = None, head: int | None = None) -> Iterator[Any] | None:
    """``make(items)``'s lines, the second half made by a forked child when worth it; None when
    ``make`` gives None (no one-pass audit for this input). ``make``'s lines must be one per item,
    each item read when its line is asked for (the one-pass audits' are). ``least``, ``head``: FROM
    and HEAD."""
    part = _Part(items)
    lines = make(part)
    if lines is None or len(items) < (FROM if least is None else least) or not hasattr(os, "fork") or _cpus() < 2:
        return lines
    return _two(make, lines, part, HEAD if head is None else head)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _two(make: Callable[[Iterable[Any]], Iterator[Any] | None], lines: Iterator[Any], part: _Part,
         head: int) -> Iterator[Any]:
    # the first Services here alone: a child forked after them inherits the templates they made (most
    # of a big cluster's are met early) instead of analysing each one's first Service in full again
    yield from itertools.islice(lines, head)
    mid = part.next + (part.end - part.next) // 2
    child = _fork(lines, part, mid)
    part.end = mid
    try:
        yield from lines
    except BaseException:  # (also when the caller stops early): the child is not waited for
        _abandon(child)
        raise
    rest = _collect(child)
    if rest is None:  # no child, or it failed: this process makes the second half
        again = make(_Part(part.items[mid:]))
        rest = list(again) if again is not None else []
    yield from rest


def _fork(lines: Iterator[Any], part: _Part, mid: int) -> tuple[int, int] | None:
    """(pid, read end of its pipe), or None when the fork itself failed."""
    try:
        r, w = os.pipe()
        pid = os.fork()
    except OSError:
        return None
    if pid:
        os.close(w)
        return pid, r
    code = 1
    try:  # the child: the second half's lines, pickled, then out
        os.close(r)
        part.next = mid
        data = pickle.dumps(list(lines), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(w, "wb") as out:
            out.write(data)
        code = 0
    finally:
        os._exit(code)


def _abandon(child: tuple[int, int] | None) -> None:
    """The child stopped and reaped, its pipe closed: nothing left behind."""
    if child is None:
        return
    pid, r = child
    os.close(r)
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    os.waitpid(pid, 0)


def _collect(child: tuple[int, int] | None) -> list[Any] | None:
    """The child's lines, or None when it failed (a non-zero exit, a signal, a cut pickle)."""
    if child is None:
        return None
    pid, r = child
    with os.fdopen(r, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0:
        return None
    try:
        got = pickle.loads(data)  # noqa: S301 - our own child's lines, through our own pipe
    except Exception:  # noqa: BLE001 - a cut or garbled answer: this process makes them
        return None
    return got if isinstance(got, list) else None
