"""Generation throughput on the SendGrid schema, JSON serialisation included, ratios measured in one run:
our Hypothesis strategies vs hypothesis-jsonschema's from_schema (target >= 5x), and the volume generator vs a
naive Faker loop (target >= 10x; about 30,000 events/s on a quiet laptop, printed but not judged: an absolute
rate measures the machine, the ratio measures the code).

    .venv/bin/python benchmarks/bench_generation.py [--examples 300] [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Targets, table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.catalog import load_catalog
from harness.strategies import payloads
from harness.volume import VolumeGenerator


def _events_per_second(strategy: st.SearchStrategy[Any], examples: int) -> float:
    """Run ``examples`` Hypothesis examples of batches; events/s with json.dumps of each batch."""
    count = [0]

    @settings(max_examples=examples, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def draw(batch: list[Any]) -> None:
        json.dumps(batch)
        count[0] += len(batch)

    started = time.perf_counter()
    draw()
    return count[0] / (time.perf_counter() - started)


def sendgrid_batch_schema() -> dict[str, Any]:
    """Every SendGrid event schema as one self-contained array schema (from_schema fetches no other files)."""
    provider = load_catalog().get("sendgrid")
    defs = json.loads((provider.root / "defs.schema.json").read_text()).get("$defs", {})
    items = []
    for name in provider.ordinary_events:
        schema = {k: v for k, v in provider.events[name].schema.items() if k not in ("$id", "$schema")}
        items.append(_local_refs(schema, defs))
    return {"$defs": defs, "type": "array", "items": {"anyOf": items}, "minItems": 1, "maxItems": 5}


def _local_refs(value: Any, defs: dict[str, Any]) -> Any:
    """The schema with ``../defs.schema.json#/$defs/...`` references pointed at the root's own ``$defs``.

    hypothesis-jsonschema cannot resolve a ``$ref`` that has sibling keywords when they disagree with the target
    (SendGrid's bounce and dropped narrow ``status`` to ``^[45]...`` over the shared ``^[245]...``). Such a node is
    inlined: the target with the siblings over it. Every sibling in the catalog narrows its target, so the inlined
    node admits exactly the same values, and the baseline pays for no ``allOf`` filter we introduced.
    """
    if isinstance(value, list):
        return [_local_refs(v, defs) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: _local_refs(v, defs) for k, v in value.items() if k != "$ref"}
    ref = value.get("$ref")
    if not isinstance(ref, str):
        return out
    local = "#" + ref.split("#", 1)[1] if ref.startswith("../defs") else ref
    siblings = {k: v for k, v in out.items() if k not in _ANNOTATIONS}
    if not siblings:
        return {"$ref": local}
    target = defs[local.removeprefix("#/$defs/")]
    return {**_local_refs(target, defs), **siblings}


_ANNOTATIONS = frozenset({"title", "description", "examples", "default", "$comment", "deprecated"})


def naive_faker(n: int) -> float:
    """What a user writes by hand: a Faker call per field."""
    from faker import Faker

    fake = Faker()
    started = time.perf_counter()
    for _ in range(n):
        event = {
            "email": fake.email(),
            "timestamp": int(time.time()),
            "event": fake.random_element(["processed", "delivered", "open", "click", "bounce"]),
            "sg_event_id": fake.pystr(min_chars=22, max_chars=22),
            "sg_message_id": fake.pystr(min_chars=30, max_chars=40),
            "smtp-id": f"<{fake.pystr()}@{fake.domain_name()}>",
            "category": fake.word(),
            "useragent": fake.user_agent(),
            "ip": fake.ipv4(),
            "url": fake.url(),
        }
        json.dumps(event)
    return n / (time.perf_counter() - started)


def volume(n: int) -> float:
    gen = VolumeGenerator("sendgrid", seed=1)
    list(gen.events(1000))  # warm the compiled schemas and Faker pools
    started = time.perf_counter()
    for _, payload in gen.events(n):
        json.dumps(payload)
    return n / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    examples, repeats, n = (60, 1, 20_000) if args.quick else (args.examples, args.repeats, 200_000)
    from hypothesis_jsonschema import from_schema

    baseline_strategy = from_schema(sendgrid_batch_schema())
    ours_strategy = st.lists(payloads("sendgrid"), min_size=1, max_size=5)
    _events_per_second(ours_strategy, 5)  # compile and warm both before timing
    _events_per_second(baseline_strategy, 5)
    rates: dict[str, list[float]] = {"from_schema": [], "ours": [], "faker": [], "volume": []}
    for _ in range(repeats):
        rates["from_schema"].append(_events_per_second(baseline_strategy, examples))
        rates["ours"].append(_events_per_second(ours_strategy, examples))
        rates["faker"].append(naive_faker(n // 20))
        rates["volume"].append(volume(n))
    import statistics

    med = {k: statistics.median(v) for k, v in rates.items()}
    rows = [
        ("generator", "events/s (median)"),
        ("hypothesis-jsonschema from_schema (baseline)", f"{med['from_schema']:,.0f}"),
        ("harness.strategies.payloads", f"{med['ours']:,.0f}"),
        ("naive Faker loop (baseline)", f"{med['faker']:,.0f}"),
        ("harness.volume.VolumeGenerator", f"{med['volume']:,.0f}"),
    ]
    print(f"SendGrid events, JSON serialisation included, medians of {repeats}")
    print(table(rows))
    print(f"strategies / from_schema: {med['ours'] / med['from_schema']:.1f}x (target >= 5x)")
    print(f"volume / naive Faker:     {med['volume'] / med['faker']:.1f}x (target >= 10x)")
    print(json.dumps({k: round(v) for k, v in med.items()}))
    targets = Targets(args.quick)
    for name, rate in med.items():
        targets.figure(f"{name} events/s", rate, "events/s")
    targets.figure("strategies / from_schema", med["ours"] / med["from_schema"], "x")
    targets.figure("volume / naive Faker", med["volume"] / med["faker"], "x")
    targets.expect(med["ours"] >= 5 * med["from_schema"], "strategies >= 5x from_schema")
    targets.expect(med["volume"] >= 10 * med["faker"], "volume >= 10x naive Faker")
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
