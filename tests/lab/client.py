"""Send N HTTP GETs (or bare TCP connects) to IP:PORT and print one JSON list of outcomes.

Run inside a node namespace by ``tests.lab.netns.Lab.connect``; stdlib only. Each outcome is the
response body (e.g. ``"web-0 10.244.1.5:8080"``), ``"connected"`` for ``--raw``, or one of
``"refused"``, ``"timeout"``, ``"unreachable"``, ``"error: ..."``. Every attempt is a new TCP
connection, so each one is one new conntrack entry and moves the nat counters by one.
"""

from __future__ import annotations

import argparse
import errno
import json
import socket
import sys


def attempt(ip: str, port: int, timeout: float, raw: bool) -> str:
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect((ip, port))
            if raw:
                return "connected"
            host = f"[{ip}]" if ":" in ip else ip
            s.sendall(f"GET / HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(4096):
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1."):
            return "error: not HTTP"
        return body.decode(errors="replace").strip()
    except ConnectionRefusedError:
        return "refused"
    except TimeoutError:
        return "timeout"
    except OSError as e:
        if e.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "unreachable"
        return f"error: {e}"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("ip")
    ap.add_argument("port", type=int)
    ap.add_argument("-n", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=3.0)
    ap.add_argument("--raw", action="store_true", help="connect and close, send nothing")
    args = ap.parse_args(argv)
    print(json.dumps([attempt(args.ip, args.port, args.timeout, args.raw) for _ in range(args.n)]))


if __name__ == "__main__":
    sys.exit(main())
