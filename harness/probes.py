"""Side-effect probes: how many times did the receiver store an event? Over HTTP or through SQL."""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import quote

import requests

from harness.errors import ConfigError, UsageError

__all__ = ["HttpProbe", "Probe", "SqlProbe", "make_probe"]


class Probe(Protocol):
    """Counts the stored effects of one idempotency key."""

    def count(self, event_id: str) -> int:
        """How many times the receiver stored ``event_id``."""
        ...

    def describe(self) -> str:
        """What the probe asks, without secrets."""
        ...


class HttpProbe:
    """GET a URL template with ``{event_id}``; the answer is a JSON number or ``{"count": n}``."""

    def __init__(self, template: str, *, timeout: float = 10.0) -> None:
        if "{event_id}" not in template:
            raise UsageError("--probe-url must contain {event_id}, e.g. https://host/probe/{event_id}.")
        self.template = template
        self.timeout = timeout

    def count(self, event_id: str) -> int:
        """Ask the receiver."""
        url = self.template.replace("{event_id}", quote(event_id, safe=""))
        try:
            response = requests.get(url, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise ConfigError(f"The probe {self.describe()} cannot be reached ({type(exc).__name__}).") from None
        if response.status_code != 200:
            raise ConfigError(f"The probe {self.describe()} answered HTTP {response.status_code}, not 200.")
        try:
            value: Any = response.json()
        except ValueError:
            raise ConfigError(f"The probe {self.describe()} did not answer JSON: {response.text[:60]!r}.") from None
        if isinstance(value, dict):
            value = value.get("count")
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f'The probe {self.describe()} must answer a number or {{"count": n}}, got {value!r}.')
        return value

    def describe(self) -> str:
        """The template without user-info."""
        head, sep, tail = self.template.partition("://")
        return head + sep + tail.rpartition("@")[2] if sep else self.template


class SqlProbe:
    """Run a SQL query binding ``:event_id`` that returns the count (a SQLAlchemy URL)."""

    def __init__(self, db_url: str, sql: str) -> None:
        if ":event_id" not in sql:
            raise UsageError("--probe-sql must bind :event_id, e.g. SELECT count(*) FROM events WHERE id = :event_id.")
        from sqlalchemy import create_engine
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        try:
            self._engine = create_engine(db_url, pool_pre_ping=True)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise UsageError(f"--probe-db is not a usable SQLAlchemy URL ({type(exc).__name__}).") from None
        self.sql = sql

    def count(self, event_id: str) -> int:
        """Run the query."""
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self._engine.connect() as conn:
                value = conn.execute(text(self.sql), {"event_id": event_id}).scalar()
        except SQLAlchemyError as exc:
            raise ConfigError(f"The probe query failed: {type(exc).__name__}: {str(exc).splitlines()[0]}") from None
        return int(value or 0)

    def describe(self) -> str:
        """The query (the URL may hold a password, so it is left out)."""
        return f"SQL {self.sql!r}"


def make_probe(probe_url: str | None = None, probe_db: str | None = None, probe_sql: str | None = None) -> Probe | None:
    """The probe the options describe, or None."""
    if probe_url and (probe_db or probe_sql):
        raise UsageError("Give either --probe-url or --probe-db with --probe-sql, not both.")
    if probe_url:
        return HttpProbe(probe_url)
    if probe_db or probe_sql:
        if not (probe_db and probe_sql):
            raise UsageError("--probe-db and --probe-sql go together.")
        return SqlProbe(probe_db, probe_sql)
    return None
