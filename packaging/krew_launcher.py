#!/usr/bin/env python3
"""kubectl-svcpath, as installed by krew: runs on the user's python3 (3.10 or newer).

When ``python3`` is older (RHEL 9, Amazon Linux 2023, Debian 11: 3.9; Ubuntu 20.04: 3.8) it
re-runs itself with the newest ``python3.X`` on PATH that this archive has modules for
(``dnf install python3.12`` puts one there without touching ``python3``). This file must stay
valid Python 3.6 for that: no walrus, no ``X | Y`` at run time.

krew links $KREW_ROOT/bin/kubectl-svcpath to this file in the unpacked archive, next to lib/:
lib/common holds kubectl-svcpath and its pure-Python dependencies, lib/cp3XY the compiled ones
for CPython 3.XY on this platform. They go first on sys.path, so packages installed elsewhere
(user site, PYTHONPATH) cannot shadow them.

Called as kubectl_complete-svcpath (a symlink the user adds, see the caveats) or with the hidden
first argument __complete, it answers kubectl's completion protocol instead.
"""

import os
import sys

EXIT_ENVIRONMENT = 7  # the plugin's "cannot run/collect here" exit code (kubectl_svcpath.errors.ExitCode.COLLECT_FAILED)


def _fail(message, hint):
    sys.stderr.write(f"error: {message}\nhint: {hint}\n")
    sys.exit(EXIT_ENVIRONMENT)


def _reexec(found: list) -> None:
    """Run this file again with the newest python3.X on PATH that lib/ has modules for, once."""
    if os.environ.get("KUBECTL_SVCPATH_REEXEC"):
        return
    import shutil

    for tag in sorted(found, key=lambda t: int(t[3:]), reverse=True):
        python = shutil.which("python3.%s" % tag[3:])
        if python:
            os.environ["KUBECTL_SVCPATH_REEXEC"] = "1"
            os.execv(python, [python, sys.argv[0], *sys.argv[1:]])


def _paths() -> list:
    here = os.path.dirname(os.path.realpath(__file__))
    lib = os.path.join(here, "lib")
    found = sorted(d for d in os.listdir(lib) if d.startswith("cp3")) if os.path.isdir(lib) else []
    supported = ", ".join(f"3.{d[3:]}" for d in found) or "none"
    this = "%d.%d" % sys.version_info[:2]
    if sys.version_info < (3, 10) or "cp%d%d" % sys.version_info[:2] not in found:
        _reexec(found)
    if sys.version_info < (3, 10):
        _fail(f"kubectl-svcpath needs python3 3.10 or newer; {sys.executable} is {this}",
              f"install python3.10 or newer (macOS: brew install python; RHEL 9/Amazon Linux 2023: dnf install python3.12); "
              f"this archive supports {supported}")
    tag = "cp%d%d" % sys.version_info[:2]
    import sysconfig

    if sys.implementation.name != "cpython" or sysconfig.get_config_var("Py_GIL_DISABLED"):
        _fail(f"kubectl-svcpath needs CPython with the GIL (the usual python3); {sys.executable} is "
              f"{sys.implementation.name} {this}{' free-threaded' if sysconfig.get_config_var('Py_GIL_DISABLED') else ''}",
              f"run it with a standard CPython {supported}, or install it with pipx instead")
    if tag not in found:
        _fail(f"this kubectl-svcpath archive carries compiled modules for Python {supported}, not for {this} ({sys.executable})",
              "put one of those first on PATH as python3, or install with: pipx install kubectl-svcpath")
    return [os.path.join(lib, tag), os.path.join(lib, "common")]


def run():
    sys.path[0:1] = _paths()  # replaces the script's own folder ($KREW_ROOT/bin or the archive's)
    name = os.path.basename(sys.argv[0])
    if name.startswith("kubectl_complete-") or sys.argv[1:2] == ["__complete"]:
        from kubectl_svcpath.completion import main as complete

        words = sys.argv[1:]
        if words[:1] == ["__complete"]:
            words = words[1:]
        sys.exit(complete(words))
    try:
        from kubectl_svcpath.cli import main
    except ImportError as e:  # e.g. a compiled module that does not load on this libc
        _fail(f"the bundled modules do not load with {sys.executable}: {e}",
              "install with pipx instead (pipx install kubectl-svcpath), or see docs/install.md for the platforms")
    sys.exit(main())


if __name__ == "__main__":
    run()
