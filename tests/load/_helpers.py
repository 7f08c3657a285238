"""Helpers for the load tests: what the reference receiver stored."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from harness.receiver import ReferenceReceiver


def stored(rx: ReferenceReceiver) -> int:
    """How many events the reference receiver stored in all (its own table, counted through SQL)."""
    table = rx.probe_sql.split(" FROM ", 1)[1].split()[0]
    engine = create_engine(rx.db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)
    finally:
        engine.dispose()
