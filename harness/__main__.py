"""``python -m harness``."""

from harness.cli import run

run()
