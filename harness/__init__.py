"""webhook-harness: play a webhook provider against your receiver, offline, in seconds."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from harness import errors as _errors  # a few exception classes: cheap enough to import eagerly
from harness.errors import *  # noqa: F403

if TYPE_CHECKING:
    from harness.catalog import Catalog, Provider, load_catalog
    from harness.checks import CheckContext, CheckOutcome, check
    from harness.core.models import Delivery, Reply
    from harness.core.registry import Registry
    from harness.credentials import Credentials
    from harness.deliveries import build_delivery
    from harness.engine.runner import RunResult, run_check, run_checks
    from harness.engine.session import Session
    from harness.net.options import NetworkOptions
    from harness.probes.counts import HttpProbe, Probe, SqlProbe
    from harness.settings.resolve import RunConfig, resolve_run_config
    from harness.signatures import sign, signed_deliveries, verify, verify_reason
    from harness.strategies import invalid_payloads, malformed_bodies, novel_deliveries, payloads
    from harness.transport import RequestsTransport, Transport
    from harness.transport.aio import AioTransport
    from harness.transport.inprocess import InProcessTransport
    from harness.violations import ContractViolation, ViolationGroup
    from harness.volume import VolumeGenerator

__version__ = "0.1.0.dev0"

__all__ = [
    # Catalog
    "Catalog",
    "Provider",
    "load_catalog",
    # Deliveries and signatures
    "Credentials",
    "Delivery",
    "Reply",
    "build_delivery",
    "sign",
    "signed_deliveries",
    "verify",
    "verify_reason",
    # Generation: Hypothesis strategies (valid and hostile) and the fast seeded generator
    "invalid_payloads",
    "malformed_bodies",
    "novel_deliveries",
    "payloads",
    "VolumeGenerator",
    # The engine: configuration, session, checks
    "CheckContext",
    "CheckOutcome",
    "NetworkOptions",
    "RunConfig",
    "RunResult",
    "Session",
    "check",
    "resolve_run_config",
    "run_check",
    "run_checks",
    # Side-effect probes: how single-effect counts what the receiver stored (any object with count/describe)
    "Probe",
    "HttpProbe",
    "SqlProbe",
    # Transports
    "AioTransport",
    "InProcessTransport",
    "RequestsTransport",
    "Transport",
    # Extension
    "Registry",
    # Errors: the user's mistakes (exit 2) ...
    *_errors.__all__,
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
    "ContractViolation": "harness.violations",
    "sign": "harness.signatures",
    "signed_deliveries": "harness.signatures",
    "NetworkOptions": "harness.net.options",
    "Probe": "harness.probes.counts",
    "HttpProbe": "harness.probes.counts",
    "SqlProbe": "harness.probes.counts",
    "verify": "harness.signatures",
    "verify_reason": "harness.signatures",
    "invalid_payloads": "harness.strategies",
    "malformed_bodies": "harness.strategies",
    "novel_deliveries": "harness.strategies",
    "payloads": "harness.strategies",
    "VolumeGenerator": "harness.volume",
    "CheckContext": "harness.checks",
    "CheckOutcome": "harness.checks",
    "check": "harness.checks",
    "RunConfig": "harness.settings.resolve",
    "resolve_run_config": "harness.settings.resolve",
    "RunResult": "harness.engine.runner",
    "run_check": "harness.engine.runner",
    "run_checks": "harness.engine.runner",
    "Session": "harness.engine.session",
    "AioTransport": "harness.transport.aio",
    "InProcessTransport": "harness.transport.inprocess",
    "RequestsTransport": "harness.transport",
    "Transport": "harness.transport",
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
