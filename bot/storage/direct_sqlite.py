"""The group commit's statements on SQLite, run by sqlite3's own ``executemany``.

Measured under load (``make bench``, Telegram webhook): the group commit was a quarter of the event
loop's time, and SQLAlchemy's work per execution (an execution context, each row's parameters looked
up and processed in Python, insertmanyvalues batches) was about 40 % of that. Here each statement is
compiled once per set of row keys by SQLAlchemy for SQLite, every value goes through its column
type's own bind processor (the conversion SQLAlchemy applies itself: UTC timestamps, JSON), and
sqlite3's C ``executemany`` runs all rows, inside the same transaction of the same connection.

A statement to which SQLAlchemy would add something the rows do not carry (a column default, a
literal such as ``coalesce(x, 0)``), or rows that differ in their keys, are left to SQLAlchemy.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError


@dataclass(frozen=True, slots=True)
class _Plan:
    sql: str
    fields: tuple[tuple[str, Callable[[Any], Any] | None], ...]

    def values(self, row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(row[name] if process is None else process(row[name]) for name, process in self.fields)


class DirectStatements:
    """Runs statements with lists of row dicts, as ``Connection.execute`` does, on SQLite's driver directly."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        #: Per statement (statements are built once and kept) and row keys: the plan, or None for SQLAlchemy.
        self._plans: dict[tuple[int, tuple[str, ...]], _Plan | None] = {}

    def execute(self, connection: Connection, statement: Any, rows: Sequence[dict[str, Any]]) -> None:
        """Run ``statement`` once per row, in the connection's current transaction.

        Raises:
            DBAPIError: when SQLite refuses a row (as SQLAlchemy would raise it).

        """
        keys = tuple(rows[0])
        key = (id(statement), keys)
        if key in self._plans:
            plan = self._plans[key]
        else:
            plan = self._plans[key] = self._compile(statement, keys)
        if plan is None or any(tuple(row) != keys for row in rows):
            connection.execute(statement, list(rows))
            return
        driver = connection.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        values = [plan.values(row) for row in rows]
        cursor = driver.cursor()
        try:
            cursor.executemany(plan.sql, values)
        except sqlite3.Error as error:
            raise DBAPIError.instance(plan.sql, None, error, sqlite3.Error) from error
        finally:
            cursor.close()

    def _compile(self, statement: Any, keys: tuple[str, ...]) -> _Plan | None:
        compiled = statement.compile(dialect=self.dialect, column_keys=list(keys))
        names = compiled.positiontup
        if names is None or not set(names) <= set(keys):
            return None
        fields = tuple(
            (name, compiled.binds[name].type.dialect_impl(self.dialect).bind_processor(self.dialect)) for name in names
        )
        return _Plan(compiled.string, fields)
