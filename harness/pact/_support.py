"""pact-python, the optional extra: imported only here, and only when a pact command runs."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

from harness.errors import HarnessError

__all__ = ["INSTALL_HINT", "PactUnavailable", "pact_python"]

INSTALL_HINT = "pip install 'webhook-harness[pact]'"


class PactUnavailable(HarnessError):
    """pact-python (the ``[pact]`` extra) is not installed."""


def pact_python() -> ModuleType:
    """The ``pact`` package of pact-python 4, or a one-line error naming the extra to install."""
    # Pact's library reports anonymous usage over the network unless told not to; a test tool must not call out.
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")
    try:
        module = importlib.import_module("pact")
        getattr(module, "Pact")  # noqa: B009 - pact-python 2 had no Pact class at the top level
        importlib.import_module("pact.verifier")
    except (ImportError, AttributeError):
        raise PactUnavailable(f"Pact support needs pact-python 4: {INSTALL_HINT}") from None
    return module
