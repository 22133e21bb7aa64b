"""Conversations and the answers shown in them, kept in the article database (``newsdesk.db``).

A conversation outlives the bot process: a restart keeps every thread's context, and buttons
on an old answer (vote, report, follow-up, context) still find what they refer to. Two tables,
created here beside the store's own (``index/store.py`` is not touched)::

    conversations  id, collections (JSON list: the scope, fixed when it started), guild_id,
                   thread_id (the Discord thread carrying it, unique), state (JSON, opaque here:
                   ``retrieval.conversation.Conversation``), created_at, updated_at, expires_at
    answers        id, conversation_id, collections, question (as typed), rewritten (what was
                   searched), answered, quotes (JSON: n, article_id, title, quote, start, end), created_at

The state is opaque so that ``index/`` stays independent of ``retrieval/``: ``record`` takes a
function that advances it, and applies it inside the transaction that adds the answer, so two
follow-ups in one thread at once both land. Both tables are bounded: beyond ``max_conversations``
and ``max_answers`` rows the least recently used are dropped (answers keep no feedback of their
own, ``index/feedbackstore.py`` copies what it needs).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from index.database import Connection, Row
from index.store import Store

__all__ = ["ConversationStore", "StoredAnswer", "StoredConversation", "StoredQuote"]

MAX_CONVERSATIONS = 20_000
MAX_ANSWERS = 100_000
PRUNE_EVERY = 64
"""Records between two prunes: pruning walks an index, so it is not done on every write."""


Advance = Callable[[str], tuple[str, datetime | None]]
"""Takes the stored state (JSON) and returns the next state and when it expires."""


def _ts(value: datetime) -> str:
    # One fixed format (UTC, microseconds) so that timestamps order correctly as text in SQL.
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True, slots=True)
class StoredQuote:
    """One citation of an answer, as shown: ``quote`` was ``article.text[start:end]`` when answered."""

    n: int
    article_id: str
    title: str
    quote: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class StoredConversation:
    """A conversation row; ``state`` is the caller's JSON."""

    id: str
    collections: tuple[str, ...]
    guild_id: int | None
    thread_id: int | None
    state: str
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None

    def expired(self, now: datetime) -> bool:
        """Whether it had expired at ``now`` (a conversation without turns never expires)."""
        return self.expires_at is not None and now >= self.expires_at


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """An answer shown to users, with what it quoted, in the conversation it belongs to."""

    id: str
    conversation_id: str
    collections: tuple[str, ...]
    question: str
    rewritten: str
    answered: bool
    quotes: tuple[StoredQuote, ...]
    created_at: datetime


def _conversation(row: Row) -> StoredConversation:
    return StoredConversation(
        id=row["id"],
        collections=tuple(json.loads(row["collections"])),
        guild_id=row["guild_id"],
        thread_id=row["thread_id"],
        state=row["state"],
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
        expires_at=_dt(row["expires_at"]),
    )


def _answer(row: Row) -> StoredAnswer:
    return StoredAnswer(
        id=row["id"],
        conversation_id=row["conversation_id"],
        collections=tuple(json.loads(row["collections"])),
        question=row["question"],
        rewritten=row["rewritten"],
        answered=bool(row["answered"]),
        quotes=tuple(StoredQuote(**q) for q in json.loads(row["quotes"])),
        created_at=datetime.fromisoformat(row["created_at"]),
    )


def new_id() -> str:
    """A short random id (12 hex characters): it travels in button custom ids (at most 100 characters)."""
    return secrets.token_hex(6)


