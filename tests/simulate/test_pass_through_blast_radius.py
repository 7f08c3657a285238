"""One event with a NUL a person typed, inside a SendGrid batch: the whole batch is retried for 24 h, then lost."""

from __future__ import annotations

import json

from harness.core.models import Delivery, Reply
from harness.simulate import SimConfig, run_simulation
from tests.simulate._helpers import CATALOG, H, policy


def test_one_nul_event_costs_its_whole_batch() -> None:
    sent: dict[tuple[str, ...], int] = {}  # a batch's sg_event_ids -> attempts
    refused: set[tuple[str, ...]] = set()

    def postgres_like(items: list[tuple[Delivery, str]], timeout: float) -> list[Reply]:
        """Inserts each event as text; PostgreSQL refuses U+0000, and the handler answers 400 for the delivery."""
        out = []
        for delivery, _ in items:
            batch = delivery.idempotency_keys
            sent[batch] = sent.get(batch, 0) + 1
            has_nul = any("\\u0000" in json.dumps(event) for event in delivery.payload)  # JSON escapes U+0000
            if has_nul:
                refused.add(batch)
            out.append(Reply(400 if has_nul else 200))
        return out

    config = SimConfig(
        CATALOG.get("sendgrid"),
        policy("sendgrid"),
        event_count=120,
        spread=600.0,  # 20 flushes of about 6 events
        seed=11,
        dry_run=False,
        url="http://127.0.0.1:9/",
        pass_through_rate=0.25,
    )
    result = run_simulation(config, send=postgres_like)
    assert refused and len(refused) < len(sent)  # some batches carry a NUL event, most do not
    lost_events = sum(len(batch) for batch in refused)  # every event of a refused batch, not only the NUL one
    assert result.lost == lost_events and result.delivered == 120 - lost_events
    assert lost_events > len(refused)  # clean events were lost with the one that carried the NUL
    for batch in refused:
        assert sent[batch] == 13  # retried on SendGrid's schedule (1 min doubling, 4 h cap) until 24 h had passed
    assert result.lost_by_reason == {"retry window expired": lost_events}
    assert result.time_to_delivery["max"] < H  # the clean batches went through at once
