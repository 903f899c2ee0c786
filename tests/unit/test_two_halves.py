"""two_halves.lines_in_two: a forked child makes the second half of a one-pass audit's lines; the lines
come out as one process gives them, in the same order, also when the child fails or dies."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable, Iterator

import pytest

from kubectl_svcpath.two_halves import lines_in_two

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork here: one process makes every line")


def _lines(items: Iterable[int]) -> Iterator[tuple[int, int]]:
    for i in items:
        yield i * i, os.getpid()


def test_the_second_half_is_made_by_a_child_in_order() -> None:
    made = []

    def make(part: Iterable[int]) -> Iterator[tuple[int, int]]:
        made.append(part)  # the one pass is set up once, before the fork
        return _lines(part)

    got = list(lines_in_two(make, list(range(1501)), least=10) or [])

    assert [v for v, _ in got] == [i * i for i in range(1501)]
    pids = [pid for _, pid in got]
    assert set(pids[:1000]) == {os.getpid()}  # the first 500 (HEAD), then half of the rest, here
    assert len(set(pids[1000:])) == 1 and pids[-1] != os.getpid()  # the other half in one other process
    assert len(made) == 1


@pytest.mark.parametrize("how", ["raises", "killed"])
def test_a_failing_child_leaves_its_half_to_this_process(how: str) -> None:
    parent = os.getpid()

    def make(part: Iterable[int]) -> Iterator[tuple[int, int]]:
        for v, pid in _lines(part):
            if pid != parent:  # the child
                if how == "killed":
                    os.kill(pid, signal.SIGKILL)
                raise RuntimeError("a bug in the child")
            yield v, pid

    got = list(lines_in_two(make, list(range(100)), least=10, head=10) or [])

    assert got == [(i * i, parent) for i in range(100)]


def test_small_inputs_and_no_one_pass_stay_in_this_process() -> None:
    got = list(lines_in_two(_lines, [1, 2, 3]) or [])
    assert got == [(1, os.getpid()), (4, os.getpid()), (9, os.getpid())]
    assert lines_in_two(lambda part: None, list(range(5000))) is None


@pytest.mark.skipif(not os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children"), reason="Linux /proc only")
def test_a_caller_that_stops_early_leaves_no_child_behind() -> None:
    def children() -> set[str]:
        with open(f"/proc/{os.getpid()}/task/{os.getpid()}/children") as f:
            return set(f.read().split())

    before = children()
    lines = lines_in_two(_lines, list(range(100)), least=10, head=10)
    assert lines is not None
    for _ in range(20):  # past the fork
        next(lines)
    forked = children() - before
    assert len(forked) == 1
    lines.close()  # the caller leaves (an error, a closed pipe...)
    assert not children() & forked  # stopped and reaped: no zombie, no orphan
