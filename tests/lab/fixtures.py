"""pytest fixtures for netns lab tests: a fresh lab per test, stale namespaces swept once per session.

Test folders use them with ``from tests.lab.fixtures import lab, lab_ready  # noqa: F401`` in their conftest.
"""

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