class ConversationStore:
    """The ``conversations`` and ``answers`` tables of a ``Store``; thread-safe like the store.

    Every method is blocking SQLite: the bot calls them in a worker thread.
    """

    def __init__(
        self, store: Store, *, max_conversations: int = MAX_CONVERSATIONS, max_answers: int = MAX_ANSWERS
    ) -> None:
        """Use (creating them if needed) the tables in ``store``'s database."""
        self.store = store
        self.max_conversations = max_conversations
        self.max_answers = max_answers
        self._writes = 0

    # -- reads ------------------------------------------------------------------------------------
    def get(self, conversation_id: str) -> StoredConversation | None:
        """One conversation, or None."""
        row = self.store.db.execute("SELECT * FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        return None if row is None else _conversation(row)

    def by_thread(self, thread_id: int) -> StoredConversation | None:
        """The conversation a Discord thread carries, or None."""
        row = self.store.db.execute("SELECT * FROM conversations WHERE thread_id = ?", (thread_id,)).fetchone()
        return None if row is None else _conversation(row)

    def answer(self, answer_id: str) -> StoredAnswer | None:
        """One answer, or None (never shown, or dropped as one of the oldest)."""
        row = self.store.db.execute("SELECT * FROM answers WHERE id = ?", (answer_id,)).fetchone()
        return None if row is None else _answer(row)

    # -- writes -----------------------------------------------------------------------------------
    def start(
        self,
        collections: Sequence[str],
        *,
        state: str,
        guild_id: int | None = None,
        thread_id: int | None = None,
        now: datetime | None = None,
    ) -> StoredConversation:
        """A new conversation over ``collections`` (fixed for its life), optionally carried by a thread.

        A thread carries one conversation: starting one in a thread that had another replaces it.
        """
        stamp = _ts(now or datetime.now(UTC))
        conversation_id = new_id()
        with self.store.transaction() as db:
            if thread_id is not None:
                db.execute("UPDATE conversations SET thread_id = NULL WHERE thread_id = ?", (thread_id,))
            db.execute(
                "INSERT INTO conversations (id, collections, guild_id, thread_id, state, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, json.dumps(list(collections)), guild_id, thread_id, state, stamp, stamp),
            )
            row = db.execute("SELECT * FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        return _conversation(row)

    def bind_thread(self, conversation_id: str, thread_id: int) -> None:
        """Record that ``thread_id`` carries the conversation from now on (taking it from any other)."""
        with self.store.transaction() as db:
            db.execute("UPDATE conversations SET thread_id = NULL WHERE thread_id = ?", (thread_id,))
            db.execute("UPDATE conversations SET thread_id = ? WHERE id = ?", (thread_id, conversation_id))

    def record(
        self,
        conversation_id: str,
        advance: Advance,
        *,
        question: str,
        rewritten: str,
        answered: bool,
        quotes: Sequence[StoredQuote],
        now: datetime | None = None,
    ) -> StoredAnswer:
        """Add an answer to a conversation and advance its state, in one transaction.

        Args:
            conversation_id: the conversation (which must exist).
            advance: the next state from the current one (applied to the stored state, so that
                concurrent turns of one conversation are all kept).
            question: the question as typed.
            rewritten: the standalone question that was searched.
            answered: whether the answer quoted anything.
            quotes: its citations.
            now: the time of the answer (tests pass a fixed one).

        Raises:
            KeyError: when the conversation does not exist (any more).
        """
        stamp = _ts(now or datetime.now(UTC))
        with self.store.transaction() as db:
            row = db.execute("SELECT * FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
            if row is None:
                raise KeyError(conversation_id)
            state, expires = advance(row["state"])
            db.execute(
                "UPDATE conversations SET state = ?, updated_at = ?, expires_at = ? WHERE id = ?",
                (state, stamp, _ts(expires) if expires else None, conversation_id),
            )
            while True:  # 48 random bits: a collision is a retry, not an error
                answer_id = new_id()
                inserted = db.execute(
                    "INSERT INTO answers (id, conversation_id, collections, question, rewritten, answered,"
                    " quotes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                    (
                        answer_id,
                        conversation_id,
                        row["collections"],
                        question,
                        rewritten,
                        int(answered),
                        json.dumps([asdict(q) for q in quotes]),
                        stamp,
                    ),
                )
                if inserted.rowcount == 1:
                    break
            self._writes += 1
            if self._writes % PRUNE_EVERY == 0:
                self._prune(db)
            stored = db.execute("SELECT * FROM answers WHERE id = ?", (answer_id,)).fetchone()
        return _answer(stored)

    def prune(self) -> None:
        """Drop the least recently used conversations and the oldest answers beyond the limits."""
        with self.store.transaction() as db:
            self._prune(db)

    def _prune(self, db: Connection) -> None:
        db.execute(
            "DELETE FROM conversations WHERE id NOT IN (SELECT id FROM conversations ORDER BY updated_at DESC LIMIT ?)",
            (self.max_conversations,),
        )
        db.execute(
            "DELETE FROM answers WHERE id NOT IN (SELECT id FROM answers ORDER BY created_at DESC LIMIT ?)",
            (self.max_answers,),
        )
