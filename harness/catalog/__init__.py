"""The provider catalog: profiles, event schemas and samples, built in or from a user's folder."""

from __future__ import annotations

from harness.catalog import _lifecycle, _loader, _model
from harness.catalog._lifecycle import *  # noqa: F403
from harness.catalog._loader import *  # noqa: F403
from harness.catalog._model import *  # noqa: F403
from harness.catalog._patterns import safe_validator

__all__ = [*_model.__all__, *_loader.__all__, "safe_validator", *(n for n in _lifecycle.__all__ if n != "Lifecycle")]
