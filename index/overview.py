"""What a server can ask about: its collections' articles, sources and newest article (``/stats``).

Read-only queries on the store's ``articles`` table, per collection, so that one server's
``/stats`` never counts another server's articles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from index.store import Store

__all__ = ["CollectionOverview", "collection_overview"]


@dataclass(frozen=True, slots=True)
class CollectionOverview:
    """One collection at a glance.

    Attributes:
        collection: its name (a server id, or ``global``).
        articles: how many articles it holds.
        sources: articles per source, most first (unknown sources under ``None``).
        newest_title: the title of its most recently published article (else most recently added).
        newest_published: that article's publication date, if known.
        last_added: when an article was last added to it.
    """

    collection: str
    articles: int
    sources: tuple[tuple[str | None, int], ...]
    newest_title: str | None
    newest_published: datetime | None
    last_added: datetime | None


def collection_overview(store: Store, collections: Sequence[str]) -> list[CollectionOverview]:
    """An overview of each of ``collections``, in the order given (empty ones included)."""
    db = store.db
    out = []
    for collection in collections:
        count, last_added = db.execute(
            "SELECT COUNT(*), MAX(added_at) FROM articles WHERE collection = ?", (collection,)
        ).fetchone()
        sources = tuple(
            (source, int(n))
            for source, n in db.execute(
                "SELECT source, COUNT(*) FROM articles WHERE collection = ? GROUP BY source ORDER BY 2 DESC, 1",
                (collection,),
            )
        )
        newest = db.execute(
            "SELECT title, published FROM articles WHERE collection = ?"
            " ORDER BY published IS NULL, published DESC, added_at DESC LIMIT 1",
            (collection,),
        ).fetchone()
        published = newest["published"] if newest else None
        out.append(
            CollectionOverview(
                collection=collection,
                articles=int(count),
                sources=sources,
                newest_title=newest["title"] if newest else None,
                newest_published=datetime.fromisoformat(published) if published else None,
                last_added=datetime.fromisoformat(last_added) if last_added else None,
            )
        )
    return out
