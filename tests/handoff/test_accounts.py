"""Advisor accounts: argon2id passwords, logins with lockout, console sessions, and `neuvo user` at the terminal."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from argon2 import PasswordHasher, Type
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import main
from bot.config import ConsoleSettings
from bot.storage.database import async_url, create_engine, upgrade
from handoff.accounts import AccountError, AccountStore, LoginRefused, advisors, session_key, sessions
from handoff.console.auth import Sessions
from handoff.passwords import (
    MIN_LENGTH,
    PasswordRejected,
    check_new_password,
    hash_password,
    needs_rehash,
    verify_password,
)

ROOT = Path(__file__).resolve().parents[2]
NEUVO = ROOT / ".venv" / "bin" / "neuvo"
TEAMS = ("social_advice", "health_social_work", "child_maintenance")
PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "tr0ub4dor & three more words"


@pytest.fixture
def store(engine: AsyncEngine) -> AccountStore:
    return AccountStore(engine, TEAMS, default_capacity=3, lockout_after=3, lockout_minutes=15)


async def stored_hash(store: AccountStore, name: str) -> str:
    async with store.engine.connect() as connection:
        return (await connection.execute(select(advisors.c.password_hash).where(advisors.c.name == name))).scalar_one()


async def session_rows(store: AccountStore) -> list[str]:
    async with store.engine.connect() as connection:
        return sorted((await connection.execute(select(sessions.c.id))).scalars())


# --- passwords ------------------------------------------------------------------------------------


def test_a_password_is_stored_as_an_argon2id_hash_that_verifies_only_itself() -> None:
    digest = hash_password(PASSWORD)
    assert digest.startswith("$argon2id$")
    assert PASSWORD not in digest
    assert digest != hash_password(PASSWORD)  # salted
    assert verify_password(digest, PASSWORD)
    assert not verify_password(digest, PASSWORD.upper())
    assert not verify_password(None, PASSWORD)  # no account: still no match
    assert not verify_password("not a hash", PASSWORD)
    assert not needs_rehash(digest)


@pytest.mark.parametrize(
    ("password", "name", "message"),
    [
        ("x" * (MIN_LENGTH - 1), "anna", f"at least {MIN_LENGTH} characters"),
        ("", "anna", f"at least {MIN_LENGTH} characters"),
        ("x" * 1025, "anna", "at most 1024 characters"),
        ("Anna.Virtanen", "anna.virtanen", "must not be the account name"),
    ],
)
def test_a_new_password_that_breaks_a_rule_is_refused_naming_the_rule(password: str, name: str, message: str) -> None:
    with pytest.raises(PasswordRejected, match=message):
        check_new_password(password, name)


def test_a_password_of_exactly_the_minimum_length_is_accepted() -> None:
    check_new_password("x" * MIN_LENGTH, "anna")


# --- accounts -------------------------------------------------------------------------------------


async def test_an_account_is_created_with_its_teams_and_an_argon2id_hash(store: AccountStore) -> None:
    anna = await store.create(
        "Anna", password=PASSWORD, teams=["social_advice", "child_maintenance"], display_name="Anna V."
    )
    assert (anna.name, anna.display_name, anna.role, anna.capacity, anna.active) == (
        "anna",
        "Anna V.",
        "advisor",
        3,
        True,
    )
    assert anna.teams == ("child_maintenance", "social_advice")
    assert (await stored_hash(store, "anna")).startswith("$argon2id$")
    assert "password" not in str(anna.as_dict(for_admin=True))
    assert await store.by_name("ANNA ") == anna


async def test_a_short_password_is_refused_and_no_account_is_made(store: AccountStore) -> None:
    with pytest.raises(AccountError, match=f"at least {MIN_LENGTH} characters") as refused:
        await store.create("anna", password="lyhyt", teams=["social_advice"])
    assert (refused.value.code, refused.value.field) == ("bad_password", "password")
    assert await store.all() == []


@pytest.mark.parametrize(
    ("options", "field", "message"),
    [
        ({"teams": ["taxes"]}, "teams", "unknown team 'taxes'"),
        ({"teams": []}, "teams", "at least one team"),
        ({"teams": ["social_advice"], "role": "boss"}, "role", "role must be one of advisor, editor, admin"),
        ({"teams": ["social_advice"], "capacity": 0}, "capacity", "1 to 50"),
    ],
)
async def test_a_bad_team_role_or_capacity_is_refused_naming_the_field(
    store: AccountStore, options: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(AccountError, match=message) as refused:
        await store.create("anna", password=PASSWORD, **options)
    assert (refused.value.code, refused.value.field) == ("bad_request", field)


async def test_a_second_account_with_the_same_name_is_refused(store: AccountStore) -> None:
    await store.create("anna", password=PASSWORD, teams=["social_advice"])
    with pytest.raises(AccountError, match="exists already") as refused:
        await store.create("ANNA", password=PASSWORD, teams=["health_social_work"])
    assert refused.value.code == "exists"
    assert [a.teams for a in await store.all()] == [("social_advice",)]


# --- logins ---------------------------------------------------------------------------------------


async def test_the_right_name_and_password_log_in_and_anything_else_gets_the_same_refusal(
    store: AccountStore,
) -> None:
    await store.create("anna", password=PASSWORD, teams=["social_advice"])
    anna = await store.authenticate(" Anna", PASSWORD)
    assert anna.name == "anna"
    assert anna.last_login_at is not None
    for name, password in [("anna", "wrong password!!"), ("nobody", PASSWORD), ("", PASSWORD), (None, None)]:
        with pytest.raises(LoginRefused) as refused:
            await store.authenticate(name, password)
        assert refused.value.code == "invalid_credentials"


async def test_an_inactive_account_cannot_log_in(store: AccountStore) -> None:
    anna = await store.create("anna", password=PASSWORD, teams=["social_advice"])
    await store.update(anna.id, {"active": False})
    with pytest.raises(LoginRefused) as refused:
        await store.authenticate("anna", PASSWORD)
    assert refused.value.code == "invalid_credentials"


async def test_repeated_wrong_passwords_lock_the_account_until_the_lockout_ends(store: AccountStore) -> None:
    await store.create("anna", password=PASSWORD, teams=["social_advice"])
    now = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
    for attempt in (1, 2):
        with pytest.raises(LoginRefused) as refused:
            await store.authenticate("anna", f"wrong guess no {attempt}", now=now)
        assert refused.value.code == "invalid_credentials"
    assert (await store.by_name("anna")).failed_logins == 2  # type: ignore[union-attr]
    with pytest.raises(LoginRefused) as refused:
        await store.authenticate("anna", "wrong guess no 3", now=now)
    assert (refused.value.code, refused.value.retry_after) == ("locked", 15 * 60)

    # Locked: even the right password is refused, with the time left.
    later = now + dt.timedelta(minutes=10)
    with pytest.raises(LoginRefused) as refused:
        await store.authenticate("anna", PASSWORD, now=later)
    assert refused.value.code == "locked"
    assert 4 * 60 < refused.value.retry_after <= 5 * 60 + 1

    after = now + dt.timedelta(minutes=15, seconds=1)
    anna = await store.authenticate("anna", PASSWORD, now=after)
    assert (anna.failed_logins, anna.locked_until, anna.last_login_at) == (0, None, after)


async def test_a_successful_login_resets_the_count_of_wrong_passwords(store: AccountStore) -> None:
    await store.create("anna", password=PASSWORD, teams=["social_advice"])
    for _ in range(2):
        with pytest.raises(LoginRefused):
            await store.authenticate("anna", "wrong password!!")
    await store.authenticate("anna", PASSWORD)
    for _ in range(2):
        with pytest.raises(LoginRefused, match="invalid_credentials"):
            await store.authenticate("anna", "wrong password!!")  # two more: still not locked


async def test_an_admin_unlocks_a_locked_account(store: AccountStore) -> None:
    anna = await store.create("anna", password=PASSWORD, teams=["social_advice"])
    for _ in range(3):
        with pytest.raises(LoginRefused):
            await store.authenticate("anna", "wrong password!!")
    assert (await store.get(anna.id)).locked_until is not None  # type: ignore[union-attr]
    await store.update(anna.id, {"unlock": True})
    assert (await store.authenticate("anna", PASSWORD)).id == anna.id


async def test_a_hash_with_weaker_parameters_is_replaced_at_the_next_login(store: AccountStore) -> None:
    anna = await store.create("anna", password=PASSWORD, teams=["social_advice"])
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1, type=Type.ID).hash(PASSWORD)
    async with store.engine.begin() as connection:
        await connection.execute(update(advisors).where(advisors.c.id == anna.id).values(password_hash=weak))
    assert needs_rehash(weak)
    await store.authenticate("anna", PASSWORD)
    stronger = await stored_hash(store, "anna")
    assert stronger != weak
    assert not needs_rehash(stronger)
    assert verify_password(stronger, PASSWORD)


async def test_changing_the_password_needs_the_current_one(store: AccountStore) -> None:
    anna = await store.create("anna", password=PASSWORD, teams=["social_advice"])
    with pytest.raises(AccountError) as refused:
        await store.change_password(anna.id, "not my password", NEW_PASSWORD)
    assert (refused.value.code, refused.value.field) == ("invalid_credentials", "current")
    with pytest.raises(AccountError, match="at least"):
        await store.change_password(anna.id, PASSWORD, "short")
    await store.change_password(anna.id, PASSWORD, NEW_PASSWORD)
    with pytest.raises(LoginRefused):
        await store.authenticate("anna", PASSWORD)
    assert (await store.authenticate("anna", NEW_PASSWORD)).id == anna.id


# --- sessions -------------------------------------------------------------------------------------


def console(store: AccountStore, idle_minutes: int = 30, hours: int = 2) -> Sessions:
    return Sessions(store, ConsoleSettings(session_idle_minutes=idle_minutes, session_hours=hours))


async def test_a_session_is_stored_only_as_the_hash_of_its_token_and_found_by_the_token(store: AccountStore) -> None:
    anna = await store.create("anna", password=PASSWORD, teams=["social_advice"])
    token, record = await store.open_session(anna.id, dt.timedelta(hours=2))
    assert await session_rows(store) == [session_key(token)]
    assert token not in await session_rows(store)
    found = await store.find_session(session_key(token))
    assert found == record
    assert found.expires_at - found.created_at == dt.timedelta(hours=2)  # type: ignore[union-attr]
    assert await store.find_session(token) is None
    # Another server process (or one after a restart) finds it in the database.
    session = await console(store).find(token)
    assert session is not None
    assert session.account.id == anna.id


async def test_a_session_ends_after_the_idle_time_without_a_request(store: AccountStore) -> None:
    anna = await store.create("anna", password=PASSWORD, teams=["social_advice"])
    desk = console(store, idle_minutes=30)
    token, session = await desk.open(anna)
    start = session.record.created_at
    assert await desk.find(token, now=start + dt.timedelta(minutes=29)) is not None
    # Each request counts as activity: 29 minutes after that one it is still alive.
    assert await desk.find(token, now=start + dt.timedelta(minutes=58)) is not None
    assert await desk.find(token, now=start + dt.timedelta(minutes=58 + 30)) is None
    assert await session_rows(store) == []  # gone from the database too
    assert await console(store).find(token, now=start) is None


async def test_a_session_ends_after_its_lifetime_however_busy(store: AccountStore) -> None:
    anna = await store.create("anna", password=PASSWORD, teams=["social_advice"])
    desk = console(store, idle_minutes=30, hours=2)
    token, session = await desk.open(anna)
    start = session.record.created_at
    for minutes in range(20, 120, 20):
        assert await desk.find(token, now=start + dt.timedelta(minutes=minutes)) is not None, minutes
    assert await desk.find(token, now=start + dt.timedelta(hours=2)) is None
    assert await session_rows(store) == []


async def test_old_sessions_are_purged_from_the_database(store: AccountStore) -> None:
    anna = await store.create("anna", password=PASSWORD, teams=["social_advice"])
    await store.open_session(anna.id, dt.timedelta(hours=2))
    short, _ = await store.open_session(anna.id, dt.timedelta(minutes=1))
    now = dt.datetime.now(dt.UTC)
    assert await store.purge_sessions(now + dt.timedelta(minutes=5), dt.timedelta(minutes=30)) == 1
    assert session_key(short) not in await session_rows(store)
    assert await store.purge_sessions(now + dt.timedelta(minutes=31), dt.timedelta(minutes=30)) == 1
    assert await session_rows(store) == []


async def test_logout_ends_the_session_everywhere(store: AccountStore) -> None:
    anna = await store.create("anna", password=PASSWORD, teams=["social_advice"])
    desk = console(store)
    token, session = await desk.open(anna)
    other, _ = await desk.open(anna)
    await desk.end(session.key)
    assert await desk.find(token) is None
    assert await console(store).find(token) is None
    assert await desk.find(other) is not None  # the other browser stays logged in


async def test_a_password_change_or_deactivation_ends_the_accounts_sessions(store: AccountStore) -> None:
    anna = await store.create("anna", password=PASSWORD, teams=["social_advice"])
    bea = await store.create("bea", password=PASSWORD, teams=["social_advice"])
    first, _ = await store.open_session(anna.id, dt.timedelta(hours=2))
    second, _ = await store.open_session(anna.id, dt.timedelta(hours=2))
    colleague, _ = await store.open_session(bea.id, dt.timedelta(hours=2))
    await store.change_password(anna.id, PASSWORD, NEW_PASSWORD)
    assert await console(store).find(first) is None
    assert await console(store).find(second) is None
    assert await console(store).find(colleague) is not None

    again, _ = await store.open_session(anna.id, dt.timedelta(hours=2))
    await store.update(anna.id, {"active": False})
    assert await console(store).find(again) is None
    assert await session_rows(store) == [session_key(colleague)]


async def test_a_deactivated_account_loses_its_cached_session_at_once(store: AccountStore) -> None:
    anna = await store.create("anna", password=PASSWORD, teams=["social_advice"])
    desk = console(store)
    token, _ = await desk.open(anna)
    desk.account_changed(await store.update(anna.id, {"active": False}))
    assert await desk.find(token) is None


# --- neuvo user -----------------------------------------------------------------------------------


CLI_CONFIG = """
handoff:
  default_team: social_advice
  crisis_team: social_advice
  teams:
    social_advice:
      name: {fi: Sosiaaliohjaus, sv: Social handledning, en: Social guidance}
      topics: [income_support, families, elderly]
    health_social_work:
      name: {fi: Terveyssosiaalityö, sv: Socialt arbete inom vården, en: Health social work}
      topics: [health_social_work]
    child_maintenance:
      name: {fi: Lastenvalvojat, sv: Barnatillsyningsmän, en: Child supervisors}
      topics: [child_maintenance]
