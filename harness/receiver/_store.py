"""Stored events in SQLite or PostgreSQL, one row per idempotency key (unless a bug says otherwise)."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    func,
    insert,
    make_url,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from harness.errors import ConfigError

__all__ = ["EventStore", "StoredEvent", "key_hash"]


def key_hash(key: str) -> str:
    """The unique column: a fixed-size digest, so any key length fits a B-tree index."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One event to store: its idempotency key, type and JSON text."""

    key: str
    event_type: str
    payload: str


class EventStore:
    """A table of received events in its own freshly named table; ``unique`` puts the constraint on the key."""

    def __init__(self, url: str, *, unique: bool = True, table: str | None = None) -> None:
        self.url = url
        self.unique = unique
        self.table_name = table or f"webhook_events_{secrets.token_hex(4)}"
        try:
            backend = make_url(url).get_backend_name()
        except (ArgumentError, ValueError) as exc:
            raise ConfigError(f"Invalid database URL for the receiver: {exc}.") from None
        if backend not in ("sqlite", "postgresql"):
            raise ConfigError(f"The reference receiver stores events in SQLite or PostgreSQL, not {backend!r}.")
        try:
            if url.startswith("sqlite"):
                self.engine: Engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
            else:
                self.engine = create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True, pool_timeout=10)
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

    def _rows(self, events: Sequence[StoredEvent]) -> list[dict[str, object]]:
        now = time.time()
        return [
            {
                "key_hash": key_hash(e.key),
                "idempotency_key": e.key,
                "event_type": e.event_type,
                "payload": e.payload,
                "received_at": now,
            }
            for e in events
        ]

    def insert_new(self, events: Sequence[StoredEvent]) -> int:
        """Insert, skipping keys already stored (race-free: the database decides); returns how many were new."""
        if not events:
            return 0
        name = self.engine.dialect.name
        dialect_insert = postgresql.insert if name == "postgresql" else sqlite.insert if name == "sqlite" else None
        if dialect_insert is None:
            raise ConfigError(f"The reference receiver supports SQLite and PostgreSQL, not {name!r}.")
        stmt = dialect_insert(self.table).on_conflict_do_nothing(index_elements=["key_hash"])
        with self.engine.begin() as conn:
            return sum(conn.execute(stmt, [row]).rowcount for row in self._rows(events))

    def insert_all(self, events: Sequence[StoredEvent]) -> None:
        """A plain INSERT of every event; a unique constraint, if any, raises ``IntegrityError``."""
        if events:
            with self.engine.begin() as conn:
                conn.execute(insert(self.table), self._rows(events))

    def existing(self, keys: Sequence[str]) -> set[str]:
        """The keys among ``keys`` that already have a row."""
        hashes = {key_hash(k): k for k in keys}
        if not hashes:
            return set()
        with self.engine.connect() as conn:
            found = conn.execute(select(self.table.c.key_hash).where(self.table.c.key_hash.in_(list(hashes))))
            return {hashes[h] for (h,) in found}

    def count(self, key: str) -> int:
        """How many rows carry this idempotency key."""
        with self.engine.connect() as conn:
            stmt = select(func.count()).select_from(self.table).where(self.table.c.idempotency_key == key)
            return int(conn.execute(stmt).scalar_one())

    def _safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)
