"""The ``webhook-harness`` command: thin front ends that parse options and call the engine."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NoReturn, TextIO

from harness.errors import HarnessError, HarnessWarning

__all__ = ["main"]

PROG = "webhook-harness"
COMMANDS = (
    "providers",
    "generate",
    "keygen",
    "send",
    "check",
    "receiver",
    "simulate",
    "init",
    "record",
    "replay",
    "drift",
    "import",
    "load",
    "pact",
    "sequences",
)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subcommand per module in ``harness.cli``."""
    from harness import __version__

    parser = _Parser(prog=PROG, description="Play a webhook provider against your receiver.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        module = importlib.import_module(f"harness.cli._{name}")
        module.register(sub)
    return parser


class _PipeSafe:
    """A text stream whose reader may go away (``| head -1``): later writes are dropped, the run goes on.

    The command still finishes, writes its report and returns its real exit code.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        """Write, or drop the text once the reader has gone."""
        if not self.broken:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._gone()
        return len(text)

    def flush(self) -> None:
        """Flush, unless the reader has gone."""
        if not self.broken:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._gone()

    def _gone(self) -> None:
        self.broken = True
        with contextlib.suppress(OSError, ValueError, AttributeError):  # no real descriptor: nothing to redirect
            fd = self._stream.fileno()
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, fd)  # what is still buffered goes nowhere, so the interpreter's last flush succeeds
            finally:
                os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def _pipe_safe_output() -> Iterator[None]:
    """stdout and stderr that survive a closed pipe for the duration of one command."""
    saved = sys.stdout, sys.stderr
    sys.stdout = _PipeSafe(saved[0])
    sys.stderr = _PipeSafe(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 1 contract violations, 2 usage or configuration error)."""
    with _pipe_safe_output():
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        with warnings.catch_warnings():
            previous = warnings.showwarning
            warnings.showwarning = _one_line_warning(previous)
            from harness.cli._options import resolve_command_options

            resolve_command_options(args)
            code: int = args.run(args)
    except HarnessError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return code


def _one_line_warning(previous: Callable[..., None]) -> Callable[..., None]:
    """Print a warning about the user's inputs (``HarnessWarning``) as one line; others as Python does."""

    def show(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> None:
        if issubclass(category, HarnessWarning):
            print(f"{PROG}: warning: {message}", file=sys.stderr)
        else:
            previous(message, category, *args, **kwargs)

    return show


def run() -> NoReturn:
    """Console-script entry point."""
    sys.exit(main())
