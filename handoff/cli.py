"""``neuvo user``: advisor accounts from the terminal (the first admin, and scripted setups).

Passwords are never taken from the command line, where they would sit in the shell's
history and in every process listing: they are asked twice at a terminal, or read from
standard input with ``--password-stdin``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bot.cli.server_commands import _config, add_db_flag
from bot.storage.database import async_url, create_engine, ensure_current
from nlu.errors import NeuvoError

from .accounts import ROLES, AccountError, AccountStore

T = TypeVar("T")


class PasswordInputError(NeuvoError, ValueError):
    """The password could not be read, or the two entries differ."""


def register(commands: Any) -> None:
    """Add ``neuvo user add|set|list`` to the CLI."""
    user = commands.add_parser("user", help="advisor accounts: add, change, list")
    actions = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="add an account (password asked twice, or --password-stdin)")
    add.add_argument("name", help="login name: lower-case letters, digits, '.', '_' or '-'")
    add.add_argument("--role", choices=ROLES, default="advisor")
    add.add_argument("--team", action="append", default=[], help="a team id from config.yml (repeat for more)")
    add.add_argument("--display-name", default=None, help="what citizens and colleagues see (default: the name)")
    add.add_argument("--capacity", type=int, default=None, help="conversations held at once")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add_db_flag(add)
    add.set_defaults(handler=run_add)

    change = actions.add_parser("set", help="change an account")
    change.add_argument("name")
    change.add_argument("--role", choices=ROLES)
    change.add_argument("--team", action="append", default=None, help="replace the teams (repeat for more)")
    change.add_argument("--display-name", default=None)
    change.add_argument("--capacity", type=int, default=None)
    state = change.add_mutually_exclusive_group()
    state.add_argument("--activate", action="store_true")
    state.add_argument("--deactivate", action="store_true")
    change.add_argument("--unlock", action="store_true", help="clear a lockout after failed logins")
    change.add_argument("--password", action="store_true", help="set a new password (asked twice)")
    change.add_argument("--password-stdin", action="store_true", help="set a new password read from standard input")
    add_db_flag(change)
    change.set_defaults(handler=run_set)

    listing = actions.add_parser("list", help="list the accounts")
    add_db_flag(listing)
    listing.set_defaults(handler=run_list)


def read_password(from_stdin: bool) -> str:
    """The new password: one line of standard input, or asked twice without echo.

    Raises:
        PasswordInputError: no terminal and no --password-stdin, an empty input, or two different entries.

    """
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise PasswordInputError("no password on standard input")
        return password
    if not sys.stdin.isatty():
        raise PasswordInputError("no terminal to ask the password at; use --password-stdin")
    first = getpass.getpass("Password: ")
    second = getpass.getpass("Password again: ")
    if first != second:
        raise PasswordInputError("the two passwords differ")
    return first


def _with_store(args: argparse.Namespace, work: Callable[[AccountStore], Awaitable[T]]) -> T:
    config = _config(args)

    async def go() -> T:
        engine = create_engine(async_url(config.database.url, config.base_dir))
        try:
            await ensure_current(engine)
            store = AccountStore(
                engine,
                [team.id for team in config.handoff.teams],
                default_capacity=config.handoff.default_capacity,
            )
            return await work(store)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def run_add(args: argparse.Namespace) -> int:
    """``neuvo user add``."""
    password = read_password(args.password_stdin)

    async def work(store: AccountStore) -> Any:
        return await store.create(
            args.name,
            password=password,
            role=args.role,
            teams=args.team,
            display_name=args.display_name,
            capacity=args.capacity,
        )

    try:
        account = _with_store(args, work)
    except AccountError as exc:
        print(f"neuvo user add: {exc}", file=sys.stderr)
        return 1
    teams = ", ".join(account.teams) or "no team"
    print(f"added {account.name} ({account.role}; {teams}; capacity {account.capacity})")
    return 0


def run_set(args: argparse.Namespace) -> int:
    """``neuvo user set``."""
    changes: dict[str, Any] = {}
    if args.role:
        changes["role"] = args.role
    if args.team is not None:
        changes["teams"] = args.team
    if args.display_name is not None:
        changes["display_name"] = args.display_name
    if args.capacity is not None:
        changes["capacity"] = args.capacity
    if args.activate or args.deactivate:
        changes["active"] = bool(args.activate)
    if args.unlock:
        changes["unlock"] = True
    if args.password or args.password_stdin:
        changes["password"] = read_password(args.password_stdin)
    if not changes:
        print("neuvo user set: nothing to change (see --help)", file=sys.stderr)
        return 2

    async def work(store: AccountStore) -> Any:
        account = await store.by_name(args.name)
        if account is None:
            raise AccountError("not_found", f"no account named {args.name!r}")
        return await store.update(account.id, changes)

    try:
        account = _with_store(args, work)
    except AccountError as exc:
        print(f"neuvo user set: {exc}", file=sys.stderr)
        return 1
    print(f"changed {account.name}: {', '.join(sorted(changes))}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """``neuvo user list``."""
    accounts = _with_store(args, lambda store: store.all())
    if not accounts:
        print("no accounts yet; add the first admin with: neuvo user add NAME --role admin")
        return 0
    for account in accounts:
        state = "active" if account.active else "inactive"
        teams = ",".join(account.teams) or "-"
        print(f"{account.name:20} {account.role:8} {teams:40} capacity {account.capacity:<3} {state}")
    return 0
