"""Generation throughput, ratios measured in one run.

1. Valid bodies per second on every provider's schema (an ``anyOf`` of its ordinary events, one event per body, JSON
   serialisation included): our Hypothesis strategies (``harness.strategies.payloads``) against Schemathesis 4.x, the
   live peer (the schema wrapped as an OpenAPI 3.1 request body, drawn through ``schemathesis.openapi.from_dict`` and
   ``APIOperation.as_strategy``), and against hypothesis-jsonschema's ``from_schema``, the legacy row while it still
   installs. Every body from every generator goes through the same check, Draft 2020-12 validation of the same
   self-contained schema with format checking (``AnyOfValidator``); only valid bodies count. Targets, on the
   geometric mean of the per-provider ratios: ours >= 3x Schemathesis and >= 20x hypothesis-jsonschema (a provider
   where a baseline produced no valid body at all is printed and left out of that baseline's mean). Fairness: each
   generator is built and warmed before its clock starts (ours compiles every event type's strategy, which
   ``payloads`` otherwise does on a type's first draw; the baselines build theirs whole from the one schema), every
   generator draws the same number of examples per repeat, the repeats are interleaved (a busy machine slows all
   alike), nothing is cached across examples, and the mean size of the valid bodies each one drew is printed beside
   its rate, so a generator cannot look faster by drawing smaller bodies without it showing.
2. The volume generator against a naive Faker loop on SendGrid (target >= 10x; about 30,000 events/s on a quiet
   laptop, printed but not judged: an absolute rate measures the machine, the ratio measures the code).

Run time: the baselines cost 5-20x ours per body, so they set it. The full mode draws 30 examples per generator and
repeat, with 3 interleaved repeats (medians of 3; ``--examples 100`` took 9 minutes). Every generator's first
example is its smallest body, for all alike. A generator gets ``--build-budget`` CPU seconds (60) to build its
strategy and draw 5 warm-up examples on one provider; past it, it is reported ("not built within 60 CPU s") and left
out of that provider's ratios, like a generator that fails: hypothesis-jsonschema spends minutes building GitHub's
259-type schema (``--build-budget 0`` waits for it). ``--quick`` (2 providers, 1 repeat) takes seconds.

    .venv/bin/python benchmarks/bench_generation.py [--examples 30] [--repeats 3] [--providers a,b] [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jsonschema
from _common import Targets, table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.catalog import Provider, load_catalog
from harness.strategies import payloads
from harness.volume import VolumeGenerator

QUICK_PROVIDERS = ("sendgrid", "zoom")
GENERATORS = ("ours", "schemathesis", "hypothesis-jsonschema")


def _valid_per_second(strategy: st.SearchStrategy[Any], examples: int, validator: Any) -> tuple[float, int, int, float]:
    """Run ``examples`` Hypothesis examples with json.dumps of each body: valid bodies/s, valid and drawn counts, and
    the mean JSON size of the valid bodies.

    The validity check runs after the clock stops, so it costs every generator nothing and the same.
    """
    bodies: list[Any] = []

    @settings(max_examples=examples, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def draw(body: Any) -> None:
        json.dumps(body)
        bodies.append(body)

    started = time.perf_counter()
    draw()
    elapsed = time.perf_counter() - started
    good = [body for body in bodies if validator.is_valid(body)]
    size = statistics.mean(len(json.dumps(body)) for body in good) if good else 0.0
    return len(good) / elapsed, len(good), len(bodies), size


def provider_schema(provider: Provider) -> dict[str, Any]:
    """Every ordinary event schema of the provider as one self-contained ``anyOf`` (no other file fetched)."""
    path = provider.root / "defs.schema.json"
    defs = json.loads(path.read_text()).get("$defs", {}) if path.is_file() else {}
    items = []
    for name in provider.ordinary_events:
        schema = {k: v for k, v in provider.events[name].schema.items() if k not in ("$id", "$schema")}
        items.append(_local_refs(schema, defs))
    return {"$defs": defs, "anyOf": items}


def openapi_document(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema as the JSON request body of ``POST /webhook`` in an OpenAPI 3.1 document (defs as components)."""
    body = _components({k: v for k, v in schema.items() if k != "$defs"})
    operation = {
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": {"200": {"description": "received"}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "webhook receiver", "version": "1"},
        "paths": {"/webhook": {"post": operation}},
        "components": {"schemas": _components(schema.get("$defs", {}))},
    }


