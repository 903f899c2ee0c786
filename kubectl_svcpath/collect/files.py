"""Offline input: rule dumps and manifests from files (or stdin as "-"), with a size cap."""

from __future__ import annotations

import os
import sys
from importlib import resources

from kubectl_svcpath.dump import RuleDump
from kubectl_svcpath.errors import BadDump, NotFound

MAX_DUMP_BYTES = 512 * 1024 * 1024  # far above a 10,000-Service dump (~100 MB); protects memory

EXAMPLE = "hello-service"
EXAMPLE_RULES = ("iptables-save-on-node-host.txt", "nft-list-table-ip-nat.json")
EXAMPLE_MANIFEST = "manifest.yaml"


def read_text(path: str, what: str = "rule dump") -> str:
    """The file's text; errors name the file and say what to do."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_DUMP_BYTES + 1)
            if len(data) > MAX_DUMP_BYTES:
                raise BadDump(path, f"{what} is over the {MAX_DUMP_BYTES // (1024 * 1024)} MiB limit")
            text = data.decode("utf-8", errors="backslashreplace")
        else:
            size = os.path.getsize(path)
            if size > MAX_DUMP_BYTES:
                raise BadDump(path, f"{what} is {size // (1024 * 1024)} MiB, over the {MAX_DUMP_BYTES // (1024 * 1024)} MiB limit",
                              hint="cut it to the tables you need (iptables-save -c -t nat; -t filter)")
            # decoded in chunks (no second copy of a 100 MB dump in memory); newline="" keeps a
            # comment's \r as it is; bytes that are not UTF-8 stay visible as \xNN, never raw
            with open(path, encoding="utf-8", errors="backslashreplace", newline="") as f:
                text = f.read()
    except FileNotFoundError:
        raise NotFound(f"{what} {path!r} not found", hint="check the path") from None
    except IsADirectoryError:
        raise BadDump(path, "is a directory, not a file") from None
    except PermissionError:
        raise BadDump(path, "permission denied") from None
    if "\x00" in text[: 1 << 20]:
        raise BadDump(path, "binary data, not a text rule dump",
                      hint="pass the text output of iptables-save, nft -j list table …, or ipvsadm -Ln")
    return text


def read_dump(path: str) -> RuleDump:
    return RuleDump(text=read_text(path), source=path, kind="file")


def example_dumps() -> list[RuleDump]:
    base = resources.files("kubectl_svcpath") / "examples" / EXAMPLE
    return [RuleDump(text=base.joinpath(name).read_text(encoding="utf-8"), source=f"example/{EXAMPLE}/{name}", kind="example")
            for name in EXAMPLE_RULES]


def example_manifest() -> tuple[str, str]:
    base = resources.files("kubectl_svcpath") / "examples" / EXAMPLE
    return base.joinpath(EXAMPLE_MANIFEST).read_text(encoding="utf-8"), f"example/{EXAMPLE}/{EXAMPLE_MANIFEST}"
