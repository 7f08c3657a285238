"""The walk over a JSON Schema node that both generators share: Hypothesis strategies and the seeded volume makers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from referencing._core import Resolver

from harness.errors import SchemaLoadError
from harness.generation.schema import ANNOTATIONS, branches, kinds, resolve

__all__ = ["SchemaCompiler"]

G = TypeVar("G")


class SchemaCompiler(ABC, Generic[G]):
    """One compilation into generators ``G``; each ``$ref`` target compiles once, a recursive one via ``forward``."""

    def __init__(self) -> None:
        self.refs: dict[int, G] = {}

    def compile(self, schema: Any, resolver: Resolver) -> G:
        """The generator for one schema node."""
        if schema is True:
            return self.anything()
        if schema is False or not isinstance(schema, Mapping):
            raise SchemaLoadError(f"Cannot generate a value for the schema {schema!r}.")
        if "$ref" in schema:
            return self._ref(schema, resolver)
        if "const" in schema:
            return self.constant(schema["const"])
        if "enum" in schema:
            return self.one_of_values(list(schema["enum"]))
        if "anyOf" in schema or "oneOf" in schema:
            return self.choice([self.compile(branch, resolver) for branch in branches(schema, resolver)])
        return self.choice([self.typed(schema, kind, resolver) for kind in kinds(schema)])

    def _ref(self, schema: Mapping[str, Any], resolver: Resolver) -> G:
        target, sub_resolver = resolve(schema, resolver)
        if any(k != "$ref" and k not in ANNOTATIONS for k in schema):
            return self.compile(target, sub_resolver)  # merged with siblings: a fresh node
        key = id(target)
        if key not in self.refs:
            cell: list[G] = []
            self.refs[key] = self.forward(cell)  # what a recursive reference sees while the target compiles
            cell.append(self.compile(target, sub_resolver))
            self.refs[key] = cell[0]
        return self.refs[key]

    @abstractmethod
    def anything(self) -> G:
        """Any value: what the schema ``true`` admits."""

    @abstractmethod
    def constant(self, value: Any) -> G:
        """Always ``value`` (a fresh copy of a container)."""

    @abstractmethod
    def one_of_values(self, values: list[Any]) -> G:
        """One of ``values`` (an ``enum``)."""

    @abstractmethod
    def choice(self, options: list[G]) -> G:
        """One of ``options``: the generator itself when there is only one."""

    @abstractmethod
    def forward(self, cell: list[G]) -> G:
        """Stands for ``cell[0]``, which holds the generator once it has compiled."""

    @abstractmethod
    def typed(self, schema: Mapping[str, Any], kind: str, resolver: Resolver) -> G:
        """The generator for ``schema`` read as the JSON type ``kind``."""
