"""``ReferenceReceiver``: the reference receiver on a loopback port, served from a background thread."""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import fields, replace
from pathlib import Path
from types import TracebackType

from aiohttp import web

from harness.catalog import Catalog, Provider, load_catalog
from harness.credentials import Credentials
from harness.errors import ConfigError, UsageError
from harness.receiver._app import ReceiverApp
from harness.receiver._bugs import BUGS, MODES, Behaviour
from harness.receiver._handshake import harness_callback
from harness.receiver._keys import OAUTH_SCHEME, generate_credentials, load_public_key, public_key_b64
from harness.receiver._oauth import TokenIssuer, token_path
from harness.receiver._state import ObjectStates
from harness.receiver._store import EventStore
from harness.signing import CertificateServer, verifiers

__all__ = ["ReferenceReceiver"]

log = logging.getLogger("harness.receiver")

_CORRECT = Behaviour()
_START_TIMEOUT = 15.0
_STOP_TIMEOUT = 10.0
IDLE_TIMEOUT = 15.0  # an open connection that sends nothing is closed after this long
_OUT_OF_FDS = (errno.EMFILE, errno.ENFILE)


class ReferenceReceiver:
    """A correct (or deliberately buggy) receiver for one provider; use as a context manager."""

    def __init__(
        self,
        provider: str | Provider,
        *,
        credentials: Credentials | None = None,
        db_url: str | None = None,
        bug: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        catalog: Catalog | None = None,
        delay: float | None = None,
        clock: Callable[[], float] = time.time,
        confirm_allowed: Callable[[str], bool] = harness_callback,
        mode: str = "strict",
        queue_delay: float | None = None,
        ssl_context: ssl.SSLContext | None = None,
        idle_timeout: float = IDLE_TIMEOUT,
        public_url: str | None = None,
    ) -> None:
        if mode not in MODES:
            raise UsageError(f"Unknown receiver mode {mode!r}. Known: {', '.join(MODES)}.")
        if public_url is not None and not public_url.startswith(("http://", "https://")):
            raise UsageError(f"The public URL (--public-url) must start with http:// or https://, got {public_url!r}.")
        self.mode = mode
        self._queue_delay = queue_delay  # queue-first: seconds between the 2xx and the store (default 0.5)
        if isinstance(provider, str):
            provider = (catalog or load_catalog()).get(provider)
        self.provider: Provider = provider
        if bug is not None and bug not in BUGS:
            raise UsageError(f"Unknown bug {bug!r}. Known: {', '.join(BUGS)}.")
        self.bug: str | None = bug
        self.host, self._port = host, port
        if delay is None and bug == "slow-handshake" and provider.handshake and provider.handshake.timeout:
            delay = provider.handshake.timeout + 1.0  # late for the handshake's own deadline
        self.delay = provider.timeout + 1.0 if delay is None else delay
        self._given_credentials = credentials
        self._certificates: CertificateServer | None = None  # SNS's certificate server for self.credentials
        self._given_db = db_url
        self._clock = clock
        self._confirm_allowed = confirm_allowed
        self._ssl_context = ssl_context  # serve HTTPS (tests of --ca-bundle, --client-cert)
        self.idle_timeout = idle_timeout
        self.public_url = public_url  # a scheme that signs the URL checks this one, not the one the request names
        self._fd_warned = False
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._tmp: Path | None = None
        self._store: EventStore | None = None
        self._socket: socket.socket | None = None
        self._app_obj: web.Application | None = None
        self._handlers: ReceiverApp | None = None
        self.port = 0
        self.credentials = Credentials()
        self.db_url = ""
        self.public_key: str | None = None

    # -- attributes -------------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """``http://host:port``, or ``https://`` when serving TLS."""
        return f"{'https' if self._ssl_context else 'http'}://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The webhook endpoint."""
        return f"{self.base_url}/webhooks/{self.provider.id}"

    @property
    def probe_url(self) -> str:
        """``GET`` template answering ``{"count": n}`` for ``{event_id}``."""
        return f"{self.base_url}/probe/{{event_id}}"

    @property
    def state_url(self) -> str:
        """``GET`` template answering the receiver's view of ``{object_id}`` (404: unknown or deleted)."""
        return f"{self.base_url}/state/{{object_id}}"

    @property
    def token_url(self) -> str | None:
        """The ORDS-style token endpoint, when OAuth is configured."""
        return f"{self.base_url}{token_path()}" if self.credentials.has_oauth else None

    @property
    def probe_sql(self) -> str:
        """SQL counting the stored rows for ``:event_id`` in :attr:`db_url`."""
        assert self._store is not None, "start the receiver first"
        return self._store.probe_sql

    @property
    def behaviour(self) -> Behaviour:
        """The switches of the chosen mode, with the chosen bug's on top."""
        base = MODES[self.mode]
        if self._queue_delay is not None and base.queue_delay > 0:
            base = replace(base, queue_delay=self._queue_delay)
        if not self.bug:
            return base
        changed = {
            f.name: getattr(base, f.name)
            for f in fields(Behaviour)
            if getattr(base, f.name) != getattr(_CORRECT, f.name)
        }
        return replace(BUGS[self.bug].behaviour, **changed)

    def count(self, event_id: str) -> int:
        """How many rows carry this idempotency key (direct, without HTTP)."""
        assert self._store is not None, "start the receiver first"
        return self._store.count(event_id)

    # -- lifecycle --------------------------------------------------------------------------------------------
    def __enter__(self) -> ReferenceReceiver:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> ReferenceReceiver:
        """Bind the port, prepare storage and serve in a background thread; returns once it accepts requests."""
        if self._thread is not None:
            raise RuntimeError("receiver already started")
        self._tmp = Path(tempfile.mkdtemp(prefix=f"webhook-harness-{self.provider.id}-"))
        try:
            self.db_url = self._given_db or f"sqlite:///{self._tmp / 'events.db'}"
            behaviour = self.behaviour
            unique = behaviour.dedupe in ("unique", "reject", "crash")
            self._store = EventStore(self.db_url, unique=unique)
            self._store.create()
            self._socket = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                self._socket.bind((self.host, self._port))
            except OSError as exc:
                raise ConfigError(f"Cannot listen on {self.host}:{self._port}: {exc.strerror or exc}.") from None
            self._socket.listen(128)
            self._socket.setblocking(False)
            self.port = self._socket.getsockname()[1]
            self._handlers = self._app()
            self._app_obj = self._handlers.build()
            self._thread = threading.Thread(target=self._serve, name=f"receiver-{self.provider.id}", daemon=True)
            self._thread.start()
            if not self._ready.wait(_START_TIMEOUT):
                raise ConfigError("The reference receiver did not start in time.")
            if self._error is not None:
                raise self._error
        except BaseException:
            self.stop()
            raise
        return self

    def _app(self) -> ReceiverApp:
        token_url = f"{self.base_url}{token_path()}"
        given = self._given_credentials
        creds = given if given is not None else generate_credentials(self.provider, self._tmp or Path("."), token_url)
        if creds.client_id and OAUTH_SCHEME in self.provider.auth.schemes:
            creds = replace(creds, token_url=token_url)  # tokens come from this receiver's own endpoint
        if creds.certificates is None:  # what signs with these credentials serves SNS's certificate: stopped with us
            self._certificates = CertificateServer()
            creds = replace(creds, certificates=self._certificates)
        self.credentials = creds
        if creds.signing_key and "sendgrid-ecdsa" in self.provider.auth.schemes:
            self.public_key = public_key_b64(load_public_key(creds.signing_key))
        issuer = None
        if creds.client_id and creds.client_secret and OAUTH_SCHEME in self.provider.auth.schemes:
            issuer = TokenIssuer(creds.client_id, creds.client_secret, self._clock)
        schemes = verifiers(
            self.provider,
            creds,
            issuer.valid if issuer else lambda token: False,
            legacy=self.behaviour.legacy_signature,
            lax=self.behaviour.lax,
        )
        assert self._store is not None
        return ReceiverApp(
            provider=self.provider,
            schemes=schemes,
            store=self._store,
            behaviour=self.behaviour,
            clock=self._clock,
            delay=self.delay,
            issuer=issuer,
            confirm_allowed=self._confirm_allowed,
            public_url=self.public_url,
            states=ObjectStates(self.provider, self.behaviour.ordering),
        )

    def settle(self) -> None:
        """Ready a process that serves only this receiver (the ``receiver`` command) for a long run of deliveries.

        Every event type's schema is compiled now rather than on its first delivery, as in a receiver that has run a
        while; then what start-up allocated (the catalog, the schemas) is frozen out of the cyclic garbage collector,
        whose full collections no longer walk every object of the catalog (a pause of tens of milliseconds in the
        middle of a load run). Call it before announcing the URL: compiling competes with the serving thread for the
        interpreter. Process-wide, so never called for a receiver sharing its process (tests, ``demo``)."""
        if self._handlers is not None and self._handlers.behaviour.schema and self._handlers.schemas is not None:
            self._handlers.schemas.compile_all()
        gc.collect()
        gc.freeze()

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        loop.set_exception_handler(self.on_loop_error)
        try:
            loop.run_until_complete(self._startup())
        except BaseException as exc:
            self._error = (
                exc
                if isinstance(exc, ConfigError | UsageError)
                else ConfigError(f"The reference receiver could not start on {self.host}:{self._port}: {exc}")
            )
            self._ready.set()
            self._close(loop)
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._close(loop)

    def _close(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.run_until_complete(self._cleanup())
        pending = asyncio.all_tasks(loop)  # handlers still sleeping (the slow bug): cancel, then let them finish
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    def on_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
        """Out of file descriptors: one warning, not a traceback per refused accept (asyncio retries by itself)."""
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in _OUT_OF_FDS:
            if not self._fd_warned:
                self._fd_warned = True
                log.warning(
                    "out of file descriptors (%s): new connections wait until some close; warning only once",
                    exc.strerror or exc,
                )
            return
        loop.default_exception_handler(context)

    async def _startup(self) -> None:
        assert self._socket is not None and self._app_obj is not None and self._store is not None
        await self._store.open()  # the driver's connections and the group-commit writer, in this loop
        runner = web.AppRunner(
            self._app_obj,
            handle_signals=False,
            access_log=None,
            shutdown_timeout=1.0,
            keepalive_timeout=self.idle_timeout,  # also closes a connection that never sends a request
        )
        await runner.setup()
        self._runner = runner
        await web.SockSite(runner, self._socket, ssl_context=self._ssl_context).start()

    async def _cleanup(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._store is not None:
            await self._store.close()

    def stop(self) -> None:
        """Stop serving, drop the table and delete temporary files; bounded and idempotent."""
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(_STOP_TIMEOUT)
        self._thread = self._loop = None
        if self._store is not None:
            try:
                self._store.drop()
            except Exception as exc:  # best effort: the database may already be gone
                log.debug("dropping the table failed: %s", exc)
            self._store = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._app_obj = self._handlers = None
        if self._certificates is not None:
            self._certificates.close()
            self._certificates = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
