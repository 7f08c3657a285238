"""`webhook-harness init PROVIDER`: a commented starter config file that the CLI and the pytest plugin both read."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from harness.cli._options import add_command_options
from harness.errors import UsageError

__all__ = ["register", "render_starter", "run"]

_CREDENTIAL_HELP = {
    "secret": "shared secret",
    "signing_key": "path to the ECDSA P-256 private key PEM (webhook-harness keygen sendgrid)",
    "client_secret": "OAuth2 client secret",
    "basic": "HTTP Basic USER:PASS",
    "bearer": "static bearer token",
}


def register(sub: Any) -> None:
    """Add the `init` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "init", help="write a commented starter webhook-harness.toml for a provider"
    )
    parser.add_argument("provider", metavar="PROVIDER")
    add_command_options(parser)  # --out, --force
    parser.set_defaults(run=run)


def render_starter(provider_id: str) -> str:
    """The starter file's text: every key the provider uses, commented, secrets left to environment variables."""
    from harness.catalog import load_catalog
    from harness.credentials import ENV_VARS
    from harness.signing import scheme_for

    provider = load_catalog().get(provider_id)
    fields = []
    for name in provider.auth.schemes:
        field = scheme_for(provider, name).secret_field
        if field not in fields:
            fields.append(field)
    lines = [
        f"# webhook-harness config for {provider.id}: read by `webhook-harness check` and the pytest plugin alike.",
        "# Precedence: command-line option > environment variable > this file > default. Reference: docs/config.md",
        "",
        f'provider = "{provider.id}"',
        '# url = "https://staging.example.com/webhooks"  # the receiver under test',
        "",
        "# Credentials: keep secrets out of this file; set the environment variables in CI instead.",
    ]
    for field in fields:
        env = ENV_VARS.get(field, "")
        lines.append(f'# {field} = "..."  # {_CREDENTIAL_HELP.get(field, field)}; or env {env}')
        if field == "client_secret":
            lines += ['# token_url = "https://receiver.example.com/oauth/token"', '# client_id = "..."']
    lines += [
        "",
        "# Side-effect probe: how many times was an event stored? Enables the idempotency checks.",
        '# probe_url = "https://staging.example.com/probe/{event_id}"',
        '# probe_db = "postgresql://user@db/app"',
        '# probe_sql = "SELECT count(*) FROM events WHERE event_id = :event_id"',
        "",
        f'# timeout = "{int(provider.timeout)}s"  # receiver timeout (default: the provider\'s)',
        "# seed = 1234                 # replay a run exactly",
        "# max_examples = 20           # fuzzed examples per fuzzing check",
        "",
        "# Per-check settings: severity is error (fails the run), warn (reported only) or off.",
        "# [checks.handshake]",
        '# severity = "warn"',
        "",
        f"# Profile overrides for {provider.id} (any profile key, see docs/catalog-format.md):",
        f"# [providers.{provider.id}]",
        f'# timeout = "{int(provider.timeout)}s"',
        "",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Write the starter file; an existing one is kept unless --force."""
    text = render_starter(args.provider)
    path = Path(args.out)
    if (path.exists() or path.is_symlink()) and not args.force:
        raise UsageError(f"{path} already exists; pass --force to replace it.")
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | (0 if args.force else os.O_EXCL)
        with os.fdopen(os.open(path, flags, 0o644), "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise UsageError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    print(f"Wrote {path}: edit it, then run `webhook-harness check URL` (or set url in it: `webhook-harness check`).")
    return 0
