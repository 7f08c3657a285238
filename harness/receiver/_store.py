"""Stored events in SQLite or PostgreSQL, one row per idempotency key (unless a bug says otherwise).

SQLAlchemy owns the table (create, drop, the probe's SQL and the synchronous :meth:`EventStore.count`); the hot path
talks to the driver directly from the receiver's event loop:

- Group commit. Deliveries that arrive while a commit is under way wait in a queue; the next transaction writes all
  of them, one commit for the lot. Each delivery is answered only once the transaction holding its rows has
  committed (its future resolves after ``COMMIT`` returns), so an acknowledged event is always stored.
- Dedupe stays exact: the unique constraint on ``key_hash`` decides, row by row (SQLite) or in one
  ``INSERT .. SELECT unnest(..) ON CONFLICT DO NOTHING RETURNING`` (PostgreSQL, where a key's first occurrence in
  the batch is the one that tries, and later ones in the same batch are duplicates).
- SQLite runs in WAL mode with ``synchronous=NORMAL`` (a commit survives the process crashing; the OS crashing may
  lose the last commits: what SQLite documents for this mode), its writes on one thread, one hop per batch.
  PostgreSQL uses psycopg's asyncio connections: one writer, one reader, no thread at all; a batch is one INSERT
  statement in autocommit (its own transaction: one round trip, where an INSERT then a COMMIT took two).
- A batch that fails (a value the database refuses) is retried one delivery per transaction, so one bad delivery
  never fails the others.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import secrets
import sqlite3
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    DDL,
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    make_url,
    select,
)
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from harness.errors import ConfigError

__all__ = ["DuplicateKey", "EventStore", "StoredEvent", "key_hash"]

MAX_BATCH = 512  # rows one group commit writes at most; the rest wait for the next one
CHECKPOINT_ROWS = 1000  # SQLite: rows logged between two background checkpoints of the write-ahead log
_COLUMNS = "key_hash, idempotency_key, event_type, payload, received_at"


def key_hash(key: str) -> str:
    """The unique column: a fixed-size digest, so any key length fits a B-tree index."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class DuplicateKey(Exception):
    """A plain INSERT hit the unique constraint on the idempotency key."""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One event to store: its idempotency key, type and JSON text."""

    key: str
    event_type: str
    payload: str


Row = tuple[str, str, str, str, float]


@dataclass
class _Job:
    """One delivery's rows waiting for the next group commit."""

    rows: list[Row]
    done: asyncio.Future[int]
    new: int = field(default=0)


