"""The Pact bridge: a provider's webhooks as a V4 message pact, and consumer pacts verified against the provider.

pact-python (the ``[pact]`` extra) is imported only when one of these runs; nothing else in the package needs it.
"""

from __future__ import annotations

from harness.pact._export import build_pact, example_payload, export_pact, load_pact, provider_states
from harness.pact._report import render_result, to_json, to_junit
from harness.pact._rules import BodyContract, body_contract, required_only
from harness.pact._support import INSTALL_HINT, PactUnavailable, pact_python
from harness.pact._verify import Finding, InteractionResult, VerifyResult, pact_files, verify_pacts

__all__ = [
    "INSTALL_HINT",
    "BodyContract",
    "Finding",
    "InteractionResult",
    "PactUnavailable",
    "VerifyResult",
    "body_contract",
    "build_pact",
    "example_payload",
    "export_pact",
    "load_pact",
    "pact_files",
    "pact_python",
    "provider_states",
    "render_result",
    "required_only",
    "to_json",
    "to_junit",
    "verify_pacts",
]
