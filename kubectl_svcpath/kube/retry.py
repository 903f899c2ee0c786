"""A request the API server asks to send again (429 or 5xx with ``Retry-After``: API Priority and Fairness
shedding load, an API server starting or shutting down) is sent again after the wait, as client-go (so
kubectl) does: up to MAX_TRIES tries, never waiting past --request-timeout. One loop for the GET/LIST reads
and the exec upgrade: a refused upgrade started no command, so sending it again runs nothing twice (an
exec whose upgrade was accepted is never sent again)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from kubectl_svcpath.errors import SvcpathError
from kubectl_svcpath.kube.client import Call, Kube, translate

T = TypeVar("T")
MAX_TRIES = 10  # client-go's maxRetries: how often a request told to wait (Retry-After) is sent at most


def send(kube: Kube, call: Call, attempt: Callable[[float], T], failed: Callable[[BaseException, float], None]) -> T:
    """``attempt(started)`` until it answers; each failure goes to ``failed(error, started)`` first (to log it;
    it may raise), then is tried again after its Retry-After, or raised as the plugin's error, saying how
    often it was tried and why no more."""
    first = time.monotonic()
    for tries in itertools.count(1):
        started = time.monotonic()
        try:
            return attempt(started)
        except SvcpathError:
            raise
        except Exception as e:  # noqa: BLE001 - every client/urllib3/websocket error is translated in one place
            failed(e, started)
            wait = retry_after(e)
            past = wait is not None and kube.timeout is not None and time.monotonic() - first + wait >= kube.timeout
            # (as client-go waits; a run that is ending - another node failed, Ctrl-C - stops waiting)
            if wait is not None and tries < MAX_TRIES and not past and not kube.closing.wait(wait):
                continue
            err = translate(e, call, server=kube.server, timeout=kube.timeout, kube=kube)
            if wait is not None:  # why no (further) try
                counted = f"{tries} tries in {time.monotonic() - first:.0f}s; " if tries > 1 else ""
                err.message += (f" ({counted}its Retry-After of {wait}s would pass --request-timeout {kube.timeout:g}s)"
                                if past and kube.timeout is not None else f" ({counted}each answered so)")
            raise err from None
    raise AssertionError("unreachable")


def retry_after(exc: BaseException) -> int | None:
    """The seconds a 429 or 5xx answer's ``Retry-After`` asks to wait before sending the request again, as
    client-go's ``checkWait`` reads it: whole seconds only; None when the answer does not ask for a retry."""
    status, headers = _answer(exc)
    if not isinstance(status, int) or not (status == 429 or status >= 500):
        return None
    value = None
    if headers is not None and hasattr(headers, "items"):  # (websocket-client lower-cases the names)
        value = next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None)
    try:
        seconds = int(str(value).strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _answer(exc: BaseException) -> tuple[Any, Any]:
    """(status, headers) of the answer behind ``exc``: the client's ApiException carries them; a refused exec
    upgrade is an ApiException of status 0 made from websocket-client's, which holds the answer."""
    status, headers = getattr(exc, "status", None), getattr(exc, "headers", None)
    cause = exc.__cause__
    if status == 0 and cause is not None and hasattr(cause, "status_code"):
        status, headers = cause.status_code, getattr(cause, "resp_headers", None)
    return status, headers
