"""A tiny news day for digest tests: three reports of one cyclone, two of one election, a cyclone elsewhere,
single stories, an older and an undated report; dated relative to ``NOW``, ingested with the fake encoder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.config import EngineConfig
from app.engine import Engine
from index.models import RawArticle
from retrieval.digest import Digest, Window, build_digest, make_window
from tests.fakes import FakeEncoder

NOW = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)  # a Thursday
DAY = make_window("24h", now=NOW)


@dataclass(frozen=True)
class Item:
    title: str
    text: str
    source: str
    hours_ago: float | None  # None: publication date unknown


ITEMS = {
    "pam_reuters": Item(
        "Cyclone Pam batters Vanuatu",
        "Cyclone Pam tore through Port Vila, the capital of Vanuatu, on Saturday, flattening homes and cutting power. "
        "Aid agencies said thousands of families in Vanuatu needed shelter, food and clean water after Cyclone Pam. "
        "The Vanuatu government declared a state of emergency as the storm moved south past Port Vila.",
        "Reuters",
        6,
    ),
    "pam_bbc": Item(
        "Vanuatu counts the cost of Cyclone Pam",
        "Relief workers in Port Vila described unbelievable destruction after Cyclone Pam hit Vanuatu on Saturday. "
        "Thousands of homes in the capital of Vanuatu were flattened and power was cut across the islands. "
        "The government of Vanuatu declared a state of emergency and asked for international aid after Cyclone Pam.",
        "BBC",
        4,
    ),
    "pam_ap": Item(
        "Aid flights reach Vanuatu after Cyclone Pam",
        "The first aid flights landed in Port Vila on Sunday, a day after Cyclone Pam smashed into Vanuatu. "
        "Officials in Vanuatu said the storm flattened thousands of homes and left families without clean water. "
        "Cyclone Pam was one of the strongest storms to hit the Pacific, aid workers in Vanuatu said.",
        "AP",
        3,
    ),
    "vote_cnn": Item(
        "Netanyahu claims victory in Israel election",
        "Benjamin Netanyahu declared victory in the Israel election on Tuesday night as his Likud party surged. "
        "Exit polls had shown Likud tied with the Zionist Union of Isaac Herzog before the final count. "
        "Netanyahu told supporters in Tel Aviv that Likud had won against all odds.",
        "CNN",
        14,
    ),
    "vote_bbc": Item(
        "Likud wins Israel election as Netanyahu returns",
        "Likud won the Israel election by a clear margin, final results showed, returning Benjamin Netanyahu. "
        "Isaac Herzog conceded defeat for the Zionist Union on Wednesday morning in Tel Aviv. "
        "Netanyahu thanked Likud voters for what he called a great victory against all odds.",
        "BBC",
        2,
    ),
    "marcia": Item(
        "Cyclone Marcia hits Queensland",
        "Cyclone Marcia made landfall near Rockhampton in Queensland, Australia, bringing heavy rain on Friday. "
        "Australian officials told residents of Rockhampton and Yeppoon to stay indoors until Marcia weakened. "
        "Queensland police said roads around Yeppoon were closed by fallen trees and floods.",
        "ABC",
        5,
    ),
    "chelsea": Item(
        "Chelsea beat West Ham at Stamford Bridge",
        "Chelsea beat West Ham one goal to nil at Stamford Bridge to stay top of the Premier League table. "
        "Eden Hazard scored the winner with a header just before half time in London. "
        "Jose Mourinho praised his players for a hard-fought win over their London rivals.",
        "Sky",
        1,
    ),
    "museum": Item(
        "City museum opens a gallery of Roman coins",
        "The city museum opened a new gallery on Wednesday showing more than two thousand Roman coins. "
        "The coins were found by farmers ploughing fields near the old river crossing over many decades. "
        "Curators said visitors could handle copies of the rarest coins in a special learning room.",
        "Local Post",
        23,
    ),
    "old_pam": Item(
        "Forecasters warn Vanuatu of Cyclone Pam",
        "Forecasters warned Vanuatu that Cyclone Pam could reach Port Vila within days as it gathered strength. "
        "Families across Vanuatu were told to stock up on food and clean water before the storm arrived.",
        "Reuters",
        72,
    ),
    "undated_pam": Item(
        "Cyclone Pam: what we know",
        "Cyclone Pam hit Port Vila in Vanuatu, flattening homes, cutting power and leaving families without water. "
        "The Vanuatu government declared a state of emergency after Cyclone Pam passed.",
        "Blog",
        None,
    ),
}
SERVER, OTHER_SERVER = "111", "222"


def _raw(name: str, item: Item, *, source: str | None = None, url: str | None = None) -> RawArticle:
    published = None if item.hours_ago is None else NOW - timedelta(hours=item.hours_ago)
    return RawArticle(
        title=item.title,
        text=item.text,
        source=source or item.source,
        url=url or f"https://{(source or item.source).lower().replace(' ', '')}.test/{name}",
        published=published,
    )


@dataclass
class Desk:
    engine: Engine
    ids: dict[str, str]

    def digest(self, window: Window = DAY, **kwargs: object) -> Digest:
        kwargs.setdefault("collections", (SERVER, "global"))
        return build_digest(self.engine.store, self.engine.encoder, window, **kwargs)  # type: ignore[arg-type]

    def add(self, name: str, item: Item, *, collection: str = SERVER, **kwargs: str) -> str:
        report = self.engine.ingest([_raw(name, item, **kwargs)], collection=collection)
        self.ids[name] = report.article_ids[0]
        return self.ids[name]


def make_desk(tmp_path: Path) -> Desk:
    """The news day, ingested into collection ``SERVER`` of a fresh index."""
    engine = Engine(EngineConfig(data_dir=tmp_path, chunk_words=30), encoder=FakeEncoder(dim=1024))
    report = engine.ingest([_raw(n, item) for n, item in ITEMS.items()], collection=SERVER)
    return Desk(engine, dict(zip(ITEMS, report.article_ids, strict=True)))
