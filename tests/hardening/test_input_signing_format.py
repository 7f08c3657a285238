"""Odd but loadable signing descriptions: a secret prefix of "-" and a format naming {timestamp} twice."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from harness.catalog import load_catalog
from harness.cli import main
from harness.credentials import Credentials
from harness.signing import sign_delivery, verifiers
from harness.volume import VolumeGenerator

BUILTIN = Path(__file__).resolve().parents[2] / "schemas"


def _stripe_with(tmp_path: Path, **hmac: Any) -> Path:
    root = tmp_path / "schemas"
    shutil.copytree(BUILTIN / "stripe", root / "stripe")
    path = root / "stripe" / "profile.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["auth"]["hmac"]["stripe"].update(hmac)
    for key in [k for k, v in hmac.items() if v is None]:
        del raw["auth"]["hmac"]["stripe"][key]
    path.write_text(json.dumps(raw), encoding="utf-8")
    return root


def test_a_secret_prefix_of_dash_is_refused_in_one_line_not_a_hang(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _stripe_with(tmp_path, secret_prefix="-")
    # stripe's 216 schema files are read and checked once per process (remembered by content): done here, off the
    # clock, so the bound below times the refusal and not a cold first load on a busy machine
    load_catalog(_stripe_with(tmp_path / "plain"), cached=False)
    started = time.monotonic()
    code = main(["check", "stripe", "http://127.0.0.1:9/", "--schemas", str(root), "--max-time", "5s"])
    err = capsys.readouterr().err
    assert code == 2 and "secret_prefix" in err and len(err.strip().splitlines()) == 1
    assert time.monotonic() - started < 5


def test_a_format_with_timestamp_twice_signs_and_verifies(tmp_path: Path) -> None:
    root = _stripe_with(tmp_path, format="t={timestamp};v1={signature};at={timestamp}", separator=None)
    stripe = load_catalog(root, cached=False).get("stripe")
    creds = Credentials(secret="whsec_" + "k" * 24)
    delivery = sign_delivery(stripe, next(VolumeGenerator(stripe, seed=1).deliveries(1, "customer.created")), creds)
    header = delivery.header("Stripe-Signature") or ""
    assert header.startswith("t=") and header.count(";at=") == 1
    (scheme,) = verifiers(stripe, creds, lambda token: False)
    assert scheme.reason(delivery.headers, delivery.body, "") is None
    tampered = delivery.with_headers({"Stripe-Signature": header.replace(";at=", ";at=1")})
    assert scheme.reason(tampered.headers, tampered.body, "")  # the two timestamps must agree
