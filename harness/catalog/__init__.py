"""The provider catalog: profiles, event schemas and samples, built in or from a user's folder."""

from __future__ import annotations

from harness.catalog._loader import builtin_schemas_dir, load_catalog
from harness.catalog._model import (
    AuthSpec,
    BodySpec,
    Catalog,
    EventType,
    HandshakeSpec,
    HmacSpec,
    Location,
    Provider,
    RetrySpec,
)

__all__ = [
    "AuthSpec",
    "BodySpec",
    "Catalog",
    "EventType",
    "HandshakeSpec",
    "HmacSpec",
    "Location",
    "Provider",
    "RetrySpec",
    "builtin_schemas_dir",
    "load_catalog",
]
