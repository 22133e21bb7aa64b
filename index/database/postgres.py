"""PostgreSQL through psycopg 3 and a connection pool: the shared store of several processes.

Statements arrive in the stores' portable dialect; ``?`` placeholders become ``%s`` (outside string
literals) and a literal ``%`` is doubled. Every write transaction first takes one transaction-scoped
advisory lock, so writers queue as they do on SQLite and the stores' read-then-write logic needs no
per-engine variant. A server that cannot be reached raises ``StoreUnavailableError`` with the URL
(password hidden): reads that need the server fail fast, and nothing is half-written.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from index.database.base import Params
from index.errors import StoreUnavailableError

log = logging.getLogger(__name__)

WRITE_LOCK = 0x6E657773  # "news": the advisory lock every write transaction holds
CONNECT_TIMEOUT_S = 5.0
PROBE_TIMEOUT_S = 1
"""Once the server could not be reached, each call first tries one plain connection with this timeout (refused at
once while the server is down) instead of waiting for the pool's: a bot keeps answering from its snapshot at full
speed while PostgreSQL is down, and the first call after it is back goes through."""


class Row(tuple[Any, ...]):
    """A row readable by position and by column name, like ``sqlite3.Row``."""

    _names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        """The column names, in order."""
        return list(self._names)


def _row_factory(cursor: psycopg.Cursor[Any]) -> Any:
    names = {column.name: i for i, column in enumerate(cursor.description or ())}

    def make(values: Sequence[Any]) -> Row:
        row = Row(values)
        row._names = names
        return row

    return make


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """The stores' SQL in psycopg's paramstyle: ``?`` -> ``%s`` outside quotes, ``%`` -> ``%%``."""
    out: list[str] = []
    quote: str | None = None
    for ch in sql:
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "?":
            out.append("%s")
            continue
        out.append("%%" if ch == "%" else ch)
    return "".join(out)


def _value(value: Any) -> Any:
    """Bind as SQLite would: booleans as 0/1 (the schema stores flags as integers), NUL-free text."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "\ufffd")
    return value


def _params(params: Params) -> list[Any]:
    return [_value(v) for v in params]


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(an unparsable PostgreSQL URL)"
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{parts.get('host', '')}{port}/{parts.get('dbname', '')}"


class Result:
    """What a statement returned, read in full before its connection went back to the pool."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        """Hold ``rows`` and the server's row count; like a cursor, each row is read once."""
        self._rows = iter(rows)
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        """The next row, or None."""
        return next(self._rows, None)

    def fetchall(self) -> list[Any]:
        """The rows not read yet."""
        return list(self._rows)

    def __iter__(self) -> Iterator[Any]:
        """The rows not read yet."""
        return self._rows


def _run(conn: psycopg.Connection[Any], sql: str, params: Params) -> Result:
    cursor = conn.execute(translate(sql), _params(params))
    rows = cursor.fetchall() if cursor.description else []
    return Result(rows, cursor.rowcount)


class PgConnection:
    """One transaction's connection, speaking the stores' dialect."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        """Wrap ``conn`` (inside a transaction)."""
        self.raw = conn

    def execute(self, sql: str, params: Params = (), /) -> Result:
        """Run one statement."""
        return _run(self.raw, sql, params)

    def executemany(self, sql: str, rows: Sequence[Params], /) -> None:
        """Run one statement per row (pipelined by psycopg)."""
        with self.raw.cursor() as cursor:
            cursor.executemany(translate(sql), [_params(r) for r in rows])


class PostgresDatabase:
    """A pool of connections to one PostgreSQL database."""

    dialect: Final = "postgresql"

    def __init__(self, url: str, *, max_size: int = 8, wait: bool = True) -> None:
        """Open the pool; with ``wait``, fail now (``StoreUnavailableError``) when the server cannot be reached."""
        self.url = url
        self.location = redact(url)
        self.max_size = max_size
        self._down: StoreUnavailableError | None = None  # set while the server is taken as unreachable
        self._recovering = threading.Lock()
        try:
            self.pool = self._new_pool(wait=wait)
        except (PoolTimeout, psycopg.Error) as exc:
            raise self.unavailable(exc) from None

    def _new_pool(self, *, wait: bool) -> ConnectionPool[psycopg.Connection[Any]]:
        pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            self.url,
            min_size=1,
            max_size=self.max_size,
            kwargs={"autocommit": True, "row_factory": _row_factory, "connect_timeout": int(CONNECT_TIMEOUT_S)},
            check=ConnectionPool.check_connection,
            timeout=CONNECT_TIMEOUT_S,
            name="newsdesk",
            open=False,
        )
        try:
            pool.open(wait=wait, timeout=CONNECT_TIMEOUT_S)
        except BaseException:
            pool.close()
            raise
        return pool

    def unavailable(self, exc: BaseException) -> StoreUnavailableError:
        """The message for a server that cannot be reached or refused us."""
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return StoreUnavailableError(
            f"cannot reach the database at {self.location} ({detail}); check NEWSDESK_DATABASE_URL and that "
            "PostgreSQL is running"
        )

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if self._down is not None:
            self._probe()
        used: psycopg.Connection[Any] | None = None
        try:
            with self.pool.connection() as conn:
                used = conn
                yield conn
        except (PoolTimeout, psycopg.OperationalError) as exc:
            error = self.unavailable(exc)
            if used is None or used.broken or used.closed:  # the server, not the statement
                self._down = error
            raise error from None
        self._down = None

    def mark_down(self, exc: BaseException) -> None:
        """Take the server as unreachable until a probe connects (a listener saw its connection break)."""
        self._down = self.unavailable(exc)

    def _probe(self) -> None:
        """Whether the server is back: one plain connection, failing fast (``StoreUnavailableError``) if not.

        Once it is, a fresh pool replaces the old one, whose reconnection attempts back off exponentially
        while the server is down and would leave the first callers waiting seconds after it is back.
        """
        try:
            psycopg.connect(self.url, connect_timeout=PROBE_TIMEOUT_S).close()
        except psycopg.Error as exc:
            raise self.unavailable(exc) from None
        with self._recovering:
            if self._down is None:  # another thread recovered meanwhile
                return
            old, self.pool = self.pool, self._new_pool(wait=False)
            self._down = None
        threading.Thread(target=old.close, name="newsdesk-old-pool", daemon=True).start()

    def execute(self, sql: str, params: Params = (), /) -> Result:
        """One statement on its own (autocommit): a read, or a single-statement write."""
        with self._connection() as conn:
            return _run(conn, sql, params)

    def executemany(self, sql: str, rows: Sequence[Params], /) -> None:
        """One statement per row, all in one transaction."""
        with self.transaction() as db:
            db.executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[PgConnection]:
        """One write transaction, serialised with every other writer of this database."""
        with self._connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            yield PgConnection(conn)

    @contextmanager
    def session(self) -> Iterator[psycopg.Connection[Any]]:
        """A raw connection of the pool, for what only PostgreSQL does (``COPY``, ``LISTEN``, locks)."""
        with self._connection() as conn:
            yield conn

    def notify(self, db: Any, channel: str, payload: str) -> None:
        """``NOTIFY`` ``channel``: delivered to listeners when ``db``'s transaction commits."""
        db.execute("SELECT pg_notify(?, ?)", (channel, payload))

    def close(self) -> None:
        """Close the pool (idempotent)."""
        pool = getattr(self, "pool", None)
        if pool is not None:
            pool.close()
