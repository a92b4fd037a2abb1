"""Advisor accounts, their teams, logins with lockout, and console sessions, in the database."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
import secrets
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage.database import DatabaseError
from bot.storage.schema import Advisor, AdvisorTeam, ConsoleSession
from bot.storage.transactions import Transactions
from nlu.contract import LANGUAGES
from nlu.errors import NeuvoError

from .passwords import PasswordRejected, check_new_password, hash_password, needs_rehash, verify_password

advisors = cast(Table, Advisor.__table__)
advisor_teams = cast(Table, AdvisorTeam.__table__)
sessions = cast(Table, ConsoleSession.__table__)

ROLES: Final = ("advisor", "editor", "admin")
_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class AccountError(NeuvoError, ValueError):
    """An account request that cannot be done: ``code`` for machines, ``field`` for forms, text for people."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


class LoginRefused(NeuvoError, PermissionError):
    """A login that did not succeed: ``invalid_credentials`` or ``locked`` (with ``retry_after`` seconds)."""

    def __init__(self, code: str, retry_after: int = 0) -> None:
        super().__init__(code)
        self.code = code
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Account:
    """A person who may log in to the console, without their password hash."""

    id: int
    name: str
    display_name: str
    role: str
    teams: tuple[str, ...]
    capacity: int
    language: str
    active: bool
    failed_logins: int = 0
    locked_until: dt.datetime | None = None
    last_login_at: dt.datetime | None = None

    @property
    def handles_conversations(self) -> bool:
        """Advisors and admins answer citizens; editors only keep the content."""
        return self.role in ("advisor", "admin")

    def sees_team(self, team: str | None) -> bool:
        """Whether this person may see a team's queue, inbox and conversations."""
        return self.role == "admin" or (self.role == "advisor" and team in self.teams)

    def as_dict(self, *, for_admin: bool = False) -> dict[str, Any]:
        """The API's Advisor object (docs/console-api.md)."""
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "display_name": self.display_name,
            "role": self.role,
            "teams": list(self.teams),
            "capacity": self.capacity,
            "language": self.language,
            "active": self.active,
        }
        if for_admin:
            data["locked_until"] = self.locked_until.isoformat() if self.locked_until else None
            data["last_login_at"] = self.last_login_at.isoformat() if self.last_login_at else None
        return data


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A logged-in console as stored: found by the hash of the cookie's token."""

    id: str
    advisor_id: int
    csrf_token: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime


def session_key(token: str) -> str:
    """The stored key of a session token (its SHA-256): a leaked table holds no usable cookie."""
    return hashlib.sha256(token.encode()).hexdigest()


def clean_name(name: Any) -> str:
    """A login name in its stored form, or AccountError."""
    if not isinstance(name, str) or not _NAME.match(name.strip().lower()):
        raise AccountError(
            "bad_request", "a name is 2-64 characters: lower-case letters, digits, '.', '_' or '-'", "name"
        )
    return name.strip().lower()


def clean_display_name(value: Any) -> str:
    """What colleagues and citizens see: 1-64 printable characters."""
    if not isinstance(value, str):
        raise AccountError("bad_request", "a display name is text", "display_name")
    text = unicodedata.normalize("NFC", value).strip()
    if not 1 <= len(text) <= 64 or any(unicodedata.category(ch).startswith("C") for ch in text):
        raise AccountError("bad_request", "a display name is 1-64 printable characters", "display_name")
    return text


