"""`make demo`: the main job against the bundled reference receiver, clean and then with one injected bug."""

from __future__ import annotations

import sys

from harness.cli import main as cli
from harness.credentials import ENV_VARS

__all__ = ["main"]


def _banner(text: str) -> None:
    print(f"\n{'#' * 100}\n# {text}\n{'#' * 100}", flush=True)


def _check(provider: str, bug: str | None) -> int:
    import os

    from harness.receiver import ReferenceReceiver

    with ReferenceReceiver(provider, bug=bug) as rx:
        creds = rx.credentials
        env = {ENV_VARS["signing_key"]: creds.signing_key, ENV_VARS["client_secret"]: creds.client_secret}
        saved = {name: os.environ.get(name) for name in env}
        os.environ.update({k: v for k, v in env.items() if v})
        try:
            args = ["check", provider, rx.url, "--probe-url", rx.probe_url, "--seed", "2026", "--max-examples", "15"]
            if creds.token_url and creds.client_id:
                args += ["--token-url", creds.token_url, "--client-id", creds.client_id]
            print(f"$ webhook-harness {' '.join(args)}", flush=True)
            return cli(args)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def main() -> int:
    """Catalog, a generated delivery, a clean check run and a run that catches a bug; 0 when all behaved."""
    _banner("The provider catalog")
    cli(["providers"])
    _banner("A generated SendGrid delivery (exact bytes: compact JSON array ending in CRLF)")
    cli(["generate", "sendgrid", "--seed", "7", "--format", "http"])
    _banner("Contract check against the reference SendGrid receiver (ECDSA signature + OAuth, SQLite, probe)")
    clean = _check("sendgrid", None)
    print(f"exit code {clean}", flush=True)
    _banner("The same receiver with a deliberate bug: it stores duplicate deliveries twice")
    buggy = _check("sendgrid", "stores-duplicates")
    print(f"exit code {buggy}", flush=True)
    ok = clean == 0 and buggy == 1
    _banner("Demo " + ("behaved as expected: clean run passed, the bug was caught" if ok else "did NOT behave"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