"""


@pytest.fixture
def cli_db(tmp_path: Path) -> str:
    """A temporary SQLite database with the current schema and no accounts, and a config with three teams."""
    (tmp_path / "config.yml").write_text(CLI_CONFIG, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'neuvo.db'}"

    async def migrate() -> None:
        engine = create_engine(async_url(url))
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(migrate())
    return url


def config_of(db: str) -> str:
    """The config file written next to a temporary database."""
    return str(Path(db.removeprefix("sqlite:///")).parent / "config.yml")


def neuvo(*args: str, stdin: str | None = "", db: str) -> subprocess.CompletedProcess[str]:
    """`neuvo` as an operator runs it: the command with --db, the test's config, no NEUVO_ overrides from outside."""
    return subprocess.run(
        [str(NEUVO), "--config", config_of(db), *args, "--db", db],
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        env={key: value for key, value in os.environ.items() if not key.startswith("NEUVO_")},
        timeout=120,
        check=False,
        cwd=ROOT,
    )


def accounts_in(url: str) -> list[tuple[str, str, tuple[str, ...], bool]]:
    async def read() -> list[tuple[str, str, tuple[str, ...], bool]]:
        engine = create_engine(async_url(url))
        try:
            return [(a.name, a.role, a.teams, a.active) for a in await AccountStore(engine, TEAMS).all()]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def login(url: str, name: str, password: str) -> bool:
    async def attempt() -> bool:
        engine = create_engine(async_url(url))
        try:
            await AccountStore(engine, TEAMS).authenticate(name, password)
        except LoginRefused:
            return False
        finally:
            await engine.dispose()
        return True

    return asyncio.run(attempt())