class AccountStore:
    """Accounts and sessions; every change is one short transaction of its own (see bot/storage/transactions.py)."""

    def __init__(
        self,
        engine: AsyncEngine,
        teams: Collection[str],
        *,
        default_capacity: int = 3,
        lockout_after: int = 5,
        lockout_minutes: int = 15,
    ) -> None:
        self.engine = engine
        self.transactions = Transactions(engine)
        self.teams = tuple(teams)
        self.default_capacity = default_capacity
        self.lockout_after = lockout_after
        self.lockout = dt.timedelta(minutes=lockout_minutes)

    # --- validation ------------------------------------------------------------------------
    def _role(self, role: Any) -> str:
        if role not in ROLES:
            raise AccountError("bad_request", f"role must be one of {', '.join(ROLES)}", "role")
        return str(role)

    def _teams(self, teams: Any, role: str) -> tuple[str, ...]:
        if isinstance(teams, str):
            teams = [part.strip() for part in teams.split(",") if part.strip()]
        if not isinstance(teams, list | tuple) or not all(isinstance(team, str) for team in teams):
            raise AccountError("bad_request", "teams is a list of team ids", "teams")
        unknown = [team for team in teams if team not in self.teams]
        if unknown:
            raise AccountError("bad_request", f"unknown team {unknown[0]!r} (teams: {', '.join(self.teams)})", "teams")
        if role == "advisor" and not teams:
            raise AccountError("bad_request", "an advisor belongs to at least one team", "teams")
        return tuple(dict.fromkeys(teams))

    @staticmethod
    def _capacity(capacity: Any) -> int:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= 50:
            raise AccountError("bad_request", "capacity is a whole number from 1 to 50", "capacity")
        return capacity

    @staticmethod
    def _password(password: Any, name: str) -> str:
        if not isinstance(password, str):
            raise AccountError("bad_request", "a password is text", "password")
        try:
            check_new_password(password, name)
        except PasswordRejected as exc:
            raise AccountError("bad_password", str(exc), "password") from None
        return password

    # --- accounts ---------------------------------------------------------------------------
    async def create(
        self,
        name: Any,
        *,
        password: Any,
        role: Any = "advisor",
        teams: Any = (),
        display_name: Any = None,
        capacity: Any = None,
        language: str = "fi",
    ) -> Account:
        """Add an account.

        Raises:
            AccountError: a bad value (``bad_request``/``bad_password``), or ``exists``.

        """
        login = clean_name(name)
        shown = clean_display_name(display_name if display_name is not None else login)
        role = self._role(role)
        team_ids = self._teams(list(teams) if isinstance(teams, tuple) else teams, role)
        capacity = self._capacity(self.default_capacity if capacity is None else capacity)
        secret = self._password(password, login)
        digest = await asyncio.to_thread(hash_password, secret)
        now = dt.datetime.now(dt.UTC)

        def add(connection: Connection) -> int:
            result = connection.execute(
                insert(advisors).values(
                    name=login,
                    display_name=shown,
                    role=role,
                    password_hash=digest,
                    capacity=capacity,
                    language=language if language in LANGUAGES else "fi",
                    active=True,
                    failed_logins=0,
                    password_changed_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            advisor_id = int(key[0])
            if team_ids:
                connection.execute(
                    insert(advisor_teams), [{"advisor_id": advisor_id, "team": team} for team in team_ids]
                )
            return advisor_id

        try:
            advisor_id = await self.transactions.run(add)
        except IntegrityError:
            raise AccountError("exists", f"an account named {login!r} exists already", "name") from None
        except (SQLAlchemyError, OSError) as exc:
            raise DatabaseError(f"could not store the account: {exc.__class__.__name__}") from exc
        account = await self.get(advisor_id)
        assert account is not None
        return account

    async def update(self, advisor_id: int, changes: Mapping[str, Any]) -> Account:
        """Change an account's display name, role, teams, capacity, language, active flag, password or lock.

        Raises:
            AccountError: ``not_found``, or a bad value.

        """
        account = await self.get(advisor_id)
        if account is None:
            raise AccountError("not_found", "no such account")
        known = {"display_name", "role", "teams", "capacity", "language", "active", "password", "unlock"}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise AccountError("bad_request", f"unknown field {unknown[0]!r}", unknown[0])
        values: dict[str, Any] = {}
        role = self._role(changes["role"]) if "role" in changes else account.role
        if "role" in changes:
            values["role"] = role
        if "display_name" in changes:
            values["display_name"] = clean_display_name(changes["display_name"])
        if "capacity" in changes:
            values["capacity"] = self._capacity(changes["capacity"])
        if "language" in changes:
            if changes["language"] not in LANGUAGES:
                raise AccountError("bad_request", "language is fi, sv or en", "language")
            values["language"] = changes["language"]
        if "active" in changes:
            if not isinstance(changes["active"], bool):
                raise AccountError("bad_request", "active is true or false", "active")
            values["active"] = changes["active"]
        if changes.get("unlock") is True:
            values.update(failed_logins=0, locked_until=None)
        new_teams = self._teams(changes["teams"], role) if "teams" in changes else None
        if new_teams is None and "role" in changes:
            new_teams = self._teams(list(account.teams), role)
        now = dt.datetime.now(dt.UTC)
        if "password" in changes:
            secret = self._password(changes["password"], account.name)
            values["password_hash"] = await asyncio.to_thread(hash_password, secret)
            values["password_changed_at"] = now
        values["updated_at"] = now

        def change(connection: Connection) -> None:
            connection.execute(update(advisors).where(advisors.c.id == advisor_id).values(**values))
            if new_teams is not None:
                connection.execute(delete(advisor_teams).where(advisor_teams.c.advisor_id == advisor_id))
                if new_teams:
                    connection.execute(
                        insert(advisor_teams), [{"advisor_id": advisor_id, "team": team} for team in new_teams]
                    )
            if "password" in changes or changes.get("active") is False:
                connection.execute(delete(sessions).where(sessions.c.advisor_id == advisor_id))

        await self.transactions.run(change)
        updated = await self.get(advisor_id)
        assert updated is not None
        return updated

    async def get(self, advisor_id: int) -> Account | None:
        """An account by id."""
        found = await self._select(advisors.c.id == advisor_id)
        return found[0] if found else None

    async def by_name(self, name: str) -> Account | None:
        """An account by login name (any case)."""
        found = await self._select(advisors.c.name == name.strip().lower())
        return found[0] if found else None

    async def all(self) -> list[Account]:
        """Every account, by name."""
        return await self._select(None)

    async def _select(self, condition: Any) -> list[Account]:
        query = select(advisors).order_by(advisors.c.name)
        if condition is not None:
            query = query.where(condition)
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
            memberships = await self._memberships(connection, [row["id"] for row in rows])
        return [_account(row, memberships.get(row["id"], ())) for row in rows]

    @staticmethod
    async def _memberships(connection: AsyncConnection, ids: list[int]) -> dict[int, tuple[str, ...]]:
        if not ids:
            return {}
        rows = await connection.execute(
            select(advisor_teams.c.advisor_id, advisor_teams.c.team)
            .where(advisor_teams.c.advisor_id.in_(ids))
            .order_by(advisor_teams.c.team)
        )
        teams: dict[int, list[str]] = {}
        for advisor_id, team in rows:
            teams.setdefault(advisor_id, []).append(team)
        return {key: tuple(value) for key, value in teams.items()}

    # --- logins -----------------------------------------------------------------------------
    async def authenticate(self, name: Any, password: Any, now: dt.datetime | None = None) -> Account:
        """Check a name and password, counting failures and locking after too many in a row.

        Raises:
            LoginRefused: ``invalid_credentials`` (the same for a wrong name, a wrong password and an
                inactive account) or ``locked``.

        """
        now = now or dt.datetime.now(dt.UTC)
        login = name.strip().lower() if isinstance(name, str) else ""
        secret = password if isinstance(password, str) else ""
        async with self.engine.connect() as connection:
            row = (
                (await connection.execute(select(advisors).where(advisors.c.name == login))).mappings().first()
                if login and len(secret) <= 1024
                else None
            )
        stored: str | None = row["password_hash"] if row is not None else None
        matches = await asyncio.to_thread(verify_password, stored, secret[:1024])
        if row is None or not row["active"]:
            raise LoginRefused("invalid_credentials")
        locked_until = row["locked_until"]
        if locked_until is not None and locked_until > now:
            raise LoginRefused("locked", retry_after=int((locked_until - now).total_seconds()) + 1)
        if not matches:
            failures = int(row["failed_logins"]) + 1
            values: dict[str, Any] = {"failed_logins": failures}
            if failures >= self.lockout_after:
                values.update(failed_logins=0, locked_until=now + self.lockout)
            await self._set(int(row["id"]), values)
            if failures >= self.lockout_after:
                raise LoginRefused("locked", retry_after=int(self.lockout.total_seconds()))
            raise LoginRefused("invalid_credentials")
        values = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
        if needs_rehash(str(stored)):
            values["password_hash"] = await asyncio.to_thread(hash_password, secret)
        await self._set(int(row["id"]), values)
        account = await self.get(int(row["id"]))
        assert account is not None
        return account

    async def _set(self, advisor_id: int, values: dict[str, Any]) -> None:
        """Change columns of one account's row."""
        await self.transactions.run(
            lambda connection: connection.execute(update(advisors).where(advisors.c.id == advisor_id).values(**values))
        )

    async def change_password(self, advisor_id: int, current: Any, new: Any) -> None:
        """An advisor's own password change: the current one must be right.

        Raises:
            AccountError: ``invalid_credentials`` or a rejected new password.

        """
        async with self.engine.connect() as connection:
            stored = (
                await connection.execute(select(advisors.c.password_hash).where(advisors.c.id == advisor_id))
            ).scalar_one_or_none()
        ok = isinstance(current, str) and await asyncio.to_thread(verify_password, stored, current[:1024])
        if not ok:
            raise AccountError("invalid_credentials", "the current password is not right", "current")
        await self.update(advisor_id, {"password": new})

    # --- sessions ---------------------------------------------------------------------------
    async def open_session(self, advisor_id: int, lifetime: dt.timedelta) -> tuple[str, SessionRecord]:
        """A new session: returns the cookie's token (only the caller ever sees it) and the record."""
        token = secrets.token_urlsafe(32)
        now = dt.datetime.now(dt.UTC)
        record = SessionRecord(session_key(token), advisor_id, secrets.token_urlsafe(32), now, now, now + lifetime)
        await self.transactions.run(
            lambda connection: connection.execute(
                insert(sessions).values(
                    id=record.id,
                    advisor_id=advisor_id,
                    csrf_token=record.csrf_token,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=record.expires_at,
                )
            )
        )
        return token, record

    async def find_session(self, key: str) -> SessionRecord | None:
        """A stored session by key (expired ones included; the caller decides)."""
        async with self.engine.connect() as connection:
            row = (await connection.execute(select(sessions).where(sessions.c.id == key))).mappings().first()
        if row is None:
            return None
        return SessionRecord(
            row["id"], row["advisor_id"], row["csrf_token"], row["created_at"], row["last_seen_at"], row["expires_at"]
        )

    async def touch_session(self, key: str, at: dt.datetime) -> None:
        """Record that a session was used (for the idle timeout)."""
        await self.transactions.run(
            lambda connection: connection.execute(update(sessions).where(sessions.c.id == key).values(last_seen_at=at))
        )

    async def close_session(self, key: str) -> None:
        """End a session (logout)."""
        await self.transactions.run(lambda connection: connection.execute(delete(sessions).where(sessions.c.id == key)))

    async def close_sessions_of(self, advisor_id: int, *, keep: str | None = None) -> None:
        """End every session of an account (except ``keep``)."""
        condition = sessions.c.advisor_id == advisor_id
        if keep is not None:
            condition = condition & (sessions.c.id != keep)
        await self.transactions.run(lambda connection: connection.execute(delete(sessions).where(condition)))

    async def purge_sessions(self, now: dt.datetime, idle: dt.timedelta) -> int:
        """Delete sessions that expired or went idle."""
        return await self.transactions.run(
            lambda connection: int(
                connection.execute(
                    delete(sessions).where((sessions.c.expires_at < now) | (sessions.c.last_seen_at < now - idle))
                ).rowcount
                or 0
            )
        )


def _account(row: Any, teams: tuple[str, ...]) -> Account:
    return Account(
        id=int(row["id"]),
        name=row["name"],
        display_name=row["display_name"],
        role=row["role"],
        teams=teams,
        capacity=int(row["capacity"]),
        language=row["language"],
        active=bool(row["active"]),
        failed_logins=int(row["failed_logins"]),
        locked_until=row["locked_until"],
        last_login_at=row["last_login_at"],
    )
