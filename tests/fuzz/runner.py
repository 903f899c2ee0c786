"""Run fuzz cases through the plugin as users run it, each in its own process with limits, and
classify what happened.

Two ways to start a run, both a fresh process per case with stdout and stderr in files (not a
terminal: no colour, no width), stdin from a file or /dev/null, an address-space limit and a CPU
limit:

- ``fork`` (default): a parent that has imported every module of the plugin forks a child per
  case, which calls ``kubectl_svcpath.cli.main(argv)`` (the console script's entry point) and
  exits with its code. All imports happen before the first fork, so a checkout that changes
  during a campaign cannot mix two versions of the code in one run.
  This saves the interpreter start-up (~0.4 s a case) and nothing else: each case still runs in
  a process of its own, with exactly the code a user's command runs.
- ``exec``: the child execs the installed ``kubectl-svcpath`` console script.

Classes (the first that applies):

- ``hang``: over 10 CPU-seconds for an input under 10 MB (60 over it), or no CPU progress for
  STALL_LIMIT seconds once past WALL_LIMIT (blocked, not busy: a run starved by a loaded machine
  still gains CPU time, and the CPU limit decides it), or over WALL_CAP of wall time;
- ``memory``: over the address-space limit (MemoryError, or killed at it);
- ``crash``: exit code 1 (internal error), a traceback, or death by a signal;
- ``injection``: on stderr, and on stdout for the terminal formats (table, wide, tree), a control
  character other than newline and tab (C0, DEL, C1) or a bidi control (U+061C, U+200E/F,
  U+202A-E, U+2066-9);
- ``invalid-output``: ``-o json``/``-o yaml`` output that does not parse (NaN/Infinity are not JSON;
  YAML over 8 MB is checked for its syntax only, loading it would take minutes);
- ``unclear-error``: a documented error exit whose stderr is not one ``error:`` line (plus at most
  a ``hint:`` line);
- ``clean-error``: a documented error exit (2, 4-9) with one ``error:`` line;
- ``ok``: exit 0 or 3 with a report.
"""

from __future__ import annotations

import collections
import io
import json
import os
import re
import resource
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from collections.abc import Callable, Iterable

from tests.fuzz.cases import TERMINAL_FORMATS, Case

CLASSES = ("ok", "clean-error", "unclear-error", "crash", "hang", "memory", "injection", "invalid-output")
BAD = ("unclear-error", "crash", "hang", "memory", "injection", "invalid-output")
BIG_INPUT = 10 * 1024 * 1024
CPU_LIMIT = 10  # seconds, inputs under BIG_INPUT
CPU_LIMIT_BIG = 60
WALL_LIMIT = 120.0  # past this, a run must keep gaining CPU time: the CPU limit is what measures a hang
STALL_LIMIT = 60.0  # seconds without CPU progress, past WALL_LIMIT: blocked
WALL_CAP = 1800.0  # the last backstop, whatever the load
MEM_LIMIT = 1536 * 1024 * 1024  # bytes of address space
BIG_OUTPUT = 8 * 1024 * 1024  # json/yaml outputs over this are parsed in a child process (see _parses)
ERROR_CODES = {2, 4, 5, 6, 7, 8, 9, 130}
BIDI = {0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069}


@dataclass
class Result:
    index: int
    form: str
    mutation: str
    output: str
    size: int
    cls: str
    code: int | None
    cpu: float
    wall: float
    max_rss_mb: float
    detail: str = ""


# searched in C: a run can print tens of MB, and the parent classifies while the next runs wait
_BAD_CHAR = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + "".join(chr(c) for c in sorted(BIDI)) + "]")


def bad_char(text: str) -> str | None:
    """The first character that must not reach a terminal, as U+XXXX, or None."""
    m = _BAD_CHAR.search(text)
    return f"U+{ord(m.group(0)):04X}" if m else None


def _parses(output: str, text: str) -> str | None:
    """None when the json/yaml output parses; else why not.

    A big document is parsed in a child process: parsed here, its millions of objects would leave
    this process's heap at GBs once freed (a 200 MB -o json output: 2.8 GB), and every run forked
    after it would inherit that heap, where the address-space limit no longer bites."""
    if len(text) < BIG_OUTPUT:
        return _parse_here(output, text)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        why = _parse_here(output, text) or ""
        os.write(write, why.encode()[:4096])
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        why = f.read().decode()
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return f"the parser process ended with {os.waitstatus_to_exitcode(status)}"
    return why or None


