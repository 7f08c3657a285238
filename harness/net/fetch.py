"""One bounded exchange with a peer: an overall deadline (connect, headers, body) and a cap on the bytes read.

A peer that drips its status line one byte a second never trips a per-read timeout; here one watchdog thread shuts
the request's socket at its deadline, which unblocks any read in progress.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from harness.net.options import NetworkOptions, tls_reason

__all__ = ["FetchError", "Fetched", "bounded_session", "fetch", "fetch_answer"]

_RETRY_POLL = 0.05  # after the deadline, how often the watchdog retries to cut a connection still being opened
# urllib3 logs a traceback for a malformed or cut-off response head; we report it as a reply instead
logging.getLogger("urllib3.connection").setLevel(logging.CRITICAL)


# -- the deadline --------------------------------------------------------------------------------------------------
class _Watch:
    """One request in flight: its deadline and the connection it uses."""

    __slots__ = ("conn", "deadline", "fired")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.conn: Any = None
        self.fired = False


class _Watchdog:
    """One thread for all requests: at a request's deadline it shuts the request's socket, unblocking any read."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._watches: set[_Watch] = set()
        self._thread: threading.Thread | None = None

    def watch(self, deadline: float) -> _Watch:
        entry = _Watch(deadline)
        with self._cond:
            self._watches.add(entry)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="webhook-harness-deadlines", daemon=True)
                self._thread.start()
            self._cond.notify()
        return entry

    def release(self, entry: _Watch) -> None:
        with self._cond:
            self._watches.discard(entry)

    def _loop(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for entry in self._watches:
                    if now >= entry.deadline:
                        entry.fired = True
                        _abort(entry.conn)
                        entry.deadline = now + _RETRY_POLL  # a connection still opening has no socket yet: retry
                wait = min((e.deadline for e in self._watches), default=now + 60.0) - now
                self._cond.wait(max(0.0, wait))


def _abort(conn: Any) -> None:
    sock = getattr(conn, "sock", None)
    if sock is None:
        return
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain method: an SSLSocket's would unwrap first
    except OSError:
        pass


_WATCHDOG = _Watchdog()
_CURRENT = threading.local()


class _Watched:
    """A pool mixin: hand each connection taken for a request to that request's watchdog entry."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        watch: _Watch | None = getattr(_CURRENT, "watch", None)
        if watch is not None:
            watch.conn = conn
        return conn


class _Pool(_Watched, HTTPConnectionPool):
    """Plain HTTP connections the watchdog can cut."""


class _TLSPool(_Watched, HTTPSConnectionPool):
    """TLS connections the watchdog can cut."""


_POOLS = {"http": _Pool, "https": _TLSPool}


class _BoundedAdapter(HTTPAdapter):
    """Connection pools that tell the watchdog which connection a request uses."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager


def bounded_session(network: NetworkOptions | None = None) -> requests.Session:
    """A session for :func:`fetch`; it reads nothing from the environment unless ``network.trust_env``."""
    network = network or NetworkOptions()
    if network.insecure:  # asked for explicitly: no warning on every request
        import urllib3

        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    session = requests.Session()
    session.trust_env = network.trust_env
    adapter = _BoundedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


# -- one bounded exchange -----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Fetched:
    """A response read within the deadline: at most ``max_body`` bytes, ``error`` set if it was cut off."""

    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float
    truncated: bool = False
    error: str | None = None
    timed_out: bool = False


class FetchError(Exception):
    """No response at all: ``reason`` is one line; ``kind`` is timeout, tls, connection or other."""

    def __init__(self, reason: str, kind: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


def fetch(
    session: requests.Session,
    method: str,
    url: str,
    *,
    timeout: float,
    max_body: int,
    network: NetworkOptions | None = None,
    **kwargs: Any,
) -> Fetched:
    """One request that ends within ``timeout`` seconds overall (connect, headers, body) and reads ``max_body``."""
    network = network or NetworkOptions()
    started = time.monotonic()
    watch = _WATCHDOG.watch(started + timeout)
    _CURRENT.watch = watch
    try:
        try:
            response = session.request(
                method,
                url,
                timeout=(min(timeout, 10.0), timeout),
                allow_redirects=False,
                stream=True,
                verify=network.verify,
                cert=network.cert,
                proxies=network.proxies,
                **kwargs,
            )
        except requests.exceptions.SSLError as exc:
            raise FetchError(tls_reason(exc), "tls") from None
        except requests.exceptions.ProxyError:
            raise FetchError("the proxy refused or failed the connection", "connection") from None
        except requests.Timeout:
            raise FetchError(f"timed out after {timeout:g}s", "timeout") from None
        except requests.ConnectionError as exc:
            if watch.fired:
                raise FetchError(f"timed out after {timeout:g}s", "timeout") from None
            raise FetchError(_connection_reason(exc), "connection") from None
        except requests.RequestException as exc:
            raise FetchError(f"request failed: {type(exc).__name__}", "other") from None
        chunks: list[bytes] = []
        size, truncated, error = 0, False, None
        try:
            for chunk in response.iter_content(8192):
                chunks.append(chunk)
                size += len(chunk)
                if size > max_body:
                    truncated = True
                    break
                if time.monotonic() - started > timeout:
                    break
        except Exception as exc:
            error = f"response cut off ({type(exc).__name__})"
        finally:
            response.close()
        timed_out = watch.fired or time.monotonic() - started > timeout
        if timed_out and not truncated:
            error = f"timed out after {timeout:g}s while reading the response"
        return Fetched(
            response.status_code,
            dict(response.headers.items()),
            b"".join(chunks)[:max_body],
            time.monotonic() - started,
            truncated,
            error,
            timed_out and not truncated,
        )
    finally:
        _CURRENT.watch = None
        _WATCHDOG.release(watch)


def fetch_answer(
    error: Callable[[str], Exception],
    where: str,
    session: requests.Session,
    method: str,
    url: str,
    *,
    timeout: float,
    max_body: int,
    network: NetworkOptions,
    **kwargs: Any,
) -> Fetched:
    """``fetch`` with the gateway headers; no answer in time, or none at all, raises ``error`` about ``where``."""
    try:
        got = fetch(
            session,
            method,
            url,
            timeout=timeout,
            max_body=max_body,
            network=network,
            headers=dict(network.headers),
            **kwargs,
        )
    except FetchError as exc:
        if exc.kind == "timeout":
            raise error(f"The {where} did not answer within {timeout:g}s.") from None
        raise error(f"The {where} cannot be reached ({exc.reason}).") from None
    if got.timed_out:
        raise error(f"The {where} did not answer within {timeout:g}s.")
    return got


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
