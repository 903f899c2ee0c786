"""Fixtures for the --trace lab tests (shared with the other lab folders)."""

from tests.lab.fixtures import lab, lab_ready  # noqa: F401
