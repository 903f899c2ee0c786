"""Findings: the generic checks on a correlated path and the cross-node drift checks."""
