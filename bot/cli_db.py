"""``newsdesk db``: the database's schema and its move between engines.

    newsdesk db status                      engine, where, schema version (the database's and this code's)
    newsdesk db upgrade                     apply pending migrations (one transaction; the only way a shared
                                            PostgreSQL database changes schema)
    newsdesk db copy --to URL [--from SRC]  copy the index as it is, vectors included, into an empty database

SRC and URL are ``sqlite:PATH`` (a data folder) or ``postgresql://...``; ``--from`` defaults to the
configured store. Nothing here loads the embedding model. A database that cannot be reached, is of
another schema or already holds articles exits 3 with a message; nothing is half-written.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.exit_codes import EXIT_INDEX, EXIT_OK, EXIT_USAGE
from bot.terminal import echo

if TYPE_CHECKING:
    from bot.settings import Settings
    from index.database import Database
    from index.store import Store


def add_db_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register ``newsdesk db`` on the main parser's subcommands."""
    db = subparsers.add_parser("db", help="the database: status, upgrade, copy between SQLite and PostgreSQL")
    actions = db.add_subparsers(dest="db_command", required=True)
    actions.add_parser("status", help="engine, location and schema version")
    actions.add_parser("upgrade", help="apply pending schema migrations (in one transaction)")
    copy = actions.add_parser("copy", help="copy the whole index (vectors included) into an empty database")
    copy.add_argument("--from", dest="source", help="sqlite:PATH or postgresql://... (default: the configured store)")
    copy.add_argument("--to", dest="target", required=True, help="sqlite:PATH or postgresql://...")
    return db


def configured(settings: Settings) -> str:
    """The configured store as a ``db copy`` location."""
    return settings.store_url() or f"sqlite:{settings.data_dir}"


def open_store(settings: Settings) -> Store:
    """The configured store, for the commands that need no model (``jobs``, ``feedback export``).

    Raises:
        IngestError: when there is no index there, or it cannot be used (``UnusableIndexError``).
    """
    from index.store import Store

    return Store(settings.data_dir, create=False, database_url=settings.store_url())


def _open(spec: str, *, create: bool) -> Database:
    from index.database.copy import open_location

    return open_location(spec, create=create)


def _status(settings: Settings) -> int:
    from index.database import migrations

    db = _open(configured(settings), create=False)
    try:
        have, want = migrations.current_version(db, db.dialect), migrations.code_version(db.dialect)
        echo(f"engine: {db.dialect}")
        echo(f"location: {db.location}")
        echo(f"schema: {have} (this newsdesk: {want}{', upgrade needed' if have < want else ''})")
    finally:
        db.close()
    return EXIT_OK


def _upgrade(settings: Settings) -> int:
    from index.database import migrations

    db = _open(configured(settings), create=True)
    try:
        before, after = migrations.upgrade(db)
    finally:
        db.close()
    echo(f"schema {before} -> {after}" if before != after else f"schema already at {after}: nothing to do")
    return EXIT_OK


def _copy(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from index.database.copy import copy_database

    source = _open(args.source or configured(settings), create=False)
    try:
        target = _open(args.target, create=True)
        try:
            with tqdm(desc="copying", unit=" rows", file=sys.stderr, disable=None) as bar:
                done: dict[str, int] = {}

                def progress(table: str, rows: int) -> None:
                    done[table] = rows
                    bar.set_postfix_str(table)
                    bar.update(sum(done.values()) - bar.n)

                copied = copy_database(source, target, progress=progress)
        finally:
            target.close()
    finally:
        source.close()
    echo(f"copied {source.location} -> {target.location}:")
    for table, rows in copied.items():
        echo(f"  {table}: {rows}")
    return EXIT_OK


def run_db(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``newsdesk db ACTION``; the exit code."""
    from index.database.copy import parse_location
    from index.errors import UnusableIndexError

    try:
        if args.db_command == "copy":
            parse_location(args.target)
            parse_location(args.source or configured(settings))
    except ValueError as exc:
        echo(f"newsdesk db: {exc}", err=True)
        return EXIT_USAGE
    try:
        if args.db_command == "status":
            return _status(settings)
        if args.db_command == "upgrade":
            return _upgrade(settings)
        return _copy(args, settings)
    except ValueError as exc:  # a target that already holds articles
        echo(f"newsdesk db: {exc}", err=True)
        return EXIT_INDEX
    except UnusableIndexError as exc:  # unreachable, other schema, not a newsdesk file
        echo(f"newsdesk db: {exc}", err=True)
        return EXIT_INDEX
