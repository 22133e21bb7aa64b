from __future__ import annotations

import pytest

from index.models import RawArticle
from tests.conftest import MakeEngine

pytestmark = pytest.mark.both_engines

PARAGRAPHS = [
    "The city council approved a plan on Tuesday to build three new bridges across the river by 2030.",
    "The bridges will carry trams, buses and bicycles, but private cars will be banned from two of them.",
    "Mayor Ines Duarte said the project would cut commuting times for about 200,000 people every day.",
    "Opposition members criticised the cost, estimated at 1.2 billion euros, and asked for a referendum.",
    "Construction of the first bridge is due to start next spring, after an environmental review.",
    "Local businesses near the river welcomed the plan but asked for help during the years of building work.",
    "The national government has promised to pay for a third of the project from its transport fund.",
    "Engineers said the design of the bridges was chosen to survive floods like the one that hit in 2019.",
]


def _story(title: str, paragraphs: list[str], url: str, source: str) -> RawArticle:
    return RawArticle(title=title, text="\n\n".join(paragraphs), url=url, source=source)


def test_near_copy_is_merged_and_keeps_its_source(make_engine: MakeEngine):
    """should store a re-published copy (new headline, one changed paragraph) once, keeping both sources."""
    engine = make_engine()
    first = engine.ingest([_story("Council backs bridges", PARAGRAPHS, "https://a.test/bridges", "Alpha")])
    changed = [*PARAGRAPHS]
    changed[3] = "Critics in the opposition said the price, put at 1.2 billion euros, was far too high for the city."
    report = engine.ingest(
        [_story("Three bridges for the city", changed, "https://b.test/news?id=7&utm_source=rss", "Beta")]
    )
    assert report.merged == 1 and report.added == 0
    assert engine.store.article_count() == 1
    (copies,) = engine.store.other_sources(first.article_ids).values()
    assert copies[0]["source"] == "Beta" and copies[0]["title"] == "Three bridges for the city"


def test_different_story_on_the_same_topic_is_kept(make_engine: MakeEngine):
    """should keep a different story about the same bridges as its own article."""
    engine = make_engine()
    engine.ingest([_story("Council backs bridges", PARAGRAPHS, "https://a.test/bridges", "Alpha")])
    other = [
        "Residents marched on Saturday against the bridge plan approved by the council earlier this month.",
        "Organisers said 5,000 people joined the protest, while police put the number at about 2,000.",
        "Many marchers said the new bridges would bring noise and traffic to quiet riverside streets.",
        "The mayor's office said it would hold public meetings on the project before building starts.",
    ]
    report = engine.ingest([_story("Protest against bridges", other, "https://c.test/protest", "Gamma")])
    assert report.added == 1 and report.merged == 0
    assert engine.store.article_count() == 2


def test_shared_sentence_is_cited_once(make_engine: MakeEngine):
    """should not return the same passage text twice when two different articles share it."""
    engine = make_engine(chunk_words=15, chunk_overlap=0)
    shared = "The agency confirmed the outbreak was contained after ten days of quarantine measures."
    a = [shared, *PARAGRAPHS[:3]]
    b = [shared, "Schools will reopen on Monday, officials said.", "Travel restrictions remain in place."]
    engine.ingest(
        [_story("Outbreak over", a, "https://a.test/1", "A"), _story("Schools reopen", b, "https://b.test/2", "B")]
    )
    assert engine.store.article_count() == 2
    answer = engine.ask("Was the outbreak contained after the quarantine?")
    assert answer.answered
    assert [c.quote for c in answer.citations].count(shared) == 1


def test_edited_file_replaces_and_same_title_story_is_kept(make_engine: MakeEngine):
    """should replace an edited article without URL, but keep a different story that shares its title."""
    engine = make_engine()
    engine.ingest([RawArticle(title="Council backs bridges", text="\n\n".join(PARAGRAPHS))])
    edited = [*PARAGRAPHS]
    edited[4] = "Construction of the first bridge will now start in the autumn, the council said on Friday."
    report = engine.ingest([RawArticle(title="Council backs bridges", text="\n\n".join(edited))])
    assert (report.replaced, report.added, report.merged) == (1, 0, 0)
    (article,) = engine.store.iter_articles()
    assert "autumn" in article.text
    other = RawArticle(title="Council backs bridges", text="A rural council in the north approved two footbridges.")
    assert engine.ingest([other]).added == 1
    assert engine.store.article_count() == 2


def test_exact_copy_at_another_url_keeps_its_source(make_engine: MakeEngine):
    """should record the outlet of a word-for-word copy (same headline, another URL), once however often it comes."""
    engine = make_engine()
    first = engine.ingest([_story("Council backs bridges", PARAGRAPHS, "https://a.test/bridges", "Alpha")])
    copy = _story("Council backs bridges", PARAGRAPHS, "https://b.test/bridges", "Beta")
    report = engine.ingest([copy, copy])
    engine.ingest([copy])
    assert report.unchanged == 2 and report.article_ids == first.article_ids * 2
    assert engine.store.article_count() == 1
    (copies,) = engine.store.other_sources(first.article_ids).values()
    assert [(c["source"], c["url"]) for c in copies] == [("Beta", "https://b.test/bridges")]


def test_exact_repeat_of_a_merged_copy_points_at_the_stored_article(make_engine: MakeEngine):
    """should map a repeated near-copy to the article it was merged into, and keep each of its URLs once."""
    engine = make_engine()
    first = engine.ingest([_story("Council backs bridges", PARAGRAPHS, "https://a.test/bridges", "Alpha")])
    changed = [*PARAGRAPHS]
    changed[3] = "Critics in the opposition said the price, put at 1.2 billion euros, was far too high for the city."
    copy = _story("Three bridges for the city", changed, "https://b.test/bridges", "Beta")
    elsewhere = _story("Three bridges for the city", changed, "https://c.test/bridges", "Gamma")
    report = engine.ingest([copy, copy, elsewhere])
    assert report.article_ids == first.article_ids * 3
    (copies,) = engine.store.other_sources(first.article_ids).values()
    assert [c["source"] for c in copies] == ["Beta", "Gamma"]
