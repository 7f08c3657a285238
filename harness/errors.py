"""Errors about the harness's own inputs: options, config, schemas, scenarios, an unreachable receiver.

Two families never mix. Everything here is the user's to fix and exits with code 2 and a one-line message::

    HarnessError
    ├── UsageError            a bad option or argument (also ValueError)
    ├── ConfigError           a bad config file or a missing credential
    ├── SchemaLoadError       a catalog folder, profile or event schema that does not load (also ValueError)
    ├── ScenarioError         a scenario file that does not parse or validate (also ValueError)
    ├── TokenError            an OAuth token endpoint that failed
    └── TransportError        the receiver could not be reached at all

``HarnessError`` and ``UsageError`` live in ``harness.core.errors`` (the core layer raises them) and are re-exported
here. Findings about the receiver are ``harness.violations.ContractViolation`` (an ``AssertionError``), exit code 1.
"""

from __future__ import annotations

from harness.core.errors import HarnessError, UsageError

__all__ = [
    "ConfigError",
    "HarnessWarning",
    "HarnessError",
    "ScenarioError",
    "SchemaLoadError",
    "TokenError",
    "TransportError",
    "UsageError",
]


class HarnessWarning(UserWarning):
    """Something in the user's inputs that does not stop the run (an unknown event type given to --event)."""


class ConfigError(HarnessError):
    """A bad config file, or a credential the chosen mode needs is missing."""


class SchemaLoadError(HarnessError, ValueError):
    """A provider folder, profile or event schema that cannot be loaded."""


class ScenarioError(HarnessError, ValueError):
    """A scenario file that cannot be parsed or fails validation."""


class TokenError(HarnessError):
    """The OAuth token endpoint failed; the message names the URL and what came back."""


class TransportError(HarnessError):
    """The receiver cannot be reached at all (refused connection, DNS failure)."""
