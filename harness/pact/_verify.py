"""Verify consumer pacts for a provider that never will: send what it really sends, let Pact's engine judge.

Each message interaction whose provider is in the catalog is copied once per generated example into one pact that
pact-python's ``Verifier`` replays through a message handler; the handler answers each copy with one body the
provider may send for that event type (catalog samples, the same with only the required fields, Hypothesis draws
and the seeded volume generator's payloads), signed with throw-away credentials. Pact's mismatches come back per
interaction and field, with the reason in the provider's terms where its schema says why.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import random
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.catalog import Catalog, Provider
from harness.core.files import read_text
from harness.core.pointers import MISSING, resolve_pointer
from harness.errors import HarnessError, UsageError
from harness.pact._examples import batch_with, provider_examples
from harness.pact._export import EVENT_TYPE_COMMENT
from harness.pact._metadata import ThrowawaySigner
from harness.pact._schema import describe_mismatch
from harness.pact._support import pact_python, quiet

__all__ = ["Finding", "InteractionResult", "VerifyResult", "pact_files", "verify_pacts"]

_SEP = " [example "
_ASYNC = "Asynchronous/Messages"


@dataclass(frozen=True)
class Finding:
    """One unmet expectation: where (a body path or a metadata key) and why."""

    field: str
    reason: str
    examples: int = 1  # how many of the provider's examples it failed on

    def render(self) -> str:
        """One line for the terminal."""
        seen = f" ({self.examples} examples)" if self.examples > 1 else ""
        return f"{self.field}: {self.reason}{seen}"


@dataclass
class InteractionResult:
    """The verdict on one consumer interaction."""

    pact: str
    consumer: str
    provider: str
    description: str
    event_type: str | None = None
    status: str = "passed"  # passed | failed | skipped
    examples: int = 0
    findings: list[Finding] = field(default_factory=list)
    note: str = ""
    pending: bool = False  # the consumer marked it pending: its findings are reported, the run does not fail on them


@dataclass
class VerifyResult:
    """Everything ``pact verify`` found."""

    results: list[InteractionResult]
    seed: int
    duration: float = 0.0

    @property
    def exit_code(self) -> int:
        """1 when an expectation is unmet (outside interactions the consumer marked pending), else 0."""
        return 1 if any(r.status == "failed" and not r.pending for r in self.results) else 0


def pact_files(target: str | Path) -> list[Path]:
    """The pact files at ``target``: the file itself, or the ``*.json`` files of a folder."""
    path = Path(target)
    if path.is_dir():
        found = sorted(p for p in path.glob("*.json") if p.is_file())
        if not found:
            raise UsageError(f"No pact files (*.json) in {path}.")
        return found
    if not path.exists():
        raise UsageError(f"No pact file or folder at {path}.")
    return [path]


def _load(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(read_text(path, UsageError, what="pact file", max_bytes=64 * 1024 * 1024))
    except ValueError as exc:
        raise UsageError(f"{path} is not JSON: {exc}.") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("provider"), Mapping):
        raise UsageError(f"{path} is not a pact file: it names no provider.")
    interactions = doc.get("interactions", doc.get("messages"))
    if not isinstance(interactions, list):
        raise UsageError(f"{path} is not a pact file: it has no interactions.")
    for number, interaction in enumerate(interactions, start=1):
        if not isinstance(interaction, dict):
            raise UsageError(f"{path}: interaction {number} is not a JSON object.")
    return doc


def _messages(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(doc.get("interactions", doc.get("messages")) or [])


def _contents(interaction: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The expected body (parsed) and metadata of a V4 or V3 message interaction."""
    contents = interaction.get("contents")
    body = contents.get("content") if isinstance(contents, Mapping) and "content" in contents else contents
    if isinstance(body, str):
        with contextlib.suppress(ValueError):
            body = json.loads(body)
    metadata = interaction.get("metadata") or interaction.get("metaData") or {}
    return body, dict(metadata) if isinstance(metadata, Mapping) else {}


def _header(metadata: Mapping[str, Any], name: str) -> Any:
    return next((v for k, v in metadata.items() if k.lower() == name.lower()), None)


def _event_of(provider: Provider, interaction: Mapping[str, Any]) -> tuple[str | None, str]:
    """The event type an interaction expects, and where it says so."""
    body, metadata = _contents(interaction)
    comments = interaction.get("comments")
    if isinstance(comments, Mapping) and isinstance(comments.get(EVENT_TYPE_COMMENT), str):
        return comments[EVENT_TYPE_COMMENT], f"comment {EVENT_TYPE_COMMENT}"
    where = provider.event_type
    if where.where == "header":
        value = _header(metadata, where.name)
        if isinstance(value, str):  # GitHub's family header, qualified by the body's action where the catalog is
            item = body if isinstance(body, dict) else None
            return provider.qualified_event_type(value, item) or value, f"metadata {where.name}"
    else:
        item = body[0] if provider.body.shape == "batch" and isinstance(body, list) and body else body
        value = resolve_pointer(item, where.pointer) if isinstance(item, dict) else MISSING
        if isinstance(value, str):
            prefix = "$[0]" if provider.body.shape == "batch" else "$"
            return value, prefix + where.pointer.replace("/", ".")
    description = str(interaction.get("description", ""))
    named = [e for e in provider.events if e in description.split() or e == description]
    if len(named) == 1:
        return named[0], "description"
    return None, where.describe()