def _components(value: Any) -> Any:
    """``#/$defs/x`` references pointed at ``#/components/schemas/x``."""
    if isinstance(value, list):
        return [_components(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: _components(v) for k, v in value.items()}
    if isinstance(out.get("$ref"), str):
        out["$ref"] = out["$ref"].replace("#/$defs/", "#/components/schemas/")
    return out


def strategies_for(provider: Provider, schema: dict[str, Any]) -> dict[str, Callable[[], st.SearchStrategy[Any]]]:
    """How each generator builds its strategy of one body (built lazily: a baseline that cannot is reported)."""
    import schemathesis
    from hypothesis_jsonschema import from_schema

    def peer() -> st.SearchStrategy[Any]:
        operation = schemathesis.openapi.from_dict(openapi_document(schema))["/webhook"]["POST"]
        return operation.as_strategy().map(lambda case: case.body)

    def ours() -> st.SearchStrategy[Any]:
        for name in provider.ordinary_events:  # built: what payloads() compiles on each type's first draw
            payloads(provider, name)  # compiled and cached per (provider, type)
        return payloads(provider)

    return {
        "ours": ours,
        "schemathesis": peer,
        "hypothesis-jsonschema": lambda: from_schema(schema),
    }


class _OverBudget(Exception):
    """A generator spent its build budget (CPU seconds) before its first warm-up examples."""


_SPENT: list[bool] = [False]  # set when the budget's timer fires (the exception may reach us wrapped)


def _over_budget(signum: int, frame: Any) -> None:
    _SPENT[0] = True
    raise _OverBudget


def provider_rates(
    provider: Provider, examples: int, repeats: int, budget: float = 0.0
) -> dict[str, tuple[float, int, int, float] | str]:
    """Median valid bodies/s per generator on one provider (with the last repeat's valid/drawn counts), or why not.

    With ``budget``, a generator that has not built and drawn its 5 warm-up examples within that many CPU seconds is
    reported as such and left out, the same way for every generator.
    """
    schema = provider_schema(provider)
    validator = AnyOfValidator(schema)
    out: dict[str, tuple[float, int, int, float] | str] = {}
    built: dict[str, st.SearchStrategy[Any]] = {}
    for name, make in strategies_for(provider, schema).items():
        _SPENT[0] = False
        previous = signal.signal(signal.SIGPROF, _over_budget) if budget else None
        try:
            if budget:
                signal.setitimer(signal.ITIMER_PROF, budget)
            built[name] = make()
            _valid_per_second(built[name], 5, validator)  # compile and warm before timing
        except Exception as exc:  # a baseline that cannot handle a schema is a result, not a crash
            if _SPENT[0]:
                out[name] = f"not built within {budget:.0f} CPU s"
            else:
                out[name] = f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:80] if str(exc) else ''}"
            built.pop(name, None)
        finally:
            if budget:
                signal.setitimer(signal.ITIMER_PROF, 0)
                signal.signal(signal.SIGPROF, previous)
    runs: dict[str, list[tuple[float, int, int, float]]] = {name: [] for name in built}
    for _ in range(repeats):
        for name, strategy in built.items():  # interleaved, so a busy machine slows every generator alike
            runs[name].append(_valid_per_second(strategy, examples, validator))
    for name, got in runs.items():
        out[name] = (statistics.median(r[0] for r in got), got[-1][1], got[-1][2], statistics.mean(r[3] for r in got))
    return out


class AnyOfValidator:
    """Whether a body is valid under the provider schema's ``anyOf``: valid under some event type's schema.

    The same answer as one Draft 2020-12 validator of the whole schema, without its cost: that one collects every
    error of every event type a body is not (hundreds for GitHub and Stripe) before it answers; each type's own
    validator stops at its first error.
    """

    def __init__(self, schema: dict[str, Any]) -> None:
        checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
        defs = schema.get("$defs", {})
        self.validators = [
            jsonschema.Draft202012Validator({"$defs": defs, **branch}, format_checker=checker)
            for branch in schema["anyOf"]
        ]

    def is_valid(self, body: Any) -> bool:
        """Valid under at least one event type's schema."""
        return any(validator.is_valid(body) for validator in self.validators)


