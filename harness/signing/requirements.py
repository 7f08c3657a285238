"""Credentials a provider can sign with, or one line naming the options and environment variables that give them."""

from __future__ import annotations

from harness.catalog import Provider
from harness.core.settings_table import by_name
from harness.credentials import Credentials
from harness.errors import UsageError
from harness.signing import active_schemes, scheme_for

__all__ = ["check_credentials", "credential_hint", "scheme_hint"]

# Which settings give each credential field a scheme needs, for messages.
_FIELDS_FOR = {"client_secret": ("token_url", "client_id", "client_secret")}


def scheme_hint(provider: Provider, scheme: str) -> str:
    """The options and environment variables that configure one of the provider's auth schemes."""
    found = scheme_for(provider, scheme)
    return credential_hint("client_secret" if found.name == "oauth2-client-credentials" else found.secret_field)


def credential_hint(field: str) -> str:
    """The options and environment variables that give a credential: ``--secret or WEBHOOK_HARNESS_SECRET``."""
    settings = [by_name(name) for name in _FIELDS_FOR.get(field, (field,))]
    options = ", ".join(f"{s.option} {s.type.metavar}" if s.type.metavar == "USER:PASS" else s.option for s in settings)
    variables = ", ".join(s.env_var or "" for s in settings)
    return f"{options} (or {variables})"


def check_credentials(provider: Provider, creds: Credentials) -> None:
    """Credentials that can sign for this provider; ones it does not use are ignored (a stray env var is harmless)."""
    if "oauth2-client-credentials" in provider.auth.schemes and (creds.token_url or creds.client_id):
        if not (creds.token_url and creds.client_id and creds.client_secret):
            raise UsageError(
                f"OAuth needs a token URL, client id and client secret together: {credential_hint('client_secret')}."
            )
    if active_schemes(provider, creds):
        return
    needs = []
    for name in provider.auth.schemes:
        hint = scheme_hint(provider, name)
        if hint not in needs:
            needs.append(hint)
    given = [by_name(f).option for f in ("secret", "signing_key", "basic", "bearer") if getattr(creds, f)]
    extra = f" ({', '.join(given)} does not apply to {provider.id})" if given else ""
    raise UsageError(f"No credentials for {provider.id}: it needs {' or '.join(needs)}, or its config-file key{extra}.")