class EventStore:
    """A table of received events in its own freshly named table; ``unique`` puts the constraint on the key."""

    def __init__(self, url: str, *, unique: bool = True, table: str | None = None) -> None:
        self.url = url
        self.unique = unique
        self.table_name = table or f"webhook_events_{secrets.token_hex(4)}"
        try:
            parsed = make_url(url)
            backend = parsed.get_backend_name()
        except (ArgumentError, ValueError) as exc:
            raise ConfigError(f"Invalid database URL for the receiver: {exc}.") from None
        if backend not in ("sqlite", "postgresql"):
            raise ConfigError(f"The reference receiver stores events in SQLite or PostgreSQL, not {backend!r}.")
        if backend == "sqlite" and parsed.database in (None, "", ":memory:"):
            raise ConfigError("The reference receiver needs a SQLite file (sqlite:///path), not an in-memory database.")
        self._parsed: URL = parsed
        try:
            if backend == "sqlite":
                self.engine: Engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
            else:
                self.engine = create_engine(url, pool_size=2, max_overflow=4, pool_pre_ping=True, pool_timeout=10)
        except (ArgumentError, NoSuchModuleError, ValueError) as exc:
            raise ConfigError(f"Invalid database URL for the receiver: {exc}.") from None
        except ImportError as exc:  # the dialect is known but its driver is not installed
            raise ConfigError(
                f"No database driver for {backend} ({exc.name or exc}); for PostgreSQL install psycopg "
                "(pip install 'webhook-harness[postgres]')."
            ) from None
        self.metadata = MetaData()
        self.table = Table(
            self.table_name,
            self.metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("key_hash", String(64), nullable=False, unique=unique, index=not unique),
            Column("idempotency_key", Text, nullable=False),
            Column("event_type", Text, nullable=False),
            Column("payload", Text, nullable=False),
            Column("received_at", Float, nullable=False),
        )
        # PostgreSQL compresses (pglz) every text value over ~2 kB on insert: for GitHub's 6 kB bodies that was about
        # two thirds of the server's CPU per delivery (145 -> 50 us measured), on the two cores the receiver and the
        # sender share. The payload is never compressed (disk is what a test receiver can spare), and a row stays in
        # its page up to a page's size (toast_tuple_target) rather than going out of line past 2 kB: a 6 kB body is
        # one heap tuple, not three TOAST chunks and their index entries (50 -> 42-50 us).
        event.listen(
            self.table,
            "after_create",
            DDL(
                "ALTER TABLE %(fullname)s ALTER COLUMN payload SET STORAGE EXTERNAL, SET (toast_tuple_target = 8160)"
            ).execute_if(  # type: ignore[no-untyped-call]
                dialect="postgresql"
            ),
        )
        self._backend: _Backend | None = None
        self._pending: collections.deque[_Job] = collections.deque()
        self._wake: asyncio.Event | None = None
        self._writer: asyncio.Task[None] | None = None
        self.commits = 0  # group commits so far (a test sees batching happen)

    @property
    def probe_sql(self) -> str:
        """SQL counting the stored rows of one key; binds ``:event_id``."""
        return f"SELECT count(*) FROM {self.table_name} WHERE idempotency_key = :event_id"

    def create(self) -> None:
        """Create the table (a clear configuration error when the database is unreachable)."""
        try:
            self.metadata.create_all(self.engine)
        except SQLAlchemyError as exc:
            self.engine.dispose()
            reason = (str(getattr(exc, "orig", None) or exc).splitlines() or ["unknown error"])[0]
            raise ConfigError(f"Cannot prepare the receiver's table in {self._safe_url()}: {reason}") from None

    def drop(self) -> None:
        """Drop the table and close every connection."""
        try:
            self.metadata.drop_all(self.engine)
        finally:
            self.engine.dispose()

    # -- the asynchronous side, on the receiver's event loop ------------------------------------------------------
    async def open(self) -> None:
        """Connect the driver and start the group-commit writer (in the loop that will serve requests)."""
        if self.engine.dialect.name == "sqlite":
            self._backend = _SqliteBackend(str(self._parsed.database), self.table_name)
        else:
            self._backend = _PostgresBackend(self._parsed, self.table_name)
        try:
            await self._backend.open()
        except Exception as exc:
            reason = (str(exc).splitlines() or ["unknown error"])[0]
            raise ConfigError(f"Cannot connect the receiver to {self._safe_url()}: {reason}") from None
        self._wake = asyncio.Event()
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    async def close(self) -> None:
        """Stop the writer (what is queued fails) and close the driver's connections."""
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
            self._writer = None
        for job in self._pending:
            if not job.done.done():
                job.done.set_exception(ConnectionError("the receiver is stopping"))
        self._pending.clear()
        self._wake = None  # a later insert fails at once rather than waiting for a writer that is gone
        if self._backend is not None:
            await self._backend.close()
            self._backend = None

    def _rows(self, events: Sequence[StoredEvent]) -> list[Row]:
        now = time.time()
        return [(key_hash(e.key), e.key, e.event_type, e.payload, now) for e in events]

    async def insert_new(self, events: Sequence[StoredEvent]) -> int:
        """Insert, skipping keys already stored (race-free: the database decides); returns how many were new.

        Returns once the transaction holding the rows has committed.
        """
        if not events:
            return 0
        if self._wake is None:
            raise ConnectionError("the receiver's store is not open")
        job = _Job(self._rows(events), asyncio.get_running_loop().create_future())
        self._pending.append(job)
        self._wake.set()
        return await job.done

    async def _write_loop(self) -> None:
        assert self._wake is not None and self._backend is not None
        backend, wake = self._backend, self._wake
        while True:
            await wake.wait()
            wake.clear()
            while self._pending:
                batch: list[_Job] = []
                size = 0
                while self._pending and (not batch or size + len(self._pending[0].rows) <= MAX_BATCH):
                    job = self._pending.popleft()
                    batch.append(job)
                    size += len(job.rows)
                try:
                    await backend.write_new(batch)
                except asyncio.CancelledError:
                    for job in batch:
                        job.done.cancel()
                    raise
                except Exception:  # one bad delivery: every other one of the batch gets its own transaction
                    for job in batch:
                        try:
                            await backend.write_new([job])
                        except Exception as exc:
                            if not job.done.done():
                                job.done.set_exception(exc)
                self.commits += 1
                for job in batch:
                    if not job.done.done():
                        job.done.set_result(job.new)

    async def insert_all(self, events: Sequence[StoredEvent]) -> None:
        """A plain INSERT of every event, in its own transaction; a unique constraint raises ``DuplicateKey``."""
        if events:
            assert self._backend is not None, "open the store first"
            await self._backend.insert_all(self._rows(events))

    async def existing(self, keys: Sequence[str]) -> set[str]:
        """The keys among ``keys`` that already have a row."""
        hashes = {key_hash(k): k for k in keys}
        if not hashes:
            return set()
        assert self._backend is not None, "open the store first"
        return {hashes[h] for h in await self._backend.existing(list(hashes))}

    async def count_async(self, key: str) -> int:
        """How many rows carry this idempotency key (from the event loop)."""
        assert self._backend is not None, "open the store first"
        return await self._backend.count(key)

    def count(self, key: str) -> int:
        """How many rows carry this idempotency key (synchronous, from any thread)."""
        with self.engine.connect() as conn:
            stmt = select(func.count()).select_from(self.table).where(self.table.c.idempotency_key == key)
            return int(conn.execute(stmt).scalar_one())

    def _safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)


