"""`webhook-harness simulate` (placeholder until implemented)."""

from __future__ import annotations

import argparse
from typing import Any

from harness.errors import UsageError


def register(sub: Any) -> None:
    """Add the `simulate` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser("simulate", help="(not implemented yet)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Not implemented yet."""
    raise UsageError("'simulate' is not implemented yet.")
