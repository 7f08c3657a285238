"""`webhook-harness send` (placeholder until implemented)."""

from __future__ import annotations

import argparse
from typing import Any

from harness.errors import UsageError


def register(sub: Any) -> None:
    """Add the `send` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser("send", help="(not implemented yet)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Not implemented yet."""
    raise UsageError("'send' is not implemented yet.")