def _parse_here(output: str, text: str) -> str | None:
    try:
        if output == "json":
            def no_constant(name: str) -> None:
                raise ValueError(f"{name} is not JSON")

            json.loads(text, parse_constant=no_constant)
        else:
            import yaml

            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            if len(text) < BIG_OUTPUT:
                yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
            else:  # the syntax only: loading 128 MB of YAML takes minutes and GBs, its events ~10 s
                collections.deque(yaml.parse(text, Loader=loader), maxlen=0)
    except Exception as e:  # noqa: BLE001
        return f"{type(e).__name__}: {str(e)[:120]}"
    return None


def classify(case: Case, code: int | None, sig: int | None, out: bytes, err: bytes, cpu: float, wall: float,
             killed_for_time: bool, max_rss: int) -> tuple[str, str]:
    """(class, detail) of one finished run."""
    errt = err.decode("utf-8", "replace")
    outt = out.decode("utf-8", "replace")
    cpu_limit = CPU_LIMIT_BIG if case.size >= BIG_INPUT else CPU_LIMIT
    if killed_for_time or sig == signal.SIGXCPU or cpu > cpu_limit:
        return "hang", f"cpu {cpu:.1f}s wall {wall:.1f}s"
    if "MemoryError" in errt or (sig == signal.SIGKILL and max_rss * 1024 >= MEM_LIMIT * 0.9):
        return "memory", f"max rss {max_rss / 1024:.0f} MB"
    if sig is not None:
        return "crash", f"killed by signal {signal.Signals(sig).name}"
    if "Traceback (most recent call last)" in errt:
        return "crash", errt.strip().splitlines()[-1][:200]
    if code == 1 or code not in ERROR_CODES | {0, 3}:
        return "crash", f"exit {code}: {errt.strip()[:200]}"
    where = bad_char(errt)
    if where:
        return "injection", f"stderr has {where}"
    if case.output in TERMINAL_FORMATS:
        where = bad_char(outt)
        if where:
            return "injection", f"stdout ({case.output}) has {where}"
    if code in (0, 3):
        if case.output in ("json", "yaml"):
            why = _parses(case.output, outt)
            if why:
                return "invalid-output", why
        return "ok", ""
    lines = errt.rstrip("\n").split("\n")
    if not lines[0].startswith("error: ") or len(lines) > 2 or (len(lines) == 2 and not lines[1].startswith("hint: ")):
        return "unclear-error", f"exit {code}: {errt[:200]!r}"
    return "clean-error", lines[0][:200]


# --- running -------------------------------------------------------------------------------------

def _child(case: Case, directory: Path, mode: str, exe: list[str]) -> None:
    """In the forked child: limits, redirections, then the plugin. Never returns."""
    code = 1
    try:
        size = case.size
        cpu = CPU_LIMIT_BIG if size >= BIG_INPUT else CPU_LIMIT
        resource.setrlimit(resource.RLIMIT_CPU, (cpu + 1, cpu + 2))
        resource.setrlimit(resource.RLIMIT_AS, (MEM_LIMIT, MEM_LIMIT))
        stdin = os.open(directory / "stdin" if case.stdin is not None else os.devnull, os.O_RDONLY)
        out = os.open(directory / "stdout", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        err = os.open(directory / "stderr", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        for fd, target in ((stdin, 0), (out, 1), (err, 2)):
            os.dup2(fd, target)
            os.close(fd)
        argv = case.argv(directory)
        if mode == "exec":
            os.execv(exe[0], [*exe, *argv])
        # what the interpreter sets up for a console script whose streams are files
        sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8")
        sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)), encoding="utf-8")
        sys.stderr = io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False)), encoding="utf-8",
                                      errors="backslashreplace", line_buffering=True)
        sys.argv = ["kubectl-svcpath", *argv]
        from kubectl_svcpath.cli import main

        try:
            main(argv)
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - as the interpreter's exit would
                code = 120
    except BaseException:  # noqa: BLE001 - anything escaping main() is a traceback a user would see
        import traceback

        try:
            traceback.print_exc()
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001
            pass
        code = 1
    os._exit(code)


def console_script() -> list[str]:
    exe = Path(sys.executable).parent / "kubectl-svcpath"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "kubectl_svcpath"]