class _Backend:
    """What the group-commit writer and the handlers need from a driver."""

    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def write_new(self, batch: list[_Job]) -> None:
        """Insert every job's rows in one transaction, skipping stored keys; set each job's ``new``; commit."""
        raise NotImplementedError

    async def insert_all(self, rows: list[Row]) -> None:
        raise NotImplementedError

    async def existing(self, hashes: list[str]) -> list[str]:
        raise NotImplementedError

    async def count(self, key: str) -> int:
        raise NotImplementedError


class _SqliteBackend(_Backend):
    """One sqlite3 connection, called on the event loop itself: a WAL commit with ``synchronous=NORMAL`` writes the
    log without an fsync, so a batch costs less than handing it to a thread and back would. The checkpoints (which
    copy the log into the database and do fsync) run on a thread of their own, on their own connection, so the loop
    never waits for the disk."""

    def __init__(self, path: str, table: str) -> None:
        self.path, self.table = path, table
        self._conn: sqlite3.Connection | None = None
        self._checkpointer: ThreadPoolExecutor | None = None
        self._checkpoint: Future[Any] | None = None
        self._since = 0  # rows written since the last checkpoint started
        self._insert_new = f"INSERT INTO {table} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?) ON CONFLICT(key_hash) DO NOTHING"
        self._insert = f"INSERT INTO {table} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?)"

    async def open(self) -> None:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints run on the checkpointer thread instead
        self._conn = conn
        self._checkpointer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="receiver-checkpoint")

    async def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.shutdown(wait=True)
            self._checkpointer = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _checkpoint_now(self) -> None:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            conn.close()

    def _written(self, rows: int) -> None:
        """After a commit: start a checkpoint on the thread once enough was logged and none is running."""
        self._since += rows
        running = self._checkpoint is not None and not self._checkpoint.done()
        if self._since >= CHECKPOINT_ROWS and not running and self._checkpointer is not None:
            self._since = 0
            self._checkpoint = self._checkpointer.submit(self._checkpoint_now)

    async def write_new(self, batch: list[_Job]) -> None:
        conn = self._conn
        assert conn is not None
        execute, sql = conn.execute, self._insert_new
        execute("BEGIN IMMEDIATE")
        try:
            for job in batch:
                job.new = sum(execute(sql, row).rowcount for row in job.rows)
            execute("COMMIT")
        except BaseException:
            execute("ROLLBACK")
            raise
        self._written(sum(len(job.rows) for job in batch))

    async def insert_all(self, rows: list[Row]) -> None:
        conn = self._conn
        assert conn is not None
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(self._insert, rows)
            conn.execute("COMMIT")
            self._written(len(rows))
        except sqlite3.IntegrityError:
            conn.execute("ROLLBACK")
            raise DuplicateKey("UNIQUE constraint failed: key_hash") from None
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    async def existing(self, hashes: list[str]) -> list[str]:
        assert self._conn is not None
        marks = ", ".join("?" * len(hashes))
        sql = f"SELECT key_hash FROM {self.table} WHERE key_hash IN ({marks})"
        return [h for (h,) in self._conn.execute(sql, hashes).fetchall()]

    async def count(self, key: str) -> int:
        assert self._conn is not None
        sql = f"SELECT count(*) FROM {self.table} WHERE idempotency_key = ?"
        return int(self._conn.execute(sql, [key]).fetchone()[0])