def geomean(values: list[float]) -> float:
    """Geometric mean (0 when empty)."""
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else 0.0


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--providers", help="comma-separated provider ids (default: every provider in the catalog)")
    parser.add_argument(
        "--build-budget",
        type=float,
        default=60.0,
        help="CPU seconds a generator may take to build and draw its 5 warm-up examples on one provider (0: no limit)",
    )
    parser.add_argument("--quick", action="store_true", help=f"{', '.join(QUICK_PROVIDERS)} only, few examples")
    args = parser.parse_args()
    examples, repeats, n = (5, 1, 1_000) if args.quick else (args.examples, args.repeats, 100_000)
    catalog = load_catalog()
    wanted = args.providers.split(",") if args.providers else QUICK_PROVIDERS if args.quick else [p.id for p in catalog]
    warnings.simplefilter("ignore")  # the baselines' deprecation and format warnings are not results
    targets = Targets(args.quick)

    rows: list[tuple[str, ...]] = [("provider", *GENERATORS, "ours / schemathesis", "ours / h-jsonschema")]
    ratios: dict[str, list[float]] = {"schemathesis": [], "hypothesis-jsonschema": []}
    sizes: list[tuple[str, ...]] = [("provider", *GENERATORS)]
    for pid in wanted:
        rates = provider_rates(catalog.get(pid), examples, repeats, args.build_budget)
        cells, ours = [], rates["ours"]
        for name in GENERATORS:
            got = rates[name]
            cells.append(got if isinstance(got, str) else f"{got[0]:,.0f} ({got[1]}/{got[2]} valid)")
        ratio_cells = []
        for name in ratios:
            got = rates[name]
            if isinstance(ours, str) or isinstance(got, str) or got[0] == 0 or ours[0] == 0:
                ratio_cells.append("-")
                continue
            ratios[name].append(ours[0] / got[0])
            ratio_cells.append(f"{ours[0] / got[0]:.1f}x")
            targets.figure(f"{pid} ours / {name}", ours[0] / got[0], "x")
        if not isinstance(ours, str):
            targets.figure(f"{pid} ours valid bodies/s", ours[0], "bodies/s")
            targets.expect(ours[1] == ours[2], f"{pid}: every body ours draws is valid")
        else:
            targets.expect(False, f"{pid}: our strategy builds")
        rows.append((pid, *cells, *ratio_cells))
        sizes.append(
            (
                pid,
                *(
                    f"{got[3]:,.0f}" if not isinstance(got, str) else "-"
                    for got in map(rates.get, GENERATORS)
                    if got is not None
                ),
            )
        )
    peer, legacy = geomean(ratios["schemathesis"]), geomean(ratios["hypothesis-jsonschema"])
    print(f"valid bodies/s, one event per body, JSON serialisation included, {examples} examples, medians of {repeats}")
    print(table(rows))
    print("\nmean JSON bytes of the valid bodies drawn (fairness: similar sizes mean similar work per body)")
    print(table(sizes))
    print(
        f"ours / Schemathesis, geometric mean over {len(ratios['schemathesis'])} providers: {peer:.1f}x (target >= 3x)"
    )
    print(
        f"ours / hypothesis-jsonschema (legacy), geometric mean over {len(ratios['hypothesis-jsonschema'])} "
        f"providers: {legacy:.1f}x (target >= 20x)"
    )
    targets.figure("ours / schemathesis (geometric mean)", peer, "x")
    targets.figure("ours / hypothesis-jsonschema (geometric mean)", legacy, "x")
    targets.expect(peer >= 3, "strategies >= 3x Schemathesis (geometric mean over providers)")
    targets.expect(legacy >= 20, "strategies >= 20x hypothesis-jsonschema (geometric mean over providers)")

    faker = statistics.median(naive_faker(n // 20) for _ in range(repeats))
    vol = statistics.median(volume(n) for _ in range(repeats))
    print(
        "\n"
        + table(
            [
                ("SendGrid events, JSON serialisation included", "events/s (median)"),
                ("naive Faker loop (baseline)", f"{faker:,.0f}"),
                ("harness.volume.VolumeGenerator", f"{vol:,.0f}"),
            ]
        )
    )
    print(f"volume / naive Faker: {vol / faker:.1f}x (target >= 10x)")
    targets.figure("volume events/s", vol, "events/s")
    targets.figure("volume / naive Faker", vol / faker, "x")
    targets.expect(vol >= 10 * faker, "volume >= 10x naive Faker")
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
