"""pact-python, the optional extra: imported only here, and only when a pact command runs; and its output kept quiet."""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import sys
from collections.abc import Iterator
from types import ModuleType

from harness.errors import HarnessError

__all__ = ["INSTALL_HINT", "PactUnavailable", "pact_python", "quiet"]

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


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Pact's verifier prints its own report and its message server logs each request: keep both off the output."""
    saved: list[tuple[int, int]] = []  # (descriptor, its copy)
    try:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(AttributeError, OSError, ValueError, io.UnsupportedOperation):
                stream.flush()
        for fd in (1, 2):
            with contextlib.suppress(OSError):
                saved.append((fd, os.dup(fd)))
        devnull = os.open(os.devnull, os.O_WRONLY)
        for fd, _ in saved:
            os.dup2(devnull, fd)
        os.close(devnull)
        with contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        for fd, copy in saved:
            os.dup2(copy, fd)
            os.close(copy)
