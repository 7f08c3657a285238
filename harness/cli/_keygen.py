"""`webhook-harness keygen PROVIDER`: a signing key pair for a provider whose scheme signs with a private key.

SendGrid (P-256), Standard Webhooks v1a and Discord (Ed25519), Google Cloud Pub/Sub push (RSA, for OIDC tokens),
AWS SNS (RSA and its self-signed certificate, for certificate signatures).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from harness.cli._options import add_command_options
from harness.errors import UsageError

__all__ = ["PROVIDERS", "register", "run"]

PROVIDERS = (
    "aws-sns",
    "discord",
    "gcp-pubsub",
    "sendgrid",
    "standard-v1a",
)  # harness.signing.keys.KEYGEN's, without importing it


def register(sub: Any) -> None:
    """Add the `keygen` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "keygen", help="write a signing key (private PEM) and print the public key for the receiver"
    )
    parser.add_argument("provider", metavar="PROVIDER", choices=PROVIDERS, help=", ".join(PROVIDERS))
    add_command_options(parser)  # --out, --force
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Write the private key (mode 0600) and print the public half in the form the provider shows it."""
    from harness.signing.keys import generate_for

    path = Path(args.out or f"{args.provider}-signing-key.pem")
    if os.path.lexists(path):  # lexists: a dangling symlink counts, and is never followed
        if not args.force:
            kind = "a symlink" if path.is_symlink() else "a file"
            raise UsageError(f"{path} already exists ({kind}); pass --force to replace it.")
        if path.is_dir() and not path.is_symlink():
            raise UsageError(f"{path} is a folder; give a file path for --out.")
    private_pem, public = generate_for(args.provider)
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
    print(_PUBLIC_FORM[args.provider])
    print(public)
    return 0


_PUBLIC_FORM = {
    "sendgrid": "Public key (base64 SPKI, as SendGrid shows it; paste it into your receiver's config):",
    "standard-v1a": "Public key (whpk_<base64>, Standard Webhooks' form; paste it into your receiver's config):",
    "discord": "Public key (hex, as Discord's developer portal shows it; your receiver's PUBLIC_KEY):",
    "gcp-pubsub": "JWKS of the token-signing key (serve it as your issuer's jwks_uri, or use harness.signing.issuer):",
    "aws-sns": (
        "The harness serves this key's self-signed certificate itself, as SigningCertURL on 127.0.0.1: configure "
        "your receiver to trust that host in tests (alongside sns.<region>.amazonaws.com). The certificate:"
    ),
}
