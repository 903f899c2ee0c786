"""What the client does when the kubeconfig's credential plugin (``user.exec``: aws eks get-token, gke-gcloud-auth-plugin,
kubelogin) fails: it logs the failure on the root logger and sends the requests without credentials.

So an expired SSO session was a stray ``ERROR:root:exec: process returned 1. error: SSO session expired …`` line
(the plugin's stderr, control characters and all, straight to the terminal) and then "the API server rejected the
credentials". Here those log records are kept instead of printed, and said as the reason, as kubectl says
"getting credentials: exec: …" (``failed_login``, and ``reason`` for a 401 after a token refresh failed).
"""

from __future__ import annotations

import logging
import shlex
from typing import Any

from kubectl_svcpath.errors import Forbidden


class _Kept(logging.Handler):
    """The root logger's ERROR records (the client's credential failures), kept, never printed."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []
        self.start = 0  # the records of this run (those of the kubeconfig's loading are said, or raised, there)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(record.getMessage())
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is no reason to fail
            self.messages.append(str(record.msg))


_KEPT = _Kept()


def keep_client_errors() -> None:
    """Route the root logger's records here from now on (once per process): before the kubeconfig is loaded."""
    root = logging.getLogger()
    if _KEPT not in root.handlers:
        root.addHandler(_KEPT)  # (with a handler, logging's lastResort no longer prints them)
    _KEPT.start = len(_KEPT.messages)


def failed_login(user: dict[str, Any] | None, user_name: str | None) -> Forbidden | None:
    """The error for credentials that could not be had while the kubeconfig was loaded, if any."""
    from kubectl_svcpath.kube.client import one_line

    new, _KEPT.start = _KEPT.messages[_KEPT.start:], len(_KEPT.messages)
    if not new:
        return None
    plugin = user.get("exec") if isinstance(user, dict) else None
    who = f' of user "{user_name}"' if user_name else ""
    if not isinstance(plugin, dict) or not plugin.get("command"):
        return Forbidden(f"getting credentials{who}: {one_line(new[-1])}",
                         hint="log in again; check the user with: kubectl config view --minify")
    argv = [str(plugin["command"]), *(str(a) for a in plugin.get("args") or [] if isinstance(a, (str, int)))]
    if new[-1].startswith("[Errno 2]"):  # (the client's words when the command is not there: ENOENT)
        install = plugin.get("installHint")
        return Forbidden(f"getting credentials: the kubeconfig's exec plugin{who}, {one_line(argv[0], 80)}, is not "
                         "installed (not found in $PATH)",
                         hint=one_line(install) if isinstance(install, str) and one_line(install) else
                         f"install {one_line(argv[0], 80)} or put it on $PATH (kubectl needs it too)")
    return Forbidden(f"getting credentials: the kubeconfig's exec plugin{who} failed: {one_line(new[-1])}",
                     hint=f"log in again, then check with: {one_line(shlex.join(argv), 160)}")


def reason() -> str | None:
    """The last credential failure the client logged during the run (a token refresh that failed), if any."""
    from kubectl_svcpath.kube.client import one_line

    return one_line(_KEPT.messages[-1]) if len(_KEPT.messages) > _KEPT.start else None
