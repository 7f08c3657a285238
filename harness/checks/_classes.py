"""The input-class model: who could have sent a request decides what the receiver must answer and how much it counts."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ANYONE", "INPUT_CLASSES", "PROVIDER_SENDS", "SECRET_HOLDER", "InputClass"]

PROVIDER_SENDS = "provider-sends"
ANYONE = "anyone-can-send"
SECRET_HOLDER = "secret-holder-only"


@dataclass(frozen=True, slots=True)
class InputClass:
    """One class of requests: what the receiver must answer, the default severity, and why."""

    name: str
    severity: str
    expect: str
    why: str


INPUT_CLASSES: dict[str, InputClass] = {
    c.name: c
    for c in (
        InputClass(
            PROVIDER_SENDS,
            "error",
            "a 2xx",
            "what the real provider sends, in every form it documents: anything but a 2xx is retried, then lost",
        ),
        InputClass(
            ANYONE,
            "error",
            "a 4xx",
            "requests without the secret (missing, wrong, stale, tampered or malformed credentials, unsigned "
            "garbage): a 2xx means a forgery was accepted, a 5xx a crash before authenticating",
        ),
        InputClass(
            SECRET_HOLDER,
            "warn",
            "a 4xx (a 2xx is not a finding)",
            "correctly signed requests the provider never sends (malformed, truncated, wrong type, over the cap, "
            "schema-invalid): robustness hygiene, since only the holder of the secret can make them",
        ),
    )
}
