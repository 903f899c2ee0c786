"""A tiny HTTP server for lab pods: one process, any number of TCP ports.

Run inside a pod namespace by ``tests.lab.netns.Lab.add_pod``:

    python httpserver.py --name POD --ip 10.244.1.5 --port 8080 --port 9090

Every GET answers ``200`` with the body ``POD IP:PORT\\n`` so a test can tell which pod and which
port a connection reached. Prints ``ready`` on stdout once every port listens. Stdlib only: it runs
with the same interpreter as the tests but imports nothing from them.
"""

from __future__ import annotations

import argparse
import http.server
import socketserver
import sys
import threading


def _handler(body: bytes) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:  # keep the test output quiet
            pass

    return Handler


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls getfqdn(), a DNS lookup that hangs in a namespace without DNS
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--ip", required=True)
    ap.add_argument("--port", type=int, action="append", required=True)
    args = ap.parse_args(argv)
    servers = []
    for port in args.port:
        body = f"{args.name} {args.ip}:{port}\n".encode()
        srv = Server((args.ip, port), _handler(body))
        servers.append(srv)
    for srv in servers:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    print("ready", flush=True)
    # stay until the lab terminates us (SIGTERM ends the process; the threads are daemons)
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
