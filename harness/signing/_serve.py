"""A loopback HTTP server on a background thread: what the SNS certificate server and the OIDC issuer both run."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness.errors import UsageError

__all__ = ["LoopbackServer", "Route"]

POLL = 0.05  # seconds between the serving thread's looks for a shutdown: close() waits up to this long

# A GET's path (with its query) to the answer's status, body and extra headers.
Route = Callable[[str], tuple[int, bytes, Mapping[str, str]]]


class LoopbackServer:
    """Answers GETs with ``route`` from a background thread; ``close()`` stops it and joins every request thread.

    The socket is bound when it is made (a port in use is one ``UsageError`` line); it serves from ``start()``.
    """

    def __init__(
        self,
        route: Route,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "loopback-server",
        what: str = "a loopback server",
        timeout: float = 2.0,
    ) -> None:
        """Bind ``host:port`` (0: any free port); ``name`` names the thread, ``what`` the server in an error."""

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body, headers = route(self.path)
                self.send_response(status)
                for header, value in headers.items():
                    self.send_header(header, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        Handler.timeout = timeout  # a peer that connects and says nothing holds a thread (and close) this long
        try:
            self._server = ThreadingHTTPServer((host, port), Handler)
        except (OSError, OverflowError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise UsageError(f"Cannot serve {what} on {host}:{port}: {reason}.") from None
        self._server.daemon_threads = False  # close() joins the request threads: none outlives the server
        self._server.block_on_close = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(POLL,), name=name, daemon=True)

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Serve from the background thread."""
        self._thread.start()

    def close(self) -> None:
        """Stop serving, close the socket and wait for the threads (a server never started is only closed)."""
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
        if self._thread.ident is not None:
            self._thread.join(timeout=5)
