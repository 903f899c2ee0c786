"""Fixtures for the lab_modes lab tests (shared with the other lab folders)."""

from tests.lab.fixtures import lab, lab_ready  # noqa: F401
