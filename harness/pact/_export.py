"""A provider's event types as a V4 pact of asynchronous messages, built with pact-python."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.catalog import Provider
from harness.errors import UsageError
from harness.pact._metadata import ThrowawaySigner, header_pattern
from harness.pact._rules import body_contract
from harness.pact._support import pact_python

__all__ = ["EVENT_TYPE_COMMENT", "build_pact", "example_payload", "export_pact", "load_pact", "provider_states"]

EVENT_TYPE_COMMENT = "eventType"  # the interaction's comment naming the provider's event type


def example_payload(provider: Provider, event: str) -> Any:
    """A realistic payload of ``event``: its first valid catalog sample, else a generated one."""
    for sample in provider.event(event).samples:
        if not provider.schema_errors(event, sample):
            return sample
    from harness.volume import VolumeGenerator

    return VolumeGenerator(provider, seed=0).payload(event)


def provider_states(provider: Provider, event: str) -> list[tuple[str, dict[str, Any]]]:
    """Provider states named after the profile's lifecycle steps that send ``event``, each with the state it expects."""
    found = []
    for name, steps in _lifecycles(provider):
        for number, (sent, expect) in enumerate(steps, start=1):
            if sent == event:
                state = f"{name} lifecycle, step {number} of {len(steps)}: {event}"
                found.append((state, dict(expect) if isinstance(expect, Mapping) else {}))
    return found


def _lifecycles(provider: Provider) -> list[tuple[str, list[tuple[Any, Any]]]]:
    """Each lifecycle's name and its steps' (event, expected state), from the profile's ``lifecycles``."""
    raw = provider.raw.get("lifecycles")
    if isinstance(raw, Mapping):
        return [
            (str(name), [(s.get("event"), s.get("expect")) for s in body.get("steps", []) if isinstance(s, Mapping)])
            for name, body in raw.items()
            if isinstance(body, Mapping)
        ]
    model = getattr(provider, "lifecycles", None)  # the catalog's parsed lifecycles, where it has them
    if isinstance(model, Mapping):
        return [
            (str(getattr(body, "name", name)), [(s.event, s.expect) for s in getattr(body, "steps", ())])
            for name, body in model.items()
        ]
    return []


def _events(provider: Provider, events: Sequence[str] | None) -> list[str]:
    if not events:
        return provider.ordinary_events
    for name in events:
        provider.event(name)  # an unknown one is a usage error listing the known ones
    return list(dict.fromkeys(events))


def build_pact(provider: Provider, consumer: str, events: Sequence[str] | None = None) -> Any:
    """A pact-python ``Pact`` (V4) with one asynchronous message interaction per event type of ``provider``."""
    if not consumer.strip():
        raise UsageError("The consumer name is empty: give --consumer NAME.")
    if any(c in consumer for c in "/\\") or not consumer.isprintable():
        raise UsageError(
            f"Invalid consumer name {consumer!r}: it names the pact file, so no slashes or control characters."
        )
    pact = pact_python()
    from pact import match

    built = pact.Pact(consumer, provider.id).with_specification("V4")
    with ThrowawaySigner(provider) as signer:
        for event in _events(provider, events):
            payload = example_payload(provider, event)
            contract = body_contract(provider, event, payload)
            interaction = built.upon_receiving(f"a {provider.id} {event} webhook", "Async")
            for state, expect in provider_states(provider, event):
                interaction.given(state, expect or None)
            interaction.with_body(json.dumps(contract.body), provider.content_type)
            if contract.rules:
                interaction.with_matching_rules({"body": contract.rules})
            metadata: dict[str, Any] = {"contentType": provider.content_type}
            if provider.event_type.where == "header":  # what the header carries: GitHub's family, not its action
                named = provider.events[event].headers.get(provider.event_type.name, {})
                metadata[provider.event_type.name] = named.get("value", event)
            batch = [payload] if provider.body.shape == "batch" else payload
            for name, value in signer.auth_headers(batch, [event]).items():
                metadata[name] = match.regex(value, regex=header_pattern(provider, name, value))
            interaction.with_metadata(metadata)
            interaction.set_comment(EVENT_TYPE_COMMENT, event)
            if provider.event(event).description:
                interaction.add_text_comment(provider.event(event).description)
            if provider.sources:
                interaction.add_external_reference("docs", provider.title or provider.id, provider.sources[0])
    return built


def export_pact(provider: Provider, consumer: str, out: str | Path, events: Sequence[str] | None = None) -> Path:
    """Write the pact for ``consumer`` of ``provider`` into the folder ``out``; return the file's path."""
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out {folder} is a file; give a folder for the pact.")
    pact = build_pact(provider, consumer, events)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        pact.write_file(folder, overwrite=True)
    except (OSError, RuntimeError) as exc:
        raise UsageError(f"Cannot write the pact to {folder}: {getattr(exc, 'strerror', None) or exc}.") from None
    return folder / f"{consumer}-{provider.id}.json"


def load_pact(path: str | Path) -> Any:
    """A pact-python ``Pact`` rebuilt from a V4 message pact file (an exported one, perhaps edited by its consumer).

    A consumer test feeds its messages to the handler with ``pact.verify(handler, "Async")`` and writes the pact it
    publishes with ``pact.write_file``.
    """
    pact = pact_python()
    source = Path(path)
    try:
        doc = json.loads(source.read_text(encoding="utf-8"))
        consumer, provider = doc["consumer"]["name"], doc["provider"]["name"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{source} is not a readable pact file ({exc}).") from None
    built = pact.Pact(consumer, provider).with_specification("V4")
    for entry in doc.get("interactions", []):
        if entry.get("type") != "Asynchronous/Messages":
            continue
        interaction = built.upon_receiving(entry["description"], "Async")
        for state in entry.get("providerStates", []):
            interaction.given(state["name"], state.get("params") or None)
        contents = entry.get("contents", {})
        body = contents.get("content")
        interaction.with_body(body if isinstance(body, str) else json.dumps(body), contents.get("contentType"))
        rules = {k: v for k, v in (entry.get("matchingRules") or {}).items() if k in ("body", "metadata")}
        if rules:
            interaction.with_matching_rules(rules)
        metadata = entry.get("metadata") or {}
        if metadata:
            interaction.with_metadata(dict(metadata))
        comments = entry.get("comments") or {}
        for group, refs in (comments.get("references") or {}).items():
            for name, value in refs.items():
                interaction.add_external_reference(group, name, value)
        for text in comments.get("text") or []:
            interaction.add_text_comment(text)
        for key, value in comments.items():
            if key not in ("references", "text", "testname"):
                interaction.set_comment(key, value)
    return built
