"""Run the plugin in a real terminal (tmux) of a given width and read the screen back as users see it."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from tests.lab.netns import skip_or_fail

END = "__svcpath_done__"


def in_tmux(args: list[str], columns: int, env: dict[str, str] | None = None, timeout: float = 60) -> list[str]:
    """The lines the command printed in a tmux pane ``columns`` wide (trailing blanks dropped)."""
    if shutil.which("tmux") is None:
        skip_or_fail("tmux is not installed (make system-deps)")
    exe = Path(sys.executable).parent / "kubectl-svcpath"
    session = f"svcpath-test-{uuid.uuid4().hex[:8]}"
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
    cmd = f"env -u NO_COLOR {exports} {shlex.quote(str(exe))} {' '.join(shlex.quote(a) for a in args)}; echo {END}; sleep 600"
    base = ["tmux", "-L", session]  # a server of its own: never touches the user's tmux
    subprocess.run([*base, "new-session", "-d", "-s", session, "-x", str(columns), "-y", "400", cmd],
                   check=True, timeout=30, env={**os.environ, "TERM": "xterm-256color"})
    try:
        deadline = time.monotonic() + timeout
        while True:
            # -J: a line the terminal wrapped comes back whole, as the command printed it, so a check that
            # no line is wider than the pane can fail (without it every row read is at most the pane's width)
            screen = subprocess.run([*base, "capture-pane", "-p", "-J", "-t", session, "-S", "-", "-E", "-"],
                                    capture_output=True, text=True, timeout=30).stdout
            if END in screen:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"the command did not finish within {timeout}s:\n{screen}")
            time.sleep(0.1)
    finally:
        subprocess.run([*base, "kill-server"], capture_output=True, timeout=30)
    lines = screen.split("\n")
    lines = lines[: next(i for i, ln in enumerate(lines) if END in ln)]
    while lines and not lines[-1].strip():
        lines.pop()
    return [ln.rstrip() for ln in lines]
