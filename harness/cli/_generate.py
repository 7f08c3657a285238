"""`webhook-harness generate` (placeholder until implemented)."""

from __future__ import annotations

import argparse
from typing import Any

from harness.errors import UsageError


def register(sub: Any) -> None:
    """Add the `generate` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser("generate", help="(not implemented yet)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Not implemented yet."""
    raise UsageError("'generate' is not implemented yet.")
