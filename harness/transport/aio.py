"""The volume transport: aiohttp with bounded concurrency, for the simulator's real HTTP attempts."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Coroutine, Sequence
from typing import Any

import aiohttp
import yarl

from harness.core.models import Delivery, Reply
from harness.net.options import NetworkOptions, tls_reason
from harness.transport._requests import MAX_BODY, with_userinfo

__all__ = ["AioTransport"]


class AioTransport:
    """Sends many deliveries concurrently on a private event loop; misbehaviour becomes a ``Reply``, never a raise."""

    def __init__(
        self, *, concurrency: int = 64, max_body: int = MAX_BODY, network: NetworkOptions | None = None
    ) -> None:
        self.concurrency = concurrency
        self.max_body = max_body
        self.network = network or NetworkOptions()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="webhook-harness-aio", daemon=True)
        self._thread.start()
        self._session: aiohttp.ClientSession | None = None
        self._gate: asyncio.Semaphore | None = None
        self._urls: dict[tuple[str, tuple[str, str] | None], yarl.URL] = {}
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    def _run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    async def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            tls = self.network.ssl_context() if self.network != NetworkOptions() else True
            connector = aiohttp.TCPConnector(limit=self.concurrency, force_close=False, ssl=tls)
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=False, trust_env=self.network.trust_env
            )
        return self._session

    def _target(self, url: str, userinfo: tuple[str, str] | None) -> yarl.URL:
        """The parsed URL (with ``user:pass@``), cached: aiohttp would parse the string on every request."""
        key = (url, userinfo)
        found = self._urls.get(key)
        if found is None:
            if len(self._urls) > 256:
                self._urls.clear()
            found = self._urls[key] = yarl.URL(with_userinfo(url, userinfo))
        return found

    def _timeout(self, seconds: float) -> aiohttp.ClientTimeout:
        found = self._timeouts.get(seconds)
        if found is None:
            found = self._timeouts[seconds] = aiohttp.ClientTimeout(total=seconds)
        return found

    async def _one(self, session: aiohttp.ClientSession, delivery: Delivery, url: str, timeout: float) -> Reply:
        started = time.perf_counter()
        network = self.network
        headers = network.with_headers(delivery.headers) if network.headers else delivery.headers
        try:
            # aiohttp's total timeout covers connecting, sending and reading the whole answer
            async with session.request(
                delivery.method,
                self._target(url, delivery.url_userinfo),
                data=delivery.body,
                headers=headers,
                allow_redirects=False,
                proxy=network.proxy,
                timeout=self._timeout(timeout),
            ) as response:
                content = response.content
                chunks: list[bytes] = []
                size = 0
                while size <= self.max_body:
                    chunk = await content.readany()
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
                body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
                return Reply(
                    response.status,
                    dict(response.headers),
                    body[: self.max_body] if size > self.max_body else body,
                    time.perf_counter() - started,
                    None,
                    size > self.max_body,
                )
        except TimeoutError:
            return Reply(0, elapsed=time.perf_counter() - started, error=f"timed out after {timeout:g}s")
        except (aiohttp.ClientSSLError, aiohttp.ServerFingerprintMismatch) as exc:
            return Reply(0, elapsed=time.perf_counter() - started, error=tls_reason(exc))
        except aiohttp.ClientConnectorError:
            return Reply(0, elapsed=time.perf_counter() - started, error="connection refused")
        except (aiohttp.ClientError, OSError) as exc:
            return Reply(0, elapsed=time.perf_counter() - started, error=f"connection failed ({type(exc).__name__})")

    async def _bounded(self, delivery: Delivery, url: str, timeout: float) -> Reply:
        session = self._session or await self._ensure_session()
        gate = self._gate
        if gate is None:
            gate = self._gate = asyncio.Semaphore(self.concurrency)
        async with gate:
            return await self._one(session, delivery, url, timeout)

    async def _many(self, items: Sequence[tuple[Delivery, str]], timeout: float) -> list[Reply]:
        return list(await asyncio.gather(*(self._bounded(d, u, timeout) for d, u in items)))

    async def request(self, delivery: Delivery, url: str, *, timeout: float) -> Reply:
        """One delivery, awaited on this transport's own loop (from a coroutine given to ``run_on_loop``)."""
        return await self._bounded(delivery, url, timeout)

    def run_on_loop(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run a coroutine on the transport's event loop and wait for its result."""
        return self._run(coro)

    def submit(self, delivery: Delivery, url: str, *, timeout: float) -> concurrent.futures.Future[Reply]:
        """Start one delivery now (at most ``concurrency`` in flight); the future never raises for the receiver."""
        return asyncio.run_coroutine_threadsafe(self._bounded(delivery, url, timeout), self._loop)

    def send_many(self, items: Sequence[tuple[Delivery, str]], timeout: float) -> list[Reply]:
        """Send all, at most ``concurrency`` at a time; replies in the same order."""
        return list(self._run(self._many(items, timeout)))

    def send(self, delivery: Delivery, url: str, *, timeout: float) -> Reply:
        """One delivery (the ``Transport`` protocol)."""
        return self.send_many([(delivery, url)], timeout)[0]

    def close(self) -> None:
        """Close the session and stop the loop."""
        if self._session is not None:
            self._run(self._session.close())
            self._session = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def __enter__(self) -> AioTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
