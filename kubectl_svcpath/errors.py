"""Exit codes and the error types that map onto them, in one place.

Every failure the user can cause or meet ends as one ``error: ...`` line on stderr
(plus an optional hint line) and one of these exit codes. The table is documented in
README.md and checked against this enum by a test.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # report printed, no error-severity finding
    INTERNAL = 1  # a bug: unexpected exception
    USAGE = 2  # bad flags or arguments
    PROBLEMS_FOUND = 3  # report printed, at least one error-severity finding
    NOT_FOUND = 4  # Service, namespace, node or kube-proxy pod missing
    FORBIDDEN = 5  # RBAC: 401/403 from the API, or exec denied
    API_UNREACHABLE = 6  # connection refused, timeout, TLS failure, bad kubeconfig
    COLLECT_FAILED = 7  # exec/local read failed: binary missing, non-zero exit, no permission, kube-proxy not running
    BAD_DUMP = 8  # garbage, truncated, binary, too large or unknown rule dump
    UNSUPPORTED = 9  # proxy mode or backend this version cannot analyse
    INTERRUPTED = 130  # Ctrl-C


class SvcpathError(Exception):
    """An error with a message for the user, an optional hint and its exit code."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, hint: str | None = None, *, subject: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        # what the error is about, for code that reacts to it (never parsed from the message): the resource of
        # the named object a request was refused or not found on ("services", "pods/exec", …), or "services"
        # for a Service the offline input does not hold
        self.subject = subject


class UsageError(SvcpathError):
    exit_code = ExitCode.USAGE


class NotFound(SvcpathError):
    exit_code = ExitCode.NOT_FOUND


class Forbidden(SvcpathError):
    exit_code = ExitCode.FORBIDDEN


class Unauthorized(Forbidden):
    """401: the API server rejected the credentials themselves (not a missing RBAC grant)."""


class ApiUnreachable(SvcpathError):
    exit_code = ExitCode.API_UNREACHABLE


class CollectFailed(SvcpathError):
    exit_code = ExitCode.COLLECT_FAILED
    missing_binary = False  # the container runtime could not start the command: its binary is not in the image


class BadDump(SvcpathError):
    """A rule dump that cannot be read; names the file and, when known, the line."""

    exit_code = ExitCode.BAD_DUMP

    def __init__(self, source: str, reason: str, line_no: int | None = None, hint: str | None = None) -> None:
        where = f"{source} line {line_no}" if line_no else source
        super().__init__(f"{where}: {reason}", hint)
        self.source = source
        self.reason = reason
        self.line_no = line_no


class Unsupported(SvcpathError):
    exit_code = ExitCode.UNSUPPORTED
