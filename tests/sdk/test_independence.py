"""The SDK and the command-line client use the public API only: loading them loads nothing of
the server (services, store, gateway, domain)."""

from __future__ import annotations

import subprocess
import sys


def test_sdk_and_cli_client_load_no_server_module() -> None:
    code = (
        "import sys, heliograph.sdk, heliograph.cli.client; "
        "print(sorted(m for m in sys.modules if m.startswith('heliograph')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = eval(out.stdout)
    allowed = {"heliograph", "heliograph.cli", "heliograph.cli.client"}
    assert [m for m in loaded if m not in allowed and not m.startswith("heliograph.sdk")] == []
