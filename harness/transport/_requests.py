"""The network transport: ``requests`` with a hard deadline, a response size cap, and no redirects."""

from __future__ import annotations

import threading
import time
from urllib.parse import quote, urlsplit, urlunsplit

import requests

from harness.core.models import Delivery, Reply

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
    """Sends over HTTP(S). A hanging, flooding or redirecting receiver gets a ``Reply``, never a hang or a crash."""

    def __init__(self, *, max_body: int = MAX_BODY, verify: bool = True) -> None:
        self.max_body = max_body
        self.verify = verify
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # no proxies from the environment: we talk to the URL we were given
            self._local.session = session
        return session

    def send(self, delivery: Delivery, url: str, *, timeout: float) -> Reply:
        """POST (or PUT) the exact body bytes and headers; read at most ``max_body`` bytes within ``timeout``."""
        started = time.perf_counter()
        deadline = started + timeout
        try:
            response = self._session().request(
                delivery.method,
                with_userinfo(url, delivery.url_userinfo),
                data=delivery.body,
                headers=dict(delivery.headers),
                timeout=(min(timeout, 10.0), timeout),
                allow_redirects=False,
                stream=True,
                verify=self.verify,
            )
        except requests.Timeout:
            return Reply(0, elapsed=time.perf_counter() - started, error=f"timed out after {timeout:g}s")
        except requests.ConnectionError as exc:
            return Reply(0, elapsed=time.perf_counter() - started, error=_connection_reason(exc))
        except requests.RequestException as exc:
            return Reply(0, elapsed=time.perf_counter() - started, error=f"request failed: {type(exc).__name__}")
        chunks: list[bytes] = []
        size, truncated, error = 0, False, None
        expired = threading.Event()

        def abort() -> None:  # a receiver that drips bytes never trips the per-read timeout: cut it off
            expired.set()
            _shutdown(response)

        watchdog = threading.Timer(max(0.0, deadline - time.perf_counter()), abort)
        watchdog.daemon = True
        watchdog.start()
        try:
            for chunk in response.iter_content(8192):
                chunks.append(chunk)
                size += len(chunk)
                if size > self.max_body:
                    truncated = True
                    break
                if time.perf_counter() > deadline:
                    error = f"timed out after {timeout:g}s while reading the response"
                    break
        except Exception as exc:
            error = f"response cut off ({type(exc).__name__})"
        finally:
            watchdog.cancel()
            response.close()
        if expired.is_set():
            error = f"timed out after {timeout:g}s while reading the response"
        elapsed = time.perf_counter() - started
        body = b"".join(chunks)[: self.max_body]
        headers = dict(response.headers.items())
        if error and "timed out" in error:
            return Reply(0, headers, body, elapsed, error, truncated)
        return Reply(response.status_code, headers, body, elapsed, error, truncated)

    def close(self) -> None:
        """Close this thread's session."""
        session = getattr(self._local, "session", None)
        if session is not None:
            session.close()


def _shutdown(response: requests.Response) -> None:
    """Shut the response's socket from another thread, which unblocks a read in progress."""
    import socket

    try:
        sock = response.raw._fp.fp.raw._sock  # type: ignore[union-attr]
        sock.shutdown(socket.SHUT_RDWR)
    except Exception:
        response.close()


def _connection_reason(exc: requests.ConnectionError) -> str:
    text = str(exc)
    if "Read timed out" in text or "timed out" in text:
        return "timed out"
    if "refused" in text.lower():
        return "connection refused"
    if "reset" in text.lower() or "aborted" in text.lower() or "RemoteDisconnected" in text:
        return "connection reset by the receiver"
    if "Name or service not known" in text or "getaddrinfo" in text or "resolve" in text.lower():
        return "host name does not resolve"
    return "connection failed"
