"""`heliograph admin`: user management straight against the database (no server needed)."""

from __future__ import annotations

import argparse
import datetime

from heliograph.bus import create_bus
from heliograph.cli.main import read_password
from heliograph.config import Config
from heliograph.domain.errors import HeliographError
from heliograph.services import accounts
from heliograph.services.context import App
from heliograph.store.db import open_database
from heliograph.store.migrate import migrate


async def run_admin(config: Config, args: argparse.Namespace) -> int:
    db = open_database(config.effective_database_url)
    await db.open()
    # Revocations must reach the nodes holding the user's sockets.
    bus = create_bus(config.bus_url or None, channel=config.bus_channel)
    await bus.start()
    try:
        await migrate(db)
        app = App(db=db, bus=bus, limits=config.limits)
        return await _run(app, args)
    except HeliographError as e:
        print(f"error: {e.code.name}: {e.message}")
        return 1
    finally:
        await bus.close()
        await db.close()


async def _run(app: App, args: argparse.Namespace) -> int:
    command = args.admin_command
    if command == "create-user":
        password = read_password(args.password_stdin)
        account = await accounts.admin_create_user(
            app, args.username, password, args.display_name, args.admin
        )
        print(f"created user {account.username} (id {account.id})")
    elif command == "reset-password":
        password = read_password(args.password_stdin, "New password: ")
        await accounts.admin_reset_password(app, args.username, password)
        print(f"password of {args.username} reset; all their sessions ended")
    elif command == "list-users":
        rows = await accounts.admin_list_users(app, 0, 10_000)
        print(f"{'id':>6}  {'username':<24} {'name':<24} {'created':<10} status")
        for r in rows:
            created = datetime.datetime.fromtimestamp(r["created_at"], datetime.UTC).date()
            status = "deleted" if r["deleted"] else "disabled" if r["disabled"] else "active"
            if r["is_admin"]:
                status += ", admin"
            print(
                f"{r['id']:>6}  {r['username'] or '-':<24} {r['display_name']:<24} "
                f"{created!s:<10} {status}"
            )
    elif command in ("disable-user", "enable-user"):
        await accounts.admin_set_disabled(app, args.username, command == "disable-user")
        print(f"{args.username} {'disabled' if command == 'disable-user' else 'enabled'}")
    return 0