def test_user_add_reads_the_password_from_stdin_and_the_account_can_log_in(cli_db: str) -> None:
    result = neuvo(
        "user", "add", "paula", "--role", "admin", "--display-name", "Paula", "--password-stdin",
        stdin=PASSWORD + "\n", db=cli_db,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "added paula (admin; no team; capacity 3)"
    assert PASSWORD not in result.stdout + result.stderr
    assert accounts_in(cli_db) == [("paula", "admin", (), True)]
    assert login(cli_db, "paula", PASSWORD)


def test_user_set_and_list_change_and_show_accounts(db_with_anna: str) -> None:
    changed = neuvo(
        "user", "set", "anna", "--team", "social_advice", "--team", "child_maintenance", "--capacity", "5",
        "--deactivate", "--password-stdin",
        stdin=NEW_PASSWORD + "\n", db=db_with_anna,
    )  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.strip() == "changed anna: active, capacity, password, teams"
    listing = neuvo("user", "list", db=db_with_anna)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.split() == ["anna", "advisor", "child_maintenance,social_advice", "capacity", "5", "inactive"]
    assert not login(db_with_anna, "anna", NEW_PASSWORD)  # inactive


@pytest.fixture
def db_with_anna(cli_db: str) -> str:
    """The temporary database with one advisor, anna, in social_advice."""

    async def add() -> None:
        engine = create_engine(async_url(cli_db))
        try:
            await AccountStore(engine, TEAMS).create("anna", password=PASSWORD, teams=["social_advice"])
        finally:
            await engine.dispose()

    asyncio.run(add())
    return cli_db


#: name: (arguments, standard input (None: not even a pipe), exit code, the message on stderr)
REFUSED_PROCESSES: dict[str, tuple[tuple[str, ...], str | None, int, str]] = {
    "duplicate name": (
        ("user", "add", "anna", "--team", "health_social_work", "--password-stdin"),
        PASSWORD + "\n",
        1,
        "neuvo user add: an account named 'anna' exists already",
    ),
    "no terminal and no --password-stdin": (
        ("user", "add", "bea", "--team", "social_advice"),
        None,
        1,
        "neuvo user: no terminal to ask the password at; use --password-stdin",
    ),
    "a password on the command line": (
        ("user", "add", "bea", "--team", "social_advice", "--password", PASSWORD),
        "",
        2,
        "unrecognized arguments",
    ),
    "an unknown team": (
        ("user", "add", "bea", "--team", "taxes", "--password-stdin"),
        PASSWORD + "\n",
        1,
        "neuvo user add: unknown team 'taxes' (teams: social_advice, health_social_work, child_maintenance)",
    ),
}


def test_each_refusal_is_one_clear_message_a_failing_exit_code_and_changes_nothing(db_with_anna: str) -> None:
    with ThreadPoolExecutor(max_workers=len(REFUSED_PROCESSES)) as pool:  # each is a Python start-up: at once
        running = {
            name: pool.submit(neuvo, *args, stdin=stdin, db=db_with_anna)
            for name, (args, stdin, _, _) in REFUSED_PROCESSES.items()
        }
        results = {name: future.result() for name, future in running.items()}
    for name, (_, _, code, message) in REFUSED_PROCESSES.items():
        result = results[name]
        assert result.returncode == code, (name, result.stderr)
        assert message in result.stderr, (name, result.stderr)
        assert "Traceback" not in result.stderr, name
        assert result.stdout == "", name
    assert accounts_in(db_with_anna) == [("anna", "advisor", ("social_advice",), True)]
    assert login(db_with_anna, "anna", PASSWORD)


# The same command line in this process (no Python start-up per case): every other refusal.


@pytest.fixture
def no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    """No NEUVO_ settings from the environment of the test run."""
    for key in list(os.environ):
        if key.startswith("NEUVO_"):
            monkeypatch.delenv(key)


def run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str, db: str, stdin: str = ""
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))  # a pipe: no terminal
    try:
        code = main(["--config", config_of(db), *args, "--db", db])
    except SystemExit as exit:  # argparse refuses before any handler runs
        code = int(exit.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.usefixtures("no_overrides")
@pytest.mark.parametrize(
    ("args", "stdin", "code", "message"),
    [
        (("user", "add", "bea", "--role", "boss", "--password-stdin"), PASSWORD, 2, "invalid choice: 'boss'"),
        (("user", "add", "bea", "--team", "social_advice", "--password-stdin"), "lyhyt\n", 1, "at least 12 characters"),
        (("user", "add", "bea", "--team", "social_advice", "--password-stdin"), "", 1, "no password on standard input"),
        (("user", "add", "anna", "--team", "social_advice"), PASSWORD, 1, "no terminal to ask the password at"),
        (("user", "add", "bea", f"--password={PASSWORD}"), "", 2, "ignored explicit argument"),
        (("user", "add", "bea", "--password-stdin"), PASSWORD, 1, "an advisor belongs to at least one team"),
        (("user", "set", "nobody", "--capacity", "4"), "", 1, "neuvo user set: no account named 'nobody'"),
        (("user", "set", "anna", "--team", "taxes"), "", 1, "neuvo user set: unknown team 'taxes'"),
        (("user", "set", "anna", "--role", "boss"), "", 2, "invalid choice: 'boss'"),
        (("user", "set", "anna", "--password"), PASSWORD, 1, "no terminal to ask the password at"),
        (("user", "set", "anna"), "", 2, "nothing to change"),
    ],
)
def test_a_bad_request_is_refused_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    db_with_anna: str,
    args: tuple[str, ...],
    stdin: str,
    code: int,
    message: str,
) -> None:
    result = run_main(monkeypatch, capsys, *args, db=db_with_anna, stdin=stdin)
    assert result[0] == code, result
    assert message in result[2], result
    assert result[1] == ""
    assert accounts_in(db_with_anna) == [("anna", "advisor", ("social_advice",), True)]


@pytest.mark.usefixtures("no_overrides")
def test_no_option_takes_a_password_on_the_command_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cli_db: str
) -> None:
    for action in ("add", "set"):
        code, out, _ = run_main(monkeypatch, capsys, "user", action, "--help", db=cli_db)
        assert code == 0
        assert "--password-stdin" in out
        assert not re.search(r"--password[ =][A-Z]", out), out  # no --password PASSWORD anywhere


@pytest.mark.usefixtures("no_overrides")
def test_an_unmigrated_database_is_refused_with_the_command_that_fixes_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cli_db: str
) -> None:
    empty = cli_db.replace("neuvo.db", "empty.db")
    code, _, err = run_main(monkeypatch, capsys, "user", "list", db=empty)
    assert code == 1
    assert "run `neuvo db upgrade`" in err