@dataclass
class _Planned:
    result: InteractionResult
    interaction: dict[str, Any]
    provider: Provider | None
    content_type: str = ""
    bodies: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)


def _plan(path: Path, doc: Mapping[str, Any], catalog: Catalog, provider_id: str | None) -> list[_Planned]:
    """Each interaction of one pact, with its provider and event type, or the reason it is skipped or fails as is."""
    consumer = str((doc.get("consumer") or {}).get("name", ""))
    named = str(doc["provider"].get("name", ""))
    wanted = (provider_id or named).lower()
    provider = catalog.providers.get(wanted)
    planned: list[_Planned] = []
    for interaction in _messages(doc):
        description = str(interaction.get("description", ""))
        result = InteractionResult(str(path), consumer, named, description, pending=interaction.get("pending") is True)
        planned.append(_Planned(result, interaction, provider))
        if provider is None:
            result.status, result.note = "skipped", f"provider {named!r} is not in the catalog (see --provider)"
            continue
        kind = interaction.get("type", _ASYNC if "contents" in interaction else "")
        if kind != _ASYNC:
            result.status, result.note = "skipped", f"not an asynchronous message ({kind or 'HTTP'}): webhooks are"
            continue
        event, where = _event_of(provider, interaction)
        result.event_type = event
        if event is None:
            result.status = "failed"
            result.findings.append(Finding(where, f"the interaction names no event type {provider.id} sends"))
            continue
        if event not in provider.events:
            names = list(provider.events)
            families = list(dict.fromkeys(n.split(".")[0] for n in names))  # GitHub's event.action: match the event
            close = set(difflib.get_close_matches(str(event).split(".")[0], families, n=3, cutoff=0.6))
            near = [n for n in names if n.split(".")[0] in close]
            shown = list(dict.fromkeys([*near, *names]))[:10]  # the nearest names first
            known = ", ".join(shown) + (f", ... {len(names)} in all" if len(names) > 10 else "")
            result.status = "failed"
            result.findings.append(Finding(where, f"{provider.id} has no event type {event!r} (it sends: {known})"))
            continue
    return planned


def _sign_all(planned: list[_Planned], count: int, rng: random.Random) -> None:
    """Give each verifiable interaction its examples: exact provider bytes and signed headers as metadata."""
    signers: dict[str, ThrowawaySigner] = {}
    try:
        for item in planned:
            if item.result.status != "passed":
                continue
            provider, event = item.provider, str(item.result.event_type)
            if provider is None:
                continue
            item.content_type = provider.content_type
            signer = signers.get(provider.id) or signers.setdefault(provider.id, ThrowawaySigner(provider))
            _, expected = _contents(item.interaction)
            for number, payload in enumerate(provider_examples(provider, event, count, rng)):
                if provider.body.shape == "batch":
                    pairs = batch_with(provider, event, payload, number, rng)
                    delivery = signer.delivery([p for _, p in pairs], [e for e, _ in pairs])
                else:
                    delivery = signer.delivery(payload, [event])
                metadata = {"contentType": provider.content_type, **delivery.headers}
                for key in expected:  # the consumer's spelling of each header the provider sends
                    value = _header(delivery.headers, key)
                    if value is not None:
                        metadata[key] = value
                item.bodies.append((delivery.body, metadata))
            item.result.examples = len(item.bodies)
    finally:
        for signer in signers.values():
            signer.close()