class _PostgresBackend(_Backend):
    """psycopg's asyncio connections: one for the group-commit writer, one for reads.

    The batch travels as arrays in the binary format (``%b``): the text format escapes every quote of every JSON
    payload, with a regular expression, which cost more than the rest of the request."""

    def __init__(self, url: URL, table: str) -> None:
        self.url, self.table = url, table
        self._writer: Any = None
        self._reader: Any = None
        self._tx: asyncio.Lock | None = None  # one transaction at a time on the writer connection
        self._insert_new = (
            f"INSERT INTO {table} ({_COLUMNS}) SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], "
            "%b::text[], %b::float8[]) ON CONFLICT (key_hash) DO NOTHING RETURNING key_hash"
        )
        self._insert = f"INSERT INTO {table} ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s)"

    def _conninfo(self) -> str:
        from psycopg.conninfo import make_conninfo

        url = self.url
        params: dict[str, Any] = {k: v for k, v in url.query.items() if isinstance(v, str)}
        for name, value in (
            ("host", url.host),
            ("port", url.port),
            ("user", url.username),
            ("password", url.password),
            ("dbname", url.database),
        ):
            if value is not None:
                params[name] = str(value)
        return make_conninfo("", **params)

    async def open(self) -> None:
        import psycopg

        info = self._conninfo()
        # autocommit: a batch is one INSERT statement, its own transaction, committed (durably, as the server is
        # configured) when its answer comes back: one round trip per batch, not one for the INSERT and one for COMMIT
        self._writer = await psycopg.AsyncConnection.connect(info, autocommit=True)
        self._reader = await psycopg.AsyncConnection.connect(info, autocommit=True)
        self._tx = asyncio.Lock()

    async def close(self) -> None:
        for conn in (self._writer, self._reader):
            if conn is not None:
                await conn.close()
        self._writer = self._reader = None

    async def write_new(self, batch: list[_Job]) -> None:
        first: dict[str, _Job] = {}  # a key's first occurrence in the batch is the one that tries
        columns: list[list[Any]] = [[], [], [], [], []]
        for job in batch:
            job.new = 0
            for row in job.rows:
                if row[0] not in first:
                    first[row[0]] = job
                    for column, value in zip(columns, row, strict=True):
                        column.append(value)
        conn, lock = self._writer, self._tx
        assert lock is not None
        async with lock, conn.cursor() as cursor:  # one statement: all of the batch is stored, or none of it
            await cursor.execute(self._insert_new, columns)
            inserted = [h for (h,) in await cursor.fetchall()]
        for h in inserted:
            first[h].new += 1

    async def insert_all(self, rows: list[Row]) -> None:
        import psycopg

        conn, lock = self._writer, self._tx
        assert lock is not None
        async with lock:
            try:
                async with conn.transaction(), conn.cursor() as cursor:  # every row, or (rolled back) none
                    await cursor.executemany(self._insert, rows)
            except psycopg.errors.UniqueViolation:
                raise DuplicateKey("duplicate key value violates unique constraint on key_hash") from None

    async def existing(self, hashes: list[str]) -> list[str]:
        async with self._reader.cursor() as cursor:
            await cursor.execute(f"SELECT key_hash FROM {self.table} WHERE key_hash = ANY(%s)", [hashes])
            return [h for (h,) in await cursor.fetchall()]

    async def count(self, key: str) -> int:
        async with self._reader.cursor() as cursor:
            await cursor.execute(f"SELECT count(*) FROM {self.table} WHERE idempotency_key = %s", [key])
            row = await cursor.fetchone()
            return int(row[0]) if row else 0
