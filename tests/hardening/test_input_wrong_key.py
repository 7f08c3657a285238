"""SendGrid's wrong-key variant keeps its throw-away key in memory: no webhook-harness-wrong-key-*.pem is left."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    from harness.receiver import ReferenceReceiver
    from harness.signing import forge_delivery, sign_delivery
    from harness.volume import VolumeGenerator
    import requests

    with ReferenceReceiver("sendgrid") as rx:
        d = next(iter(VolumeGenerator(rx.provider, seed=3).deliveries(1)))
        good = sign_delivery(rx.provider, d, rx.credentials)
        bad = forge_delivery(rx.provider, d, rx.credentials, "wrong-key")
        assert bad is not None
        statuses = [requests.post(rx.url, data=x.body, headers=x.headers, timeout=10).status_code for x in (good, bad)]
    print(statuses)
    """
)


def test_wrong_key_variant_writes_no_key_file(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[200, 401]"  # the forged signature is refused: it really is another key
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("webhook-harness-")] == []
