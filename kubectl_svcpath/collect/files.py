"""Offline input: rule dumps and manifests from files (or stdin as "-", named stdin), with a size cap."""

from __future__ import annotations

import io
import mmap
import os
import stat
import sys
from typing import IO, TYPE_CHECKING

from kubectl_svcpath.dump import RuleDump
from kubectl_svcpath.errors import BadDump, NotFound

if TYPE_CHECKING:
    from importlib.abc import Traversable

MAX_DUMP_BYTES = 512 * 1024 * 1024  # far above a 10,000-Service dump (~100 MB); protects memory

EXAMPLE = "hello-service"
EXAMPLE_RULES = ("iptables-save-on-node-host.txt", "nft-list-table-ip-nat.json")
EXAMPLE_MANIFEST = "manifest.yaml"


STDIN = "stdin"  # how '-' (the file read from standard input) is named where users read it: messages, evidence, sources


def named(path: str) -> str:
    """The name a file goes by in messages and evidence: stdin for '-' ("error: -: not a rule dump" read as a typo)."""
    return STDIN if path == "-" else path


def read_text(path: str, what: str = "rule dump") -> str:
    """The file's text; errors name the file and say what to do."""
    try:
        if path == "-":
            text = _read_capped(sys.stdin.buffer, STDIN, what)
        else:
            size = os.path.getsize(path)
            if size > MAX_DUMP_BYTES:
                raise BadDump(path, f"{what} is {size // (1024 * 1024)} MiB, over the {MAX_DUMP_BYTES // (1024 * 1024)} MiB limit",
                              hint="cut it to the tables you need (iptables-save -c -t nat; -t filter)")
            text = _decoded(path, what)
    except FileNotFoundError:
        raise NotFound(f'{what} "{path}" not found', hint="check the path") from None  # (quoted as 'service "web"')
    except IsADirectoryError:
        raise BadDump(path, "is a directory, not a file") from None
    except PermissionError:
        raise BadDump(path, "permission denied") from None
    if "\x00" in text[: 1 << 20]:
        if what == "manifest":
            raise BadDump(named(path), "binary data, not a text manifest",
                          hint="pass kubectl get service,endpointslices -o yaml (or -o json) output")
        raise BadDump(named(path), "binary data, not a text rule dump",
                      hint="pass the text output of iptables-save, nft -j list table …, or ipvsadm -Ln")
    return text


def _decoded(path: str, what: str = "rule dump") -> str:
    """The file as text: bytes that are not UTF-8 stay visible as \\xNN, never raw; a comment's \\r stays.
    A regular file is decoded straight from its pages (mmap: no bytes copy of a 35 MB dump, half the time)."""
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        if stat.S_ISREG(st.st_mode) and st.st_size > 0:
            try:
                pages = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError):  # a filesystem that cannot map files (some FUSE, 9p): read it
                pass
            else:
                with pages:
                    return str(pages, _encoding(pages[:2]), "backslashreplace")
        # a pipe, /dev/stdin, <(kubectl exec …), a device: it has no size to check first
        return _read_capped(f, path, what)


def _read_capped(f: IO[bytes], path: str, what: str) -> str:
    """A stream decoded in chunks as it is read, up to the limit (/dev/zero would fill the memory); binary
    data stops the reading at its first chunk (read_text then says it is binary)."""
    head = f.peek(2)[:2] if isinstance(f, io.BufferedReader) else b""
    reader = io.TextIOWrapper(f, encoding=_encoding(head), errors="backslashreplace", newline="")
    try:
        chunks: list[str] = []
        size = 0
        while chunk := reader.read(_CHUNK):
            if not chunks and "\x00" in chunk:
                return chunk
            size += len(chunk)
            if size > MAX_DUMP_BYTES:
                raise BadDump(path, f"{what} is over the {MAX_DUMP_BYTES // (1024 * 1024)} MiB limit",
                              hint="cut it to the tables you need (iptables-save -c -t nat; -t filter)")
            chunks.append(chunk)
        return "".join(chunks)
    finally:
        reader.detach()  # (the wrapper would close the stream it was given when it goes: stdin's stays open)


_CHUNK = 1 << 20  # characters read at a time from a file without a size


def _encoding(head: bytes) -> str:
    """UTF-8, or UTF-16 for a text that opens with UTF-16's byte-order mark: what Windows PowerShell 5.1's ``>``
    writes (kubectl exec … -- iptables-save -c > rules.txt, kubectl get svc -o yaml > svc.yaml)."""
    return "utf-16" if head in (b"\xff\xfe", b"\xfe\xff") else "utf-8"


def read_dump(path: str) -> RuleDump:
    return RuleDump(text=read_text(path), source=named(path), kind="file")


def _example_dir() -> Traversable:
    from importlib import resources  # (only for the bundled example: ~3 ms of every start-up otherwise)

    return resources.files("kubectl_svcpath") / "examples" / EXAMPLE


def example_dumps() -> list[RuleDump]:
    base = _example_dir()
    return [RuleDump(text=base.joinpath(name).read_text(encoding="utf-8"), source=f"example/{EXAMPLE}/{name}", kind="example")
            for name in EXAMPLE_RULES]


def example_manifest() -> tuple[str, str]:
    base = _example_dir()
    return base.joinpath(EXAMPLE_MANIFEST).read_text(encoding="utf-8"), f"example/{EXAMPLE}/{EXAMPLE_MANIFEST}"
