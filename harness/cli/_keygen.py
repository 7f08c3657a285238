"""`webhook-harness keygen sendgrid|aws-sns`: a P-256 key pair for SendGrid's signed Event Webhook, or an RSA key and
its self-signed certificate for AWS SNS's certificate signatures."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from harness.errors import UsageError

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the `keygen` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "keygen", help="write a signing key (private PEM) and print the public key for the receiver"
    )
    parser.add_argument("provider", metavar="PROVIDER", choices=["sendgrid", "aws-sns"], help="sendgrid or aws-sns")
    parser.add_argument(
        "--out", default=None, metavar="PATH", help="private key file (default: PROVIDER-signing-key.pem)"
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing key file")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Write the private key (mode 0600) and print the base64 SPKI public key."""
    from harness.signing import sns_keypair
    from harness.signing.keys import generate_keypair

    path = Path(args.out or f"{args.provider}-signing-key.pem")
    if os.path.lexists(path):  # lexists: a dangling symlink counts, and is never followed
        if not args.force:
            kind = "a symlink" if path.is_symlink() else "a file"
            raise UsageError(f"{path} already exists ({kind}); pass --force to replace it.")
        if path.is_dir() and not path.is_symlink():
            raise UsageError(f"{path} is a folder; give a file path for --out.")
    if args.provider == "aws-sns":
        private_pem, certificate = sns_keypair()
        public_b64 = certificate.decode()
    else:
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
    if args.provider == "aws-sns":
        print(
            "The harness serves this key's self-signed certificate itself, as SigningCertURL on 127.0.0.1: configure "
            "your receiver to trust that host in tests (alongside sns.<region>.amazonaws.com). The certificate:"
        )
    else:
        print("Public key (base64 SPKI, as SendGrid shows it; paste it into your receiver's config):")
    print(public_b64)
    return 0
