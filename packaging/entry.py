"""Entry point of the frozen (PyInstaller) kubectl-svcpath.

One binary serves two names, because krew links only ``bin`` into ``$KREW_ROOT/bin`` and its
archives may not contain symlinks: called as ``kubectl_complete-svcpath`` (a symlink the user adds,
see docs/install.md) it answers kubectl's completion protocol; called with the hidden first
argument ``__complete`` it does the same (no Service can be named that: Service names are DNS
labels); otherwise it is the plugin.
"""

from __future__ import annotations

import os
import sys


def run() -> None:
    name = os.path.basename(sys.argv[0])
    if name.startswith("kubectl_complete-") or sys.argv[1:2] == ["__complete"]:
        from kubectl_svcpath.completion import main as complete

        words = sys.argv[1:]
        if words[:1] == ["__complete"]:
            words = words[1:]
        sys.exit(complete(words))
    from kubectl_svcpath.cli import main

    sys.exit(main())


if __name__ == "__main__":
    run()
