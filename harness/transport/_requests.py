"""The network transport: ``requests`` with a hard overall deadline, a response size cap, and no redirects."""

from __future__ import annotations

import threading
import time
from urllib.parse import quote, urlsplit, urlunsplit

import requests

from harness.core.models import Delivery, Reply
from harness.net.fetch import FetchError, bounded_session, fetch
from harness.net.options import NetworkOptions

__all__ = ["RequestsTransport", "with_userinfo"]

MAX_BODY = 1 << 20


def with_userinfo(url: str, userinfo: tuple[str, str] | None) -> str:
    """The URL with ``user:pass@`` (OCI Notifications' HTTP Basic)."""
    if not userinfo:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{quote(userinfo[0], safe='')}:{quote(userinfo[1], safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


class RequestsTransport:
    """Sends over HTTP(S). A hanging, dripping, flooding or redirecting receiver gets a ``Reply``, never a hang."""

    def __init__(self, *, max_body: int = MAX_BODY, verify: bool = True, network: NetworkOptions | None = None) -> None:
        self.max_body = max_body
        self.network = network or NetworkOptions(insecure=not verify)
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = bounded_session(self.network)
            self._local.session = session
        return session

    def send(self, delivery: Delivery, url: str, *, timeout: float) -> Reply:
        """POST (or PUT) the exact body bytes and headers; all within ``timeout``, at most ``max_body`` read."""
        started = time.perf_counter()
        try:
            got = fetch(
                self._session(),
                delivery.method,
                with_userinfo(url, delivery.url_userinfo),
                timeout=timeout,
                max_body=self.max_body,
                network=self.network,
                data=delivery.body,
                headers=self.network.with_headers(dict(delivery.headers)),
            )
        except FetchError as exc:
            return Reply(0, elapsed=time.perf_counter() - started, error=exc.reason)
        if got.timed_out:
            return Reply(0, got.headers, got.body, got.elapsed, got.error, got.truncated)
        return Reply(got.status, got.headers, got.body, got.elapsed, got.error, got.truncated)

    def close(self) -> None:
        """Close this thread's session."""
        session = getattr(self._local, "session", None)
        if session is not None:
            session.close()
