"""How the harness reaches peers: TLS trust, client certificates, the proxy policy, gateway headers, hard deadlines.

One proxy policy for all traffic (deliveries, OAuth token requests, HTTP probes): no proxy, and nothing taken from
the environment (``HTTP(S)_PROXY``, ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``, ``.netrc``), unless ``trust_env`` is set;
``proxy`` names one explicitly. Every request made through :func:`fetch` ends by its deadline, whatever the peer
drips, and reads at most ``max_body`` bytes of the (decoded) body.
"""

from __future__ import annotations

import logging
import os
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from harness.credentials import looks_secret, url_secrets
from harness.errors import UsageError

__all__ = ["FetchError", "Fetched", "NetworkOptions", "bounded_session", "fetch", "parse_header"]

_RETRY_POLL = 0.05  # after the deadline, how often the watchdog retries to cut a connection still being opened
# urllib3 logs a traceback for a malformed or cut-off response head; we report it as a reply instead
logging.getLogger("urllib3.connection").setLevel(logging.CRITICAL)


def parse_header(text: str) -> tuple[str, str]:
    """``'Name: value'`` as a pair; a malformed header is a usage error."""
    name, sep, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not name or any(c in name for c in " \t\r\n") or any(c in value for c in "\r\n"):
        raise UsageError(f"Invalid --header {text.split(':')[0][:40]!r}: write 'Name: value' on one line.")
    return name, value


@dataclass(frozen=True, slots=True)
class NetworkOptions:
    """TLS, proxy and extra-header settings shared by every transport, the token client and the HTTP probe."""

    ca_bundle: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    insecure: bool = False
    proxy: str | None = None
    trust_env: bool = False
    headers: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        if self.insecure and self.ca_bundle:
            raise UsageError("Give --ca-bundle or --insecure, not both.")
        if self.client_key and not self.client_cert:
            raise UsageError("--client-key needs --client-cert.")
        for option, path in (
            ("--ca-bundle", self.ca_bundle),
            ("--client-cert", self.client_cert),
            ("--client-key", self.client_key),
        ):
            if path and not os.path.isfile(path):
                raise UsageError(f"{option} {path}: no such file.")
        if self.proxy:
            try:
                parts = urlsplit(self.proxy)
                parts.port  # noqa: B018 - a bad port raises here
            except ValueError:
                raise UsageError("Invalid --proxy: write http://host:port.") from None
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise UsageError("Invalid --proxy: write http://host:port (or https://).")

    @property
    def verify(self) -> bool | str:
        """``requests``' verify argument."""
        return False if self.insecure else (self.ca_bundle or True)

    @property
    def cert(self) -> str | tuple[str, str] | None:
        """``requests``' cert argument."""
        if not self.client_cert:
            return None
        return (self.client_cert, self.client_key) if self.client_key else self.client_cert

    @property
    def proxies(self) -> dict[str, str]:
        """``requests``' proxies argument: the explicit proxy, or none."""
        return {"http": self.proxy, "https": self.proxy} if self.proxy else {}

    def secrets(self) -> list[str]:
        """Values that must never be printed: secret-looking gateway headers, the proxy's password."""
        return [value for name, value in self.headers if looks_secret(name)] + url_secrets(self.proxy)

    def with_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """The gateway headers, then ``headers`` (which win: the signed delivery is sent as built)."""
        given = {name.lower() for name in headers}
        return {**{n: v for n, v in self.headers if n.lower() not in given}, **headers}

    def ssl_context(self) -> ssl.SSLContext:
        """An SSL context with these settings (aiohttp, the TLS preflight)."""
        cafile = self.ca_bundle
        if cafile is None and self.trust_env:
            cafile = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE") or None
        context = ssl.create_default_context(cafile=cafile)
        if self.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.client_cert:
            try:
                context.load_cert_chain(self.client_cert, self.client_key)
            except (ssl.SSLError, OSError) as exc:
                raise UsageError(f"--client-cert/--client-key cannot be loaded ({exc.__class__.__name__}).") from None
        return context

    def session(self) -> requests.Session:
        """A ``requests`` session whose requests :func:`fetch` can cut off at their deadline."""
        return bounded_session(trust_env=self.trust_env)


# -- the deadline -------------------------------------------------------------------------------------------------
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


class _Pool(HTTPConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)
        watch: _Watch | None = getattr(_CURRENT, "watch", None)
        if watch is not None:
            watch.conn = conn
        return conn


class _TLSPool(HTTPSConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)
        watch: _Watch | None = getattr(_CURRENT, "watch", None)
        if watch is not None:
            watch.conn = conn
        return conn


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


def bounded_session(*, trust_env: bool = False) -> requests.Session:
    """A session for :func:`fetch`; it reads nothing from the environment unless ``trust_env``."""
    session = requests.Session()
    session.trust_env = trust_env
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


def tls_reason(exc: BaseException) -> str:
    """A TLS failure in words, with the option that fixes it."""
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        detail = "hostname mismatch" if "Hostname mismatch" in text or "match" in text else "not trusted"
        return f"TLS certificate {detail}: give --ca-bundle PATH with the CA that signed it (or --insecure)"
    if "WRONG_VERSION_NUMBER" in text or "record layer failure" in text or "packet length too long" in text:
        return "the port does not speak TLS: use http:// for a plain-HTTP receiver"
    if "CERTIFICATE_REQUIRED" in text or "certificate required" in text or "HANDSHAKE_FAILURE" in text:
        return "TLS handshake refused, the receiver may want a client certificate: give --client-cert/--client-key"
    return "TLS handshake failed: check --ca-bundle, --client-cert/--client-key or the URL's scheme"


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
