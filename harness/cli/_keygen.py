"""`webhook-harness keygen sendgrid`: a P-256 key pair for SendGrid's signed Event Webhook."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from harness.cli._options import add_command_options
from harness.errors import UsageError

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the `keygen` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "keygen", help="write a signing key (private PEM) and print the public key for the receiver"
    )
    parser.add_argument("provider", metavar="PROVIDER", choices=["sendgrid"], help="sendgrid")
    add_command_options(parser)  # --out, --force
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Write the private key (mode 0600) and print the base64 SPKI public key."""
    from harness.signing.keys import generate_keypair

    path = Path(args.out)
    if os.path.lexists(path):  # lexists: a dangling symlink counts, and is never followed
        if not args.force:
            kind = "a symlink" if path.is_symlink() else "a file"
            raise UsageError(f"{path} already exists ({kind}); pass --force to replace it.")
        if path.is_dir() and not path.is_symlink():
            raise UsageError(f"{path} is a folder; give a file path for --out.")
    private_pem, public_b64 = generate_keypair()
    # Write a new file beside the target and rename it over: --force replaces a symlink itself, not what it points at.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(temp, flags, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(private_pem)
            os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise UsageError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    print(f"Private key written to {path} (keep it secret; pass it as --signing-key or WEBHOOK_HARNESS_SIGNING_KEY).")
    print("Public key (base64 SPKI, as SendGrid shows it; paste it into your receiver's config):")
    print(public_b64)
    return 0
