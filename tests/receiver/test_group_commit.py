"""The receiver's store under concurrency: group commit, exact dedupe, acknowledgement only after the commit."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import aiohttp
import pytest

from harness.catalog import load_catalog
from harness.receiver import ReferenceReceiver
from harness.receiver._schemas import FastSchemas, checked_formats, first_error, without_formats
from harness.receiver._store import DuplicateKey, EventStore, StoredEvent
from harness.signing import sign_delivery
from harness.volume import VolumeGenerator

BACKENDS = ["sqlite", "postgresql"]


def _url(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'events.db'}"
    url = os.environ.get("WEBHOOK_HARNESS_TEST_PG_URL")
    assert url, "WEBHOOK_HARNESS_TEST_PG_URL is unset: run the suite through `make test` (scripts/with-postgres)"
    return url


def _event(key: str, payload: str = "{}") -> StoredEvent:
    return StoredEvent(key, "ping", payload)


async def _with_store(url: str, body: object) -> None:
    store = EventStore(url)
    store.create()
    try:
        await store.open()
        try:
            await body(store)  # type: ignore[operator]
        finally:
            await store.close()
    finally:
        store.drop()


@pytest.mark.postgres
def test_postgresql_keeps_payloads_uncompressed_and_whole() -> None:
    """PostgreSQL stores the payload column without compressing it (no pglz on the write path), in the row itself up
    to a page's size (a 6 kB body is not cut into TOAST chunks), and a large payload comes back byte for byte."""
    from sqlalchemy import text

    payload = json.dumps({"text": "x" * 20_000, "n": list(range(500))})

    async def body(store: EventStore) -> None:
        assert await store.insert_new([_event("big", payload)]) == 1
        with store.engine.connect() as conn:
            storage = conn.execute(
                text(
                    "SELECT attstorage FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) AND attname = 'payload'"
                ),
                {"t": store.table_name},
            ).scalar()
            options = conn.execute(
                text("SELECT reloptions FROM pg_class WHERE oid = CAST(:t AS regclass)"), {"t": store.table_name}
            ).scalar()
            query = f"SELECT payload FROM {store.table_name} WHERE idempotency_key = 'big'"
            stored = conn.execute(text(query)).scalar()
        assert storage == "e" and stored == payload
        assert "toast_tuple_target=8160" in (options or [])

    asyncio.run(_with_store(_url("postgresql", Path(".")), body))


@pytest.mark.parametrize("backend", BACKENDS)
def test_concurrent_duplicates_are_stored_once_and_counted_exactly(backend: str, tmp_path: Path) -> None:
    """300 deliveries over 40 keys at once (some repeating a key inside one delivery): one row per key, and the
    answers' "new" counts add up to exactly 40, in fewer transactions than deliveries."""

    async def body(store: EventStore) -> None:
        jobs = [[_event(f"k{i % 40}")] for i in range(280)] + [[_event(f"k{i}"), _event(f"k{i}")] for i in range(20)]
        new = await asyncio.gather(*(store.insert_new(rows) for rows in jobs))
        assert sum(new) == 40
        assert await asyncio.gather(*(store.count_async(f"k{i}") for i in range(40))) == [1] * 40
        assert [store.count(f"k{i}") for i in range(40)] == [1] * 40
        assert store.commits < len(jobs)  # batched: group commit, not a transaction per delivery

    asyncio.run(_with_store(_url(backend, tmp_path), body))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_delivery_is_acknowledged_only_once_its_rows_are_committed(backend: str, tmp_path: Path) -> None:
    """The moment ``insert_new`` returns, another connection (which sees only committed rows) finds the row."""

    async def body(store: EventStore) -> None:
        async def one(i: int) -> int:
            await store.insert_new([_event(f"a{i}")])
            return store.count(f"a{i}")  # SQLAlchemy's own connection, outside the writer's transaction

        assert await asyncio.gather(*(one(i) for i in range(60))) == [1] * 60

    asyncio.run(_with_store(_url(backend, tmp_path), body))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_plain_insert_of_a_stored_key_raises_duplicate_key(backend: str, tmp_path: Path) -> None:
    """The rejects-duplicates and duplicate-500 bugs rely on the unique constraint firing on a plain INSERT."""

    async def body(store: EventStore) -> None:
        await store.insert_all([_event("d1")])
        with pytest.raises(DuplicateKey):
            await store.insert_all([_event("d1")])
        assert await store.existing(["d1", "d2"]) == {"d1"}
        assert await store.count_async("d1") == 1

    asyncio.run(_with_store(_url(backend, tmp_path), body))