def run_cases(cases: Iterable[Case], jobs: int = 2, mode: str = "fork", workdir: Path | None = None,
              keep: Path | None = None, progress: Callable[[Result], None] | None = None) -> list[Result]:
    """Run every case, at most ``jobs`` at a time; the failures' inputs are copied under ``keep``."""
    if mode == "fork":  # import the whole plugin once, before forking: every child runs this one snapshot
        import importlib
        import pkgutil

        import kubectl_svcpath

        for info in pkgutil.walk_packages(kubectl_svcpath.__path__, "kubectl_svcpath."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)
    exe = console_script()
    base = Path(tempfile.mkdtemp(prefix="svcpath-fuzz-", dir=workdir))
    results: list[Result] = []
    running: dict[int, tuple[Case, Path, float]] = {}
    progress_at: dict[int, tuple[int, float]] = {}  # pid -> (CPU ticks, when they last grew)
    todo = iter(cases)
    exhausted = False
    try:
        while running or not exhausted:
            while not exhausted and len(running) < jobs:
                case = next(todo, None)
                if case is None:
                    exhausted = True
                    break
                d = base / str(case.index)
                d.mkdir()
                for name, data in case.files.items():
                    (d / name).write_bytes(data)
                if case.stdin is not None:
                    (d / "stdin").write_bytes(case.stdin)
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    _child(case, d, mode, exe)
                running[pid] = (case, d, time.monotonic())
            if not running:
                continue
            pid, status, usage = os.wait4(-1, os.WNOHANG)
            if pid == 0:
                now = time.monotonic()
                for p, (case, d, start) in list(running.items()):
                    if now - start > WALL_LIMIT and (now - start > WALL_CAP or _stalled(p, now, progress_at)):
                        os.kill(p, signal.SIGKILL)
                        _, status, usage = os.wait4(p, 0)
                        results.append(_finish(case, d, status, usage, now - start, True, keep))
                        del running[p]
                        progress_at.pop(p, None)
                        if progress:
                            progress(results[-1])
                time.sleep(0.005)
                continue
            case, d, start = running.pop(pid)
            progress_at.pop(pid, None)
            results.append(_finish(case, d, status, usage, time.monotonic() - start, False, keep))
            if progress:
                progress(results[-1])
    finally:
        for p in running:
            try:
                os.kill(p, signal.SIGKILL)
                os.waitpid(p, 0)
            except OSError:
                pass
        shutil.rmtree(base, ignore_errors=True)
    return sorted(results, key=lambda r: r.index)


def _stalled(pid: int, now: float, progress_at: dict[int, tuple[int, float]]) -> bool:
    """True once the child has gained no CPU time for STALL_LIMIT seconds (it waits, it does not work)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return False  # gone or unreadable: wait4 will tell
    last = progress_at.get(pid)
    if last is None or ticks > last[0]:
        progress_at[pid] = (ticks, now)
        return False
    return now - last[1] > STALL_LIMIT


def _finish(case: Case, d: Path, status: int, usage: resource.struct_rusage, wall: float, killed: bool,
            keep: Path | None) -> Result:
    code = os.waitstatus_to_exitcode(status)
    sig = -code if code < 0 else None
    out = (d / "stdout").read_bytes() if (d / "stdout").exists() else b""
    err = (d / "stderr").read_bytes() if (d / "stderr").exists() else b""
    cpu = usage.ru_utime + usage.ru_stime
    cls, detail = classify(case, None if sig else code, sig, out, err, cpu, wall, killed, usage.ru_maxrss)
    if cls in BAD and keep is not None:
        dest = keep / f"case-{case.index}"
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(d, dest)
        argv = ["kubectl-svcpath", *case.argv(Path("."))]
        (dest / "command.txt").write_text(
            json.dumps(argv) + ("  < stdin" if case.stdin is not None else "") + f"\n{cls}: {detail}\n")
    shutil.rmtree(d, ignore_errors=True)
    return Result(case.index, case.form, case.mutation, case.output, case.size, cls, None if sig else code,
                  round(cpu, 3), round(wall, 3), round(usage.ru_maxrss / 1024, 1), detail)


def summary(results: list[Result]) -> dict:
    by_class = {c: sum(1 for r in results if r.cls == c) for c in CLASSES}
    forms = sorted({r.form for r in results})
    by_form = {f: {c: n for c in CLASSES if (n := sum(1 for r in results if r.form == f and r.cls == c))} for f in forms}
    return {"cases": len(results), "classes": by_class, "forms": by_form,
            "bad": [asdict(r) for r in results if r.cls in BAD],
            "max_cpu": max((r.cpu for r in results), default=0.0),
            "max_rss_mb": max((r.max_rss_mb for r in results), default=0.0)}