def _as_v4(interaction: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a message interaction in V4's form (a V3 message pact's ``messages`` entry converted)."""
    copy = {k: v for k, v in interaction.items() if k not in ("key", "_id", "interactionMarkup")}
    if "type" in copy:
        return copy
    metadata = copy.get("metadata") or copy.pop("metaData", None) or {}
    copy["type"] = _ASYNC
    copy["metadata"] = metadata
    content_type = _header(metadata, "contentType") or "application/json"
    copy["contents"] = {"content": copy.get("contents"), "contentType": content_type, "encoded": False}
    return copy


def _run_verifier(planned: list[_Planned], folder: Path) -> dict[str, Any]:
    """One Pact verification over every example of every verifiable interaction; its JSON results."""
    pact = pact_python()
    answers: dict[str, dict[str, Any]] = {}
    by_pact: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for index, item in enumerate(planned):
        if item.result.status != "passed" or not item.bodies:
            continue
        result = item.result
        for number, (body, metadata) in enumerate(item.bodies):
            copy = _as_v4(item.interaction)
            name = f"{index}:{result.description}{_SEP}{number}]"
            copy["description"] = name
            copy["pending"] = False
            answers[name] = {"contents": body, "metadata": metadata, "content_type": item.content_type}
            by_pact.setdefault((result.consumer, result.provider, result.pact), []).append(copy)
    if not answers:
        return {}
    for number, ((consumer, provider, _), interactions) in enumerate(by_pact.items()):
        doc = {
            "consumer": {"name": consumer},
            "provider": {"name": provider},
            "interactions": interactions,
            "metadata": {"pactSpecification": {"version": "4.0"}},
        }
        (folder / f"pact-{number}.json").write_text(json.dumps(doc), encoding="utf-8")

    def produce(name: str, metadata: dict[str, Any] | None = None) -> Any:
        return answers[name]

    providers = {key[1] for key in by_pact}
    outcome: dict[str, Any] = {"interactionResults": [], "errors": []}
    for provider in sorted(providers):
        verifier = pact.Verifier(provider, host="127.0.0.1").message_handler(produce)
        for number, key in enumerate(by_pact):
            if key[1] == provider:
                verifier.add_source(folder / f"pact-{number}.json")
        with quiet():
            try:
                verifier.verify()
            except RuntimeError:
                pass  # a failed verification; its results say why
        found = verifier.results
        if not found.get("interactionResults") and found.get("result") is not True:
            raise HarnessError(f"Pact's verifier could not run: {verifier.output(strip_ansi=True).strip()[-300:]}")
        outcome["interactionResults"].extend(found.get("interactionResults", []))
    return outcome


def _judge(planned: list[_Planned], outcome: Mapping[str, Any]) -> None:
    """Turn Pact's per-example mismatches into findings per interaction and field."""
    tallies: dict[int, dict[str, tuple[str, int]]] = {}  # interaction -> field -> (first reason, examples)
    judged: dict[int, int] = {}
    for entry in outcome.get("interactionResults", []):
        name = str(entry.get("description", ""))
        index = int(name.split(":", 1)[0]) if name.split(":", 1)[0].isdigit() else -1
        if not 0 <= index < len(planned):
            continue
        judged[index] = judged.get(index, 0) + 1
        mismatch = entry.get("mismatch") or {}
        item = planned[index]
        if item.provider is None:
            continue
        for found in mismatch.get("mismatches", []) if isinstance(mismatch, Mapping) else []:
            for place, reason in describe_mismatch(item.provider, str(item.result.event_type), found):
                _tally(tallies.setdefault(index, {}), place, reason)
        if mismatch and not mismatch.get("mismatches"):
            _tally(tallies.setdefault(index, {}), "message", str(mismatch.get("message") or mismatch))
    for index, item in enumerate(planned):
        if item.result.status == "passed" and judged.get(index, 0) < len(item.bodies):
            seen = judged.get(index, 0)
            text = f"Pact's verifier judged {seen} of {len(item.bodies)} examples: not verified"
            _tally(tallies.setdefault(index, {}), "verification", text)
    for index, counts in tallies.items():
        result = planned[index].result
        result.status = "failed"
        found = [Finding(place, reason, n) for place, (reason, n) in counts.items()]
        result.findings.extend(sorted(found, key=lambda f: (-f.examples, f.field)))  # Pact's order is a hash map's


def _tally(counts: dict[str, tuple[str, int]], place: str, reason: str) -> None:
    """Count one example failing at ``place``; its first reason stands for all (Pact quotes each actual value)."""
    first, seen = counts.get(place, (reason if len(reason) <= 300 else reason[:297] + "...", 0))
    counts[place] = (first, seen + 1)


def verify_pacts(
    target: str | Path,
    catalog: Catalog,
    *,
    provider: str | None = None,
    examples: int = 20,
    seed: int | None = None,
) -> VerifyResult:
    """Verify every message interaction of the pacts at ``target`` against what the catalog's provider sends."""
    started = time.monotonic()
    if provider is not None:
        catalog.get(provider.lower())  # an unknown --provider is a usage error listing the known ones
    pact_python()  # fail before any work when the extra is missing
    chosen_seed = random.randrange(2**32) if seed is None else seed
    rng = random.Random(chosen_seed)
    planned: list[_Planned] = []
    for path in pact_files(target):
        planned.extend(_plan(path, _load(path), catalog, provider))
    if not any(p.result.status != "skipped" for p in planned):
        names = sorted({p.result.provider for p in planned}) or ["none"]
        raise UsageError(
            f"No message interaction to verify: the pacts name provider {', '.join(names)}; "
            "give --provider ID for one in the catalog."
        )
    _sign_all(planned, examples, rng)
    with tempfile.TemporaryDirectory(prefix="webhook-harness-pact-verify-") as folder:
        _judge(planned, _run_verifier(planned, Path(folder)))
    return VerifyResult([p.result for p in planned], chosen_seed, time.monotonic() - started)
