"""A real PostgreSQL server for the tests: the one CI started, or a throwaway cluster of our own.

``.ci/run`` starts a cluster (``scripts/pg``) and sets ``NEWSDESK_TEST_DATABASE_URL``; without it,
the first test that needs PostgreSQL starts one in a temporary folder (when the server binaries are
installed) and it is stopped at the end of the session. Every test gets a fresh database, cloned
from a template that already holds the schema, and dropped afterwards.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from index.database import migrations
from index.database.postgres import PostgresDatabase

ROOT = Path(__file__).resolve().parent.parent
URL_VARIABLE = "NEWSDESK_TEST_DATABASE_URL"
REQUIRE_VARIABLE = "NEWSDESK_TEST_REQUIRE_POSTGRES"
TEMPLATE = "newsdesk_template"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One server: hands out fresh, migrated databases and drops them."""

    def __init__(self, url: str, cluster: Path | None = None) -> None:
        """Use the server at ``url`` (``cluster``: the folder of a cluster we started and must stop)."""
        self.url = url
        self.cluster = cluster
        self._names = itertools.count()
        self._template_ready = False

    @classmethod
    def start(cls, folder: Path) -> PostgresServer:
        """Start a throwaway cluster in ``folder``."""
        out = subprocess.run(
            [str(ROOT / "scripts" / "pg"), "start", str(folder), str(_free_port())],
            check=True,
            capture_output=True,
            text=True,
        )
        return cls(out.stdout.strip(), folder)

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.url, autocommit=True)

    def _url_of(self, name: str) -> str:
        """The server's URL with another database name (a URL, as users write NEWSDESK_DATABASE_URL)."""
        parts = urlsplit(self.url)
        return urlunsplit(parts._replace(path=f"/{name}"))

    def _ensure_template(self) -> None:
        if self._template_ready:
            return
        with self._admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(TEMPLATE)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
        database = PostgresDatabase(self._url_of(TEMPLATE))
        try:
            migrations.upgrade(database)
        finally:
            database.close()
        self._template_ready = True

    def new_database(self, *, migrated: bool = True) -> str:
        """A fresh database (with the current schema unless ``migrated`` is false); its URL."""
        self._ensure_template()
        name = f"t_{os.getpid()}_{next(self._names)}_{uuid.uuid4().hex[:6]}"
        with self._admin() as conn:
            if migrated:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(TEMPLATE))
                )
            else:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self._url_of(name)

    def drop(self, url: str) -> None:
        """Drop a database handed out by ``new_database`` (closing whatever still uses it)."""
        name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
        with self._admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(str(name))))

    def stop(self) -> None:
        """Stop the cluster if we started it."""
        if self.cluster is not None:
            subprocess.run([str(ROOT / "scripts" / "pg"), "stop", str(self.cluster)], check=False)


def server_binaries() -> bool:
    """Whether PostgreSQL's server programs are installed here."""
    return any(Path("/usr/lib/postgresql").glob("*/bin/initdb")) or shutil.which("initdb") is not None
