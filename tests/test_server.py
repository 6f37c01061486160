"""Operating the server: TLS, metrics, graceful shutdown, configuration."""

from __future__ import annotations

import asyncio
import datetime
import ssl
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from heliograph.config import load_config
from heliograph.gateway.methods import METHODS, Context
from heliograph.server import Server
from tests.conftest import base_url


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_serves_https_and_wss_with_a_configured_certificate(
    make_config: Any, tmp_path: Path
) -> None:
    cert, key = _self_signed(tmp_path)
    server = Server(make_config(tls_cert=str(cert), tls_key=str(key)))
    await server.start()
    try:
        trust = ssl.create_default_context(cafile=str(cert))
        async with aiohttp.ClientSession() as http:
            url = f"https://127.0.0.1:{server.port}"
            async with http.get(f"{url}/healthz", ssl=trust) as r:
                assert r.status == 200
            async with http.post(
                f"{url}/api/signUp",
                ssl=trust,
                json={"username": "tlsuser", "password": "long-enough", "display_name": "T"},
            ) as r:
                token = (await r.json())["result"]["token"]
            async with http.ws_connect(f"wss://127.0.0.1:{server.port}/api/ws", ssl=trust) as ws:
                await ws.send_json({"type": "auth", "token": token})
                ready = await ws.receive_json(timeout=5)
                assert ready["type"] == "ready"
            # Plain HTTP on the TLS port does not work.
            with pytest.raises(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{server.port}/healthz") as r:
                    await r.read()
    finally:
        await server.stop()


async def test_metrics_count_requests_by_method(server: Server) -> None:
    async with aiohttp.ClientSession(base_url(server)) as http:
        async with http.post(
            "/api/signUp",
            json={"username": "metrics1", "password": "long-enough", "display_name": "M"},
        ) as r:
            assert r.status == 200, await r.text()
        async with http.post("/api/getMe", json={}) as r:
            assert r.status == 401
        async with http.get("/metrics") as r:
            text = await r.text()
    assert 'heliograph_requests_total{method="signUp",outcome="ok"} 1.0' in text
    assert 'heliograph_requests_total{method="getMe",outcome="AUTH_REQUIRED"} 1.0' in text
    assert "heliograph_request_seconds_bucket" in text
    assert "heliograph_websocket_connections" in text


async def test_shutdown_lets_requests_in_flight_finish(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = asyncio.Event()
    original = METHODS["getMe"]

    async def slow_get_me(ctx: Context, params: Any) -> Any:
        started.set()
        await asyncio.sleep(0.5)
        return await original.handler(ctx, params)

    monkeypatch.setitem(
        METHODS,
        "getMe",
        original.__class__(
            **{**{f: getattr(original, f) for f in original.__slots__}, "handler": slow_get_me}
        ),
    )
    async with aiohttp.ClientSession(base_url(server)) as http:
        async with http.post(
            "/api/signUp", json={"username": "slow", "password": "long-enough", "display_name": "S"}
        ) as r:
            token = (await r.json())["result"]["token"]

        async def call() -> tuple[int, Any]:
            async with http.post(
                "/api/getMe", json={}, headers={"Authorization": f"Bearer {token}"}
            ) as r:
                return r.status, await r.json()

        in_flight = asyncio.create_task(call())
        await asyncio.wait_for(started.wait(), 5)
        await server.stop()
        status, body = await in_flight
    assert status == 200
    assert body["result"]["username"] == "slow"
    # stop() is idempotent enough for the fixture's own stop afterwards
    server.gateway.closing = True


def test_configuration_layers(tmp_path: Path) -> None:
    toml = tmp_path / "h.toml"
    toml.write_text(
        'port = 9001\nhost = "0.0.0.0"\n[limits]\nmessage_length = 100\n'
        "[rate_limits.send]\nper_second = 3\nburst = 4\n"
    )
    config = load_config(toml, env={"HELIOGRAPH_PORT": "9002"}, host=None)
    assert config.port == 9002  # the environment beats the file
    assert config.host == "0.0.0.0"
    assert config.limits.message_length == 100
    assert config.rates["send"].burst == 4
    assert load_config(toml, env={}, port=9003).port == 9003  # a flag beats both
    bad = tmp_path / "bad.toml"
    bad.write_text("prot = 1\n")
    with pytest.raises(ValueError, match="prot"):
        load_config(bad, env={})
