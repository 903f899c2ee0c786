"""Fixtures for the --local lab tests: a fresh netns lab per test, stale ones swept once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.lab.netns import Lab, skip_or_fail, sweep_stale, unavailable_reason


@pytest.fixture(scope="session")
def lab_ready() -> None:
    reason = unavailable_reason()
    if reason:
        skip_or_fail(reason)
    sweep_stale()  # namespaces left by killed test runs (only those of dead processes)


@pytest.fixture
def lab(lab_ready: None) -> Iterator[Lab]:
    lab = Lab()
    try:
        yield lab
    finally:
        lab.cleanup()  # also when the test failed
