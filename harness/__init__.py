"""webhook-harness: play a webhook provider against your receiver, offline, in seconds."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.catalog import Catalog, Provider, load_catalog
    from harness.core.models import Delivery, Reply
    from harness.core.registry import Registry
    from harness.credentials import Credentials
    from harness.deliveries import build_delivery
    from harness.errors import (
        ConfigError,
        HarnessError,
        ScenarioError,
        SchemaLoadError,
        TokenError,
        TransportError,
        UsageError,
    )
    from harness.violations import ContractViolation, ViolationGroup

__version__ = "0.1.0.dev0"

__all__ = [
    # Catalog
    "Catalog",
    "Provider",
    "load_catalog",
    # Deliveries
    "Credentials",
    "Delivery",
    "Reply",
    "build_delivery",
    # Extension
    "Registry",
    # Errors: the user's mistakes (exit 2) ...
    "ConfigError",
    "HarnessError",
    "ScenarioError",
    "SchemaLoadError",
    "TokenError",
    "TransportError",
    "UsageError",
    # ... and findings about the receiver (exit 1)
    "ContractViolation",
    "ViolationGroup",
    "__version__",
]

# Each public name and the module that defines it, imported on first use so the CLI starts fast.
_HOMES = {
    "Catalog": "harness.catalog",
    "Provider": "harness.catalog",
    "load_catalog": "harness.catalog",
    "Delivery": "harness.core.models",
    "Reply": "harness.core.models",
    "Registry": "harness.core.registry",
    "Credentials": "harness.credentials",
    "build_delivery": "harness.deliveries",
    "ConfigError": "harness.errors",
    "HarnessError": "harness.errors",
    "ScenarioError": "harness.errors",
    "SchemaLoadError": "harness.errors",
    "TokenError": "harness.errors",
    "TransportError": "harness.errors",
    "UsageError": "harness.errors",
    "ContractViolation": "harness.violations",
    "ViolationGroup": "harness.violations",
}


def __getattr__(name: str) -> Any:
    """Import a public name from its home module on first access (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names, as ``dir(harness)`` would list them if imported eagerly."""
    return sorted(set(globals()) | set(__all__))
