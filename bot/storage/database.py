"""Connecting to the database (SQLite file or PostgreSQL) and keeping its schema current with Alembic."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from nlu.errors import NeuvoError

logger = logging.getLogger(__name__)

MIGRATIONS: Final = Path(__file__).parent / "migrations"


class DatabaseError(NeuvoError, RuntimeError):
    """The database cannot be reached, or its schema is not the one this code needs."""


def async_url(url: str, base: Path | None = None) -> str:
    """The SQLAlchemy async URL for a configured one.

    ``sqlite:///relative.db`` is made absolute against ``base`` (the config file's
    directory), ``postgresql://`` gets the asyncpg driver. Other drivers are refused.

    Raises:
        DatabaseError: for a URL that is not SQLite or PostgreSQL.

    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"not a database URL: {url!r}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            path = Path(database)
            if not path.is_absolute() and base is not None:
                path = base / path
            database = str(path)
        return str(parsed.set(drivername="sqlite+aiosqlite", database=database))
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise DatabaseError(f"unsupported database {backend!r}: use sqlite:///FILE or postgresql://…")


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine; SQLite files get WAL journaling, foreign keys and a busy timeout."""
    sqlite = url.startswith("sqlite")
    options: dict[str, Any] = {"echo": echo}
    if not sqlite:
        options.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
    else:
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, **options)
    # Batch multi-row INSERTs into one multi-VALUES statement even without RETURNING: with SQLite
    # every row of a plain executemany is a separate step that gives up and re-takes the GIL,
    # which under load starves the driver's thread behind the busy event loop.
    engine.sync_engine.dialect.use_insertmanyvalues_wo_returning = True
    if sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def sqlite_writer(engine: AsyncEngine) -> Engine | None:
    """For a SQLite file, a synchronous engine for the conversation store's writes; None otherwise.

    Measured under load (docs/benchmarks.md): with aiosqlite every statement is a round trip
    between the event loop and the driver's thread, each waiting for the loop and for the GIL,
    and commits of a few rows took tens of milliseconds. In WAL mode with synchronous=NORMAL a
    commit writes to the page cache without fsync: run inline it costs about 0.4 ms of CPU and
    never waits. Automatic checkpoints (which do fsync) are off on this connection; the store
    runs them on a background thread.
    """
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    writer = create_sync_engine(engine.url.set(drivername="sqlite"), poolclass=NullPool)
    writer.dialect.use_insertmanyvalues_wo_returning = True
    event.listen(writer, "connect", _sqlite_pragmas)
    event.listen(writer, "connect", _writer_pragmas)
    return writer


def _writer_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.execute("PRAGMA busy_timeout=1000")
    cursor.close()


def _alembic_config(connection: Connection) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration this code knows."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


async def current_revision(engine: AsyncEngine) -> str | None:
    """The migration the database is at (None when it has never been migrated).

    Raises:
        DatabaseError: when the database cannot be reached.

    """
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
    except (SQLAlchemyError, OSError) as exc:
        raise DatabaseError(f"cannot reach the database: {exc.__class__.__name__}: {exc}") from exc


async def upgrade(engine: AsyncEngine, revision: str = "head") -> tuple[str | None, str | None]:
    """Apply migrations up to ``revision``; returns the revisions before and after."""
    before = await current_revision(engine)
    await _migrate(engine, lambda config: command.upgrade(config, revision))
    return before, await current_revision(engine)


async def _migrate(engine: AsyncEngine, step: Callable[[AlembicConfig], None]) -> None:
    """Run an Alembic command in one transaction; on SQLite with foreign keys off while it runs.

    SQLite migrations rebuild a table to change it (copy, drop, rename). With foreign keys on,
    dropping ``conversations`` would first delete every row that references it (ON DELETE
    CASCADE): all messages, events, participants and feedback. SQLite ignores the pragma inside
    a transaction, so it is switched before the migration's transaction begins, and back after.
    """
    try:
        async with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                await connection.commit()
            try:
                async with connection.begin():
                    await connection.run_sync(lambda sync: step(_alembic_config(sync)))
            finally:
                if sqlite:
                    await connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                    await connection.commit()
    except (SQLAlchemyError, OSError) as exc:
        raise DatabaseError(f"migration failed: {exc.__class__.__name__}: {exc}") from exc


async def ensure_current(engine: AsyncEngine) -> None:
    """Refuse to serve from a database whose schema is behind (or ahead of) this code.

    Raises:
        DatabaseError: with the command that fixes it.

    """
    current = await current_revision(engine)
    head = head_revision()
    if current is None:
        raise DatabaseError("the database has no Neuvo schema yet; run `neuvo db upgrade` (with the same --db)")
    if current != head:
        raise DatabaseError(
            f"the database schema is at {current}, this version of Neuvo needs {head}; run `neuvo db upgrade`"
        )
