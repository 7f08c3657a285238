"""The strict receiver's schema check, fast: a compiled (Rust) validator says "valid", jsonschema has the last word.

``jsonschema`` walks a large event schema (GitHub's push, Shopify's orders) in about a millisecond per payload, which
capped the reference receiver far below what a load run sends. ``jsonschema_rs`` compiles each event schema once
(with the provider's registry, so cross-file ``$ref`` resolve the same way) and answers ``is_valid`` in microseconds.
A payload it accepts is accepted; one it refuses, or one it cannot take, goes through the catalog's own validator
(time-limited ``pattern`` matching, Python's format checker), which decides and words the error: the fast path never
turns a payload jsonschema accepts into a 400, and every error message is unchanged. (The other way, it accepts a
valid payload nested deeper than jsonschema's recursion can follow, which jsonschema refused.)

Both check the same formats: a format the catalog's checker does not check (``uri-template``, ``date-time`` and
``uri`` without their optional packages) is left out of the schemas the compiled validator gets. Otherwise every
GitHub payload with a generated ``*_url`` that is not a URI template took the slow path, to be accepted there anyway
(and a format callback into Python would cost a third of the validation).
"""

from __future__ import annotations

import logging
from typing import Any

from harness.catalog import Provider

__all__ = ["FastSchemas", "checked_formats", "first_error", "shared_schemas", "without_formats"]

log = logging.getLogger("harness.receiver")


def first_error(provider: Provider, event_type: str, item: Any) -> str | None:
    """The first schema error as jsonschema finds it, lazily (validation stops there)."""
    try:
        error = next(iter(provider.validator(event_type).iter_errors(item)), None)
    except RecursionError:  # a recursive schema and a payload nested deeper than the validator can follow
        return "/: nested too deeply to validate"
    if error is None:
        return None
    return f"/{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"


_NOT_SCHEMAS = frozenset({"enum", "const", "examples", "default"})  # values, not subschemas: left as they are


def without_formats(node: Any, checked: frozenset[str]) -> Any:
    """A copy of a schema keeping only the ``format`` keywords that name a format in ``checked``."""
    if isinstance(node, dict):
        return {
            key: value if key in _NOT_SCHEMAS else without_formats(value, checked)
            for key, value in node.items()
            if not (key == "format" and isinstance(value, str) and value not in checked)
        }
    if isinstance(node, list):
        return [without_formats(value, checked) for value in node]
    return node


def checked_formats(provider: Provider, event_type: str) -> frozenset[str]:
    """The formats the catalog's own validator checks (the others are annotations to it)."""
    checker = provider.validator(event_type).format_checker
    return frozenset(checker.checkers) if checker is not None else frozenset()


class FastSchemas:
    """One provider's event schemas, each compiled on first use; ``None`` from :meth:`first_error` means valid."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self._compiled: dict[str, Any] = {}  # event type -> jsonschema_rs validator, or None when it could not compile
        self._registry: Any = None
        self._checked: frozenset[str] | None = None  # the formats the catalog's checker checks
        try:
            import jsonschema_rs
        except ImportError:  # not installed: jsonschema alone, as before
            self._rs: Any = None
        else:
            self._rs = jsonschema_rs

    def _validator(self, event_type: str) -> Any:
        if event_type in self._compiled:
            return self._compiled[event_type]
        rs, compiled = self._rs, None
        if rs is not None:
            event = self.provider.event(event_type)
            try:
                checked = self._checked
                if checked is None:
                    checked = self._checked = checked_formats(self.provider, event_type)
                if self._registry is None:
                    registry = self.provider.registry
                    self._registry = rs.Registry(
                        [(uri, without_formats(registry[uri].contents, checked)) for uri in registry]
                    )
                base = str(event.schema.get("$id") or event.schema_path.resolve().as_uri())
                schema = without_formats(event.schema, checked)
                compiled = rs.validator_for(schema, registry=self._registry, validate_formats=True, base_uri=base)
            except Exception as exc:  # a schema the Rust validator does not take: jsonschema alone for this event
                log.debug("no compiled validator for %s: %s", event_type, exc)
        self._compiled[event_type] = compiled
        return compiled

    def compile_all(self) -> None:
        """Compile every event type's schema now (as a receiver that has run a while has), not on first use."""
        for event_type in self.provider.events:
            self._validator(event_type)

    def first_error(self, event_type: str, item: Any) -> str | None:
        """``None`` when the event is valid, else its first error as jsonschema words it."""
        compiled = self._validator(event_type)
        if compiled is not None:
            try:
                if compiled.is_valid(item):
                    return None
            except Exception:  # a value it cannot convert (a huge integer, a deep nesting): jsonschema decides
                pass
        return first_error(self.provider, event_type, item)


_SHARED_LIMIT = 64
_SHARED: dict[int, tuple[Provider, FastSchemas]] = {}


def shared_schemas(provider: Provider) -> FastSchemas:
    """The compiled schemas of one provider profile, shared by every receiver of it in the process (a bounded cache).

    What is compiled is a pure function of the (immutable) profile, so receivers stay independent: a test suite or a
    load run that starts many receivers compiles each provider's registry and validators once, not once per receiver.
    """
    cached = _SHARED.get(id(provider))
    if cached is None or cached[0] is not provider:  # an id reused by another profile: compile afresh
        if len(_SHARED) >= _SHARED_LIMIT:
            _SHARED.clear()
        cached = _SHARED[id(provider)] = (provider, FastSchemas(provider))
    return cached[1]
