"""Hypothesis strategies for provider payloads and deliveries, valid and invalid, for use with ``@given``::

    from hypothesis import given
    from harness.strategies import deliveries

    @given(deliveries("github", "push"))
    def test_handler(delivery): ...

``provider`` is a provider id (looked up in ``catalog``, by default the built-in one) or a ``Provider``.
"""

from __future__ import annotations

from harness.strategies._compile import compile_schema
from harness.strategies._negative import (
    NOVEL_EVENT,
    InvalidPayload,
    MalformedBody,
    invalid_payloads,
    malformed_bodies,
    novel_deliveries,
)
from harness.strategies._negative import _required_paths as required_paths
from harness.strategies._negative import _set as replace_member
from harness.strategies._negative import _wrong_type as wrong_type_value
from harness.strategies._valid import deliveries, event_types, payloads

__all__ = [
    "NOVEL_EVENT",
    "InvalidPayload",
    "MalformedBody",
    "compile_schema",
    "deliveries",
    "event_types",
    "invalid_payloads",
    "malformed_bodies",
    "novel_deliveries",
    "payloads",
    # building blocks of the fixed invalid cases (the body checks use them)
    "replace_member",
    "required_paths",
    "wrong_type_value",
]
