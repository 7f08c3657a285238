"""Side-effect probes: how many times did the receiver store an event? Over HTTP or through SQL.

Both are bounded: the HTTP probe has an overall deadline and reads at most ``MAX_PROBE_RESPONSE`` bytes; the SQL
probe runs under a statement timeout (PostgreSQL's ``statement_timeout``, and a client-side bound that cancels the
query), streams its result and looks at two rows at most. An answer that is not one count is a one-line error.
"""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import quote

from harness.core.text import printable
from harness.credentials import without_userinfo
from harness.errors import ConfigError, UsageError
from harness.net.fetch import bounded_session, fetch_answer
from harness.net.options import NetworkOptions

__all__ = ["HttpProbe", "Probe", "SqlProbe", "make_probe"]

MAX_PROBE_RESPONSE = 64 * 1024
DEFAULT_TIMEOUT = 10.0


class Probe(Protocol):
    """Counts the stored effects of one idempotency key."""

    def count(self, event_id: str) -> int:
        """How many times the receiver stored ``event_id``."""
        ...

    def describe(self) -> str:
        """What the probe asks, without secrets."""
        ...


def _as_count(value: Any, where: str) -> int:
    """A probe's answer as a count, or a one-line error naming what came back."""
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        shown = printable(repr(value)[:60], newlines=False)
        raise ConfigError(f"The probe {where} must answer a whole number of stored events, got {shown}.")
    if value < 0:
        raise ConfigError(f"The probe {where} answered a negative count ({value}); a count is 0 or more.")
    return value


class HttpProbe:
    """GET a URL template with ``{event_id}``; the answer is a JSON number or ``{"count": n}``."""

    def __init__(
        self, template: str, *, timeout: float = DEFAULT_TIMEOUT, network: NetworkOptions | None = None
    ) -> None:
        if "{event_id}" not in template:
            raise UsageError("--probe-url must contain {event_id}, e.g. https://host/probe/{event_id}.")
        self.template = template
        self.timeout = timeout
        self.network = network or NetworkOptions()
        self._local = threading.local()

    def count(self, event_id: str) -> int:
        """Ask the receiver."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = bounded_session(self.network)
        url = self.template.replace("{event_id}", quote(event_id, safe=""))
        where = self.describe()
        got = fetch_answer(
            ConfigError,
            f"probe {where}",
            session,
            "GET",
            url,
            timeout=self.timeout,
            max_body=MAX_PROBE_RESPONSE,
            network=self.network,
        )
        if got.status != 200:
            raise ConfigError(f"The probe {where} answered HTTP {got.status}, not 200.")
        if got.truncated or got.error:
            raise ConfigError(f"The probe {where} answered more than {MAX_PROBE_RESPONSE // 1024} KiB, or broke off.")
        text = got.body.decode("utf-8", "replace")
        try:
            value: Any = json.loads(text)
        except (ValueError, RecursionError):
            shown = printable(text[:60], newlines=False)
            raise ConfigError(f"The probe {where} did not answer JSON: {shown!r}.") from None
        if isinstance(value, dict):
            value = value.get("count")
        return _as_count(value, where)

    def describe(self) -> str:
        """The template without user-info."""
        return without_userinfo(self.template)


class SqlProbe:
    """Run a SQL query binding ``:event_id`` that returns the count (a SQLAlchemy URL), within ``timeout``."""

    def __init__(self, db_url: str, sql: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        if ":event_id" not in sql:
            raise UsageError("--probe-sql must bind :event_id, e.g. SELECT count(*) FROM events WHERE id = :event_id.")
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        self.timeout = timeout
        try:
            url = make_url(db_url)
            connect_args: dict[str, Any] = {}
            if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("psycopg", "psycopg2", ""):
                # the server ends the query on its own, even if the harness is killed mid-query
                connect_args = {
                    "options": f"-c statement_timeout={int(timeout * 1000)}",
                    "connect_timeout": max(1, int(timeout)),
                }
            self._engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
        except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
            raise UsageError(f"--probe-db is not a usable SQLAlchemy URL ({type(exc).__name__}).") from None
        self.sql = sql

    def count(self, event_id: str) -> int:
        """Run the query; at most two rows are read, and a query past the timeout is cancelled."""
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError

        outcome: list[Any] = []
        cancel: list[Any] = []

        def run() -> None:
            try:
                with self._engine.connect() as conn:
                    cancel.append(conn.connection.dbapi_connection)
                    result = conn.execution_options(stream_results=True, max_row_buffer=2).execute(
                        text(self.sql), {"event_id": event_id}
                    )
                    rows = result.fetchmany(2)
                    result.close()
                outcome.append(rows)
            except (SQLAlchemyError, RecursionError, MemoryError) as exc:
                outcome.append(exc)
            except Exception as exc:  # a driver error that SQLAlchemy does not wrap (a bad type conversion)
                outcome.append(exc)

        worker = threading.Thread(target=run, name="webhook-harness-sql-probe", daemon=True)
        worker.start()
        try:
            worker.join(self.timeout + 1.0)
        except KeyboardInterrupt:  # the harness is stopping: stop the query too, not only our wait for it
            _cancel(cancel[0] if cancel else None)
            raise
        if worker.is_alive():
            _cancel(cancel[0] if cancel else None)
            worker.join(2.0)
            raise ConfigError(f"The probe query did not finish within {self.timeout:g}s; it was cancelled.")
        if not outcome:
            raise ConfigError("The probe query ended without an answer.")
        answer = outcome[0]
        if isinstance(answer, BaseException):
            if "statement timeout" in str(answer) or "canceling statement" in str(answer):
                raise ConfigError(f"The probe query did not finish within {self.timeout:g}s; it was cancelled.")
            first = printable(str(answer).splitlines()[0] if str(answer) else "", newlines=False)[:200]
            raise ConfigError(f"The probe query failed: {type(answer).__name__}: {first}")
        if len(answer) > 1:
            raise ConfigError("The probe query returned more than one row; it must return one count.")
        if not answer or answer[0][0] is None:
            return 0
        return _as_count(answer[0][0], "query")

    def describe(self) -> str:
        """The query (the URL may hold a password, so it is left out)."""
        return f"SQL {self.sql!r}"


def _cancel(dbapi_connection: Any) -> None:
    """Ask the database to stop the running query (psycopg ``cancel``, sqlite3 ``interrupt``)."""
    for name in ("cancel", "interrupt"):
        method = getattr(dbapi_connection, name, None)
        if callable(method):
            try:
                method()
            except Exception:  # best effort: the statement timeout still ends it server-side
                pass
            return


def make_probe(
    probe_url: str | None = None,
    probe_db: str | None = None,
    probe_sql: str | None = None,
    *,
    network: NetworkOptions | None = None,
) -> Probe | None:
    """The probe the options describe, or None."""
    if probe_url and (probe_db or probe_sql):
        raise UsageError("Give either --probe-url or --probe-db with --probe-sql, not both.")
    if probe_url:
        return HttpProbe(probe_url, network=network)
    if probe_db or probe_sql:
        if not (probe_db and probe_sql):
            raise UsageError("--probe-db and --probe-sql go together.")
        return SqlProbe(probe_db, probe_sql)
    return None
