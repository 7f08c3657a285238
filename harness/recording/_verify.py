"""Verifying a captured delivery as its provider signs it: one adapter over the registered schemes' verifiers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Protocol

from harness.catalog import Provider
from harness.credentials import Credentials

__all__ = ["Verdict", "make_verifier"]

Verdict = tuple[bool | None, str]
"""``(True, "")`` verified, ``(False, reason)`` failed, ``(None, "")`` nothing to verify with."""


class Verifier(Protocol):
    """Judges (headers, body, now, url): ``url`` is where the request was sent, for a scheme that signs it."""

    def __call__(self, headers: Mapping[str, str], body: bytes, now: float, url: str = "") -> Verdict: ...


def make_verifier(provider: Provider, creds: Credentials) -> Verifier:
    """A function judging (headers, body, now, url) with every scheme the credentials configure.

    OAuth bearer tokens are left out: the provider fetched them from the user's token endpoint, so only that
    endpoint can judge them. The verifiers are the registered schemes' own (the reference receiver runs the same).
    """
    from harness.signing import active_schemes, verifiers

    usable = replace(creds, token_url=None, client_id=None, client_secret=None)
    if not active_schemes(provider, usable):
        return _nothing
    schemes = verifiers(provider, usable, lambda token: False)
    tolerance = provider.auth.tolerance

    def verify(headers: Mapping[str, str], body: bytes, now: float, url: str = "") -> Verdict:
        for scheme in schemes:
            reason = scheme.reason(headers, body, url) or scheme.stale(scheme.view(headers, body), now, tolerance)
            if reason:
                return False, f"{scheme.name}: {reason}"
        return True, ""

    return verify


def _nothing(headers: Mapping[str, str], body: bytes, now: float, url: str = "") -> Verdict:
    return None, ""
