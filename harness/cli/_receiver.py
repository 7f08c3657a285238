"""`webhook-harness receiver` (placeholder until implemented)."""

from __future__ import annotations

import argparse
from typing import Any

from harness.errors import UsageError


def register(sub: Any) -> None:
    """Add the `receiver` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser("receiver", help="(not implemented yet)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Not implemented yet."""
    raise UsageError("'receiver' is not implemented yet.")
