"""webhook-harness: play a webhook provider against your receiver, offline, in seconds."""

from __future__ import annotations

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
