"""What every store reads and writes through: one small protocol over SQLite and PostgreSQL.

The stores write portable SQL (``?`` placeholders, ``ON CONFLICT``, ``RETURNING``, no ``INSERT OR``,
no ``LIMIT -1``, the column ``"end"`` quoted); an engine translates what it must. A write always
runs in ``transaction()``, which also serialises writers (SQLite's ``BEGIN IMMEDIATE``, a
transaction-scoped advisory lock on PostgreSQL), so the stores' read-then-write logic holds across
threads and processes alike.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgresql"]
Params = Sequence[Any]


class Row(Protocol):
    """A result row: by position and by column name (``sqlite3.Row`` and ``index.database.postgres.Row``)."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> list[str]: ...  # noqa: D102

    def __len__(self) -> int: ...


class Cursor(Protocol):
    """The result of one statement."""

    @property
    def rowcount(self) -> int: ...  # noqa: D102

    def fetchone(self) -> Any: ...  # noqa: D102

    def fetchall(self) -> list[Any]: ...  # noqa: D102

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What a transaction hands its body: statements that commit or roll back together."""

    def execute(self, sql: str, params: Params = (), /) -> Cursor: ...  # noqa: D102

    def executemany(self, sql: str, rows: Sequence[Params], /) -> Any: ...  # noqa: D102


class Database(Connection, Protocol):
    """A database: reads outside transactions (each sees committed data), writes inside one."""

    @property
    def dialect(self) -> Dialect:
        """Which engine: the few statements that differ (migrations, ``COPY``) ask."""

    @property
    def location(self) -> str:
        """Where it is, for messages (a path, or the URL without its password)."""

    def transaction(self) -> AbstractContextManager[Connection]: ...  # noqa: D102

    def notify(self, db: Connection, channel: str, payload: str) -> None:
        """Tell other processes, when ``db``'s transaction commits (no-op where nobody listens)."""

    def close(self) -> None: ...  # noqa: D102
