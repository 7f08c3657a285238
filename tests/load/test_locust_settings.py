"""harness.locust.WebhookUser resolves its settings like every front end: environment and config file, one Session."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

if importlib.util.find_spec("locust") is None:  # never imported here: it would monkey-patch this process
    pytest.skip("Locust is not installed", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[2]

# Run in a child: importing Locust monkey-patches the interpreter with gevent.
CHILD = textwrap.dedent(
    """
    import json
    from locust.env import Environment
    from harness.locust import WebhookUser

    class Shop(WebhookUser):
        provider = "shopify"
        host = "http://127.0.0.1:9"

    user = Shop(Environment(user_classes=[Shop]))
    session = Shop.session()
    print(json.dumps({
        "proxy": [user.proxy_host, user.proxy_port],
        "headers": session.network.with_headers({"X-Shopify-Hmac-Sha256": "x"}),
        "timeout": [session.config.timeout, user.network_timeout],
        "secret_hidden": session.redactor("from-the-config-file") == "***",
    }))
    """
)


def test_the_locust_user_reads_the_environment_and_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "webhook-harness.toml").write_text('secret = "from-the-config-file"\ntimeout = "10s"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBHOOK_HARNESS_")}
    env.update(
        PYTHONPATH=str(ROOT),
        WEBHOOK_HARNESS_PROXY="http://127.0.0.1:3128",
        WEBHOOK_HARNESS_HEADERS="X-Gateway: blue\nX-Tenant: red",
    )
    done = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["proxy"] == ["127.0.0.1", 3128]
    assert seen["headers"] == {"X-Gateway": "blue", "X-Tenant": "red", "X-Shopify-Hmac-Sha256": "x"}
    assert seen["timeout"] == [10.0, 10.0] and seen["secret_hidden"]
