"""A finding: what is wrong (or unknown), in plain words, with its evidence and what to do."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Literal


class Severity(str, Enum):
    """How bad a finding is. A str, so ``Severity.ERROR == "error"`` and JSON shows the plain word."""

    ERROR = "error"  # traffic goes wrong or nowhere: exit code 3
    WARNING = "warning"  # works, or may, but not as configured; or the listing misleads
    INFO = "info"  # nothing known to be wrong: what the answer could not check

    def __str__(self) -> str:
        return self.value


SEVERITY_ORDER: dict[str, int] = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(slots=True)
class Finding:
    code: str  # stable, kebab-case, listed in findings/registry.py (and README's table)
    severity: Severity | Literal["error", "warning", "info"]  # normalised to a Severity
    message: str  # one line, plain words
    port: str | None = None  # the service port it concerns, if any
    evidence: list[str] = field(default_factory=list)
    action: str | None = None  # what to do
    detail: list[str] = field(default_factory=list)  # longer explanation, for text output
    why: str | None = None  # one line of why for the short text view (default: the first detail line)
    # the endpoint chains (KUBE-SEP-…) a "chain-not-in-input" finding says the input lacks: the port's verdict
    # reads this, never the message's words (not in the JSON: the message names them)
    endpoint_chains_unseen: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.severity = Severity(self.severity)
