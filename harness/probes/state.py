"""The state probe: the receiver's view of one lifecycle object, over HTTP or SQL (`--state-url`, `--state-sql`).

Bounded like the count probe: the HTTP probe has an overall deadline and reads at most ``MAX_STATE_RESPONSE``
bytes; the SQL probe binds ``:object_id`` (never spliced) and reads two rows at most.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Protocol
from urllib.parse import quote

from harness.core.text import printable
from harness.credentials import without_userinfo
from harness.errors import ConfigError, UsageError
from harness.net.fetch import bounded_session, fetch_answer
from harness.net.options import NetworkOptions

__all__ = ["HttpStateProbe", "SqlStateProbe", "StateProbe", "make_state_probe"]

MAX_STATE_RESPONSE = 256 * 1024
DEFAULT_TIMEOUT = 10.0


class StateProbe(Protocol):
    """The receiver's view of one object: a JSON object, or None when it does not know the object."""

    def view(self, object_id: str) -> Any:
        """What the receiver believes about ``object_id`` (None: unknown or deleted)."""
        ...

    def describe(self) -> str:
        """What the probe asks, without secrets."""
        ...


class HttpStateProbe:
    """GET a URL template with ``{object_id}``: 200 with JSON is the view, 404 (or JSON null) means no object."""

    def __init__(
        self, template: str, *, timeout: float = DEFAULT_TIMEOUT, network: NetworkOptions | None = None
    ) -> None:
        if "{object_id}" not in template:
            raise UsageError("--state-url must contain {object_id}, e.g. https://host/state/{object_id}.")
        self.template = template
        self.timeout = timeout
        self.network = network or NetworkOptions()
        self._local = threading.local()

    def view(self, object_id: str) -> Any:
        """Ask the receiver."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = bounded_session(self.network)
        url = self.template.replace("{object_id}", quote(object_id, safe=""))
        where = f"state probe {self.describe()}"
        got = fetch_answer(
            ConfigError,
            where,
            session,
            "GET",
            url,
            timeout=self.timeout,
            max_body=MAX_STATE_RESPONSE,
            network=self.network,
        )
        if got.status in (404, 410):
            return None
        if got.status != 200:
            raise ConfigError(f"The {where} answered HTTP {got.status}, not 200 (or 404 for no such object).")
        if got.truncated or got.error:
            raise ConfigError(f"The {where} answered more than {MAX_STATE_RESPONSE // 1024} KiB, or broke off.")
        text = got.body.decode("utf-8", "replace")
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            raise ConfigError(f"The {where} did not answer JSON: {printable(text[:60], newlines=False)!r}.") from None

    def describe(self) -> str:
        """The template without user-info."""
        return without_userinfo(self.template)


class SqlStateProbe:
    """A SQL query binding ``:object_id``: its one row (column -> value) is the view, no row means no object."""

    def __init__(self, db_url: str, sql: str) -> None:
        if ":object_id" not in sql:
            raise UsageError("--state-sql must bind :object_id, e.g. SELECT status FROM subs WHERE id = :object_id.")
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        try:
            url = make_url(db_url)
            connect_args: dict[str, Any] = {}
            if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("psycopg", "psycopg2", ""):
                # the server ends a slow query on its own, as the count probe's does
                connect_args = {"options": f"-c statement_timeout={int(DEFAULT_TIMEOUT * 1000)}", "connect_timeout": 10}
            elif url.get_backend_name() == "sqlite":
                connect_args = {"timeout": DEFAULT_TIMEOUT}
            self._engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
        except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
            raise UsageError(f"--state-db is not a usable SQLAlchemy URL ({type(exc).__name__}).") from None
        self.sql = sql

    def view(self, object_id: str) -> Any:
        """Run the query; more than one row is the user's mistake."""
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self._engine.connect() as conn:
                rows = conn.execute(text(self.sql), {"object_id": object_id}).mappings().fetchmany(2)
        except SQLAlchemyError as exc:
            first = printable(str(exc).splitlines()[0] if str(exc) else "", newlines=False)[:200]
            raise ConfigError(f"The state query failed: {type(exc).__name__}: {first}") from None
        if len(rows) > 1:
            raise ConfigError("The state query returned more than one row; it must return the object's one row.")
        return dict(rows[0]) if rows else None

    def describe(self) -> str:
        """The query (the URL may hold a password, so it is left out)."""
        return f"SQL {self.sql!r}"


def make_state_probe(
    state_url: str | None = None,
    state_db: str | None = None,
    state_sql: str | None = None,
    *,
    network: NetworkOptions | None = None,
) -> StateProbe | None:
    """The state probe the options describe, or None."""
    if state_url and (state_db or state_sql):
        raise UsageError("Give either --state-url or --state-db with --state-sql, not both.")
    if state_url:
        return HttpStateProbe(state_url, network=network)
    if state_db or state_sql:
        if not (state_db and state_sql):
            raise UsageError("--state-db and --state-sql go together.")
        return SqlStateProbe(state_db, state_sql)
    return None