def test_one_refused_delivery_does_not_fail_the_others_of_its_batch() -> None:
    """PostgreSQL refuses U+0000 in text: that delivery fails alone, its batch-mates are stored and answered."""

    async def body(store: EventStore) -> None:
        results = await asyncio.gather(
            *(store.insert_new([_event(f"n{i}", "\x00" if i == 3 else "{}")]) for i in range(8)),
            return_exceptions=True,
        )
        assert [isinstance(r, Exception) for r in results] == [i == 3 for i in range(8)]
        assert [store.count(f"n{i}") for i in range(8)] == [0 if i == 3 else 1 for i in range(8)]

    asyncio.run(_with_store(_url("postgresql", Path(".")), body))


def test_concurrent_resends_over_http_store_each_event_once(tmp_path: Path) -> None:
    """Three copies of 20 signed deliveries posted at once: the replies count 20 new events, the probe 1 per key."""
    with ReferenceReceiver("standard") as rx:
        provider = rx.provider
        signed = [sign_delivery(provider, d, rx.credentials) for d in VolumeGenerator(provider, seed=4).deliveries(20)]

        async def post_all() -> list[dict[str, int]]:
            async with aiohttp.ClientSession() as session:

                async def post(i: int) -> dict[str, int]:
                    d = signed[i % 20]
                    async with session.post(rx.url, data=d.body, headers=dict(d.headers)) as response:
                        assert response.status == 200
                        return json.loads(await response.read())  # type: ignore[no-any-return]

                return await asyncio.gather(*(post(i) for i in range(60)))

        replies = asyncio.run(post_all())
        assert sum(r["stored"] for r in replies) == 20 and sum(r["duplicates"] for r in replies) == 40
        assert {rx.count(key) for d in signed for key in d.idempotency_keys} == {1}


@pytest.mark.parametrize("provider_id", [p.id for p in load_catalog()])
def test_the_compiled_schema_check_agrees_with_jsonschema(provider_id: str) -> None:
    """Valid payloads pass both; a payload missing a required field or with a wrong type fails with the same error."""
    provider = load_catalog().get(provider_id)
    fast = FastSchemas(provider)
    for event_type, payload in VolumeGenerator(provider, seed=2).events(15):
        for item in payload if isinstance(payload, list) else [payload]:
            assert fast.first_error(event_type, item) is None is first_error(provider, event_type, item)
            schema = provider.event(event_type).schema
            for name in [*schema.get("required", [])[:2], *list(schema.get("properties", {}))[:2]]:
                if isinstance(item, dict) and name in item:
                    for broken in ({k: v for k, v in item.items() if k != name}, {**item, name: [[None]]}):
                        assert fast.first_error(event_type, broken) == first_error(provider, event_type, broken)


def test_a_format_jsonschema_leaves_unchecked_is_not_checked_by_the_compiled_validator_either() -> None:
    """GitHub's ``*_url`` fields are ``uri-template``s, which the catalog's checker does not check: a generated value
    that is no URI template passes the compiled check at once (it used to take the slow jsonschema path), while a
    format the catalog does check (``email`` here, on a schema of our own) is still refused by both."""
    provider = load_catalog().get("github")
    fast = FastSchemas(provider)
    checked = checked_formats(provider, "star.created")
    assert "uri-template" not in checked and "email" in checked
    _, payload = next(VolumeGenerator(provider, seed=3).events(1, "star.created"))
    payload["repository"]["keys_url"] = "not a {uri template"
    assert first_error(provider, "star.created", payload) is None
    assert fast._validator("star.created").is_valid(payload)  # decided by the compiled validator alone
    schema = {"type": "object", "properties": {"a": {"format": "email"}, "b": {"format": "uri-template"}}}
    kept = without_formats(schema, checked)
    assert kept["properties"] == {"a": {"format": "email"}, "b": {}}
    enum = {"enum": [{"format": "uri-template"}]}  # a value, not a schema: left as it is
    assert without_formats(enum, checked) == enum
