"""Fixtures for the lab tests in this folder and below (tests/lab/modes, trace, local)."""

from tests.lab.fixtures import lab, lab_ready  # noqa: F401
