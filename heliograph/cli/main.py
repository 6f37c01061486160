"""Entry point of the `heliograph` command."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Sequence
from typing import Any

from heliograph.config import Config, load_config


def _server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML configuration file")
    parser.add_argument("--data-dir", help="folder for the SQLite database and files")
    parser.add_argument("--database-url", help="sqlite:///path or postgresql://...")


def _config(args: argparse.Namespace, **extra: Any) -> Config:
    return load_config(args.config, data_dir=args.data_dir, database_url=args.database_url, **extra)


def _serve(args: argparse.Namespace) -> int:
    from heliograph.logs import setup_logging
    from heliograph.server import serve_forever

    config = _config(
        args,
        host=args.host,
        port=args.port,
        bus_url=args.bus_url,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        workers=args.workers,
    )
    setup_logging(config.log_level, config.log_json)
    if config.workers > 1 and not config.reuse_port:
        from heliograph.supervisor import supervise

        asyncio.run(supervise(config, config.workers, args.config))
        return 0
    try:
        import uvloop
    except ImportError:  # not on this platform: the standard loop works too
        asyncio.run(serve_forever(config))
    else:
        uvloop.run(serve_forever(config))
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from heliograph.store.db import open_database
    from heliograph.store.migrate import migrate

    async def run() -> list[str]:
        db = open_database(_config(args).effective_database_url)
        await db.open()
        try:
            return await migrate(db)
        finally:
            await db.close()

    applied = asyncio.run(run())
    print("applied: " + ", ".join(applied) if applied else "the schema is up to date")
    return 0


def _admin(args: argparse.Namespace) -> int:
    from heliograph.cli.admin import run_admin

    return asyncio.run(run_admin(_config(args), args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="heliograph", description="Heliograph messenger")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server")
    _server_options(serve)
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8080)")
    serve.add_argument("--bus-url", help="redis://... or nats://... to join other nodes")
    serve.add_argument("--tls-cert", help="certificate chain (PEM) to serve HTTPS and WSS")
    serve.add_argument("--tls-key", help="private key (PEM) of the certificate")
    serve.add_argument("--workers", type=int, help="server processes (default 1; one per core)")
    serve.set_defaults(run=_serve)

    mig = sub.add_parser("migrate", help="apply database migrations and exit")
    _server_options(mig)
    mig.set_defaults(run=_migrate)

    admin = sub.add_parser("admin", help="manage users directly in the database")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    create = admin_sub.add_parser("create-user", help="create a user")
    create.add_argument("username")
    create.add_argument("--display-name")
    create.add_argument("--admin", action="store_true", help="make the user an administrator")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    reset = admin_sub.add_parser("reset-password", help="set a new password; ends all sessions")
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true")
    admin_sub.add_parser("list-users", help="list users")
    disable = admin_sub.add_parser("disable-user", help="disable a user and end their sessions")
    disable.add_argument("username")
    enable = admin_sub.add_parser("enable-user", help="enable a disabled user")
    enable.add_argument("username")
    from heliograph.cli import bulk

    bulk.add_commands(admin_sub)  # bulk-users, bulk-add-members (they set their own `run`)
    for command in admin_sub.choices.values():
        _server_options(command)
    admin.set_defaults(run=_admin)

    try:
        from heliograph.cli import client
    except ImportError:  # the client commands are optional while being built
        pass
    else:
        client.add_commands(sub)
    return parser


def read_password(from_stdin: bool, prompt: str = "Password: ") -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(prompt)
    if getpass.getpass("Repeat: ") != first:
        raise SystemExit("the passwords differ")
    return first


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
