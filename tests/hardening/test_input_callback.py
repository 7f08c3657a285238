"""OCI's confirmation callback listens only on --callback-host, never on all interfaces."""

from __future__ import annotations

import pytest

from harness.checks.handshake import _Callback
from harness.errors import UsageError


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.0.0.2"])
def test_callback_binds_only_the_given_address(host: str) -> None:
    with _Callback(host) as callback:
        bound = callback.server.server_address[0]
        assert bound == ("127.0.0.1" if host == "localhost" else host) and bound != "0.0.0.0"
        assert callback.url.startswith(f"http://{host}:")


def test_a_callback_host_that_is_not_this_machine_is_one_line() -> None:
    with pytest.raises(UsageError, match=r"--callback-host 203\.0\.113\.9"):
        _Callback("203.0.113.9")  # TEST-NET-3: never an address of this machine
