"""Digests over a tiny news day, with the fake encoder: grouping, ranking, filters, citations, windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from retrieval.digest import Digest, Window, build_digest, make_window, parse_when
from retrieval.errors import BadQuestionError
from tests.conftest import MakeEngine
from tests.digest_news import DAY, ITEMS, NOW, OTHER_SERVER, Desk, Item, make_desk


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    return make_desk(tmp_path)


def _names(desk: Desk, digest: Digest) -> list[set[str]]:
    by_id = {aid: name for name, aid in desk.ids.items()}
    return [{by_id[aid] for aid in story.article_ids} for story in digest.stories]


def test_articles_about_one_event_form_one_story(desk: Desk):
    """should group the three Cyclone Pam reports, and the two election reports, each into one story."""
    stories = _names(desk, desk.digest())
    assert {"pam_reuters", "pam_bbc", "pam_ap"} in stories
    assert {"vote_cnn", "vote_bbc"} in stories


def test_same_topic_other_event_is_its_own_story(desk: Desk):
    """should keep Cyclone Marcia in Queensland apart from Cyclone Pam in Vanuatu."""
    assert {"marcia"} in _names(desk, desk.digest())


def test_ranked_by_coverage_then_recency(desk: Desk):
    """should put three outlets before two, and among single reports the newer first."""
    assert _names(desk, desk.digest()) == [
        {"pam_reuters", "pam_bbc", "pam_ap"},
        {"vote_cnn", "vote_bbc"},
        {"chelsea"},
        {"marcia"},
        {"museum"},
    ]


def test_story_lists_every_outlet_and_its_earliest_article_as_key(desk: Desk):
    """should list each outlet once, the merged copy's too, and key the story by its earliest article."""
    desk.add("pam_afp", ITEMS["pam_reuters"], source="AFP", url="https://afp.test/pam")  # merged near-duplicate
    storm = desk.digest().stories[0]
    assert sorted(storm.sources) == ["AFP", "AP", "BBC", "Reuters"]
    assert storm.key == desk.ids["pam_reuters"]
    assert storm.first_published == NOW - timedelta(hours=6)
    assert storm.last_published == NOW - timedelta(hours=3)


def test_summary_sentences_are_cited_and_verbatim(desk: Desk):
    """should summarize each story in one or two sentences, each exactly the article text at its offsets."""
    digest = desk.digest()
    articles = desk.engine.store.articles(aid for s in digest.stories for aid in s.article_ids)
    for story in digest.stories:
        assert 1 <= len(story.citations) <= 2
        assert story.summary == " ".join(c.quote for c in story.citations)
        for c in story.citations:
            assert c.article_id == story.article_ids[0]
            assert articles[c.article_id].text[c.start : c.end] == c.quote


def test_title_is_the_central_articles_headline(desk: Desk):
    """should title a story with the headline of one of its own articles."""
    digest = desk.digest()
    titles = {a.id: a.title for a in desk.engine.store.articles(digest.stories[0].article_ids).values()}
    assert digest.stories[0].title == titles[digest.stories[0].article_ids[0]]


def test_lede_title_becomes_the_whole_first_sentence(desk: Desk):
    """should title a story whose stored title is a cut-off lede with its full first sentence."""
    text = "U.S. officials said on Monday that the bridge over the river would reopen to traffic within a week."
    desk.add("bridge", Item("U.S.", text, "Wire", 0.5))
    story = next(s for s in desk.digest().stories if s.article_ids == (desk.ids["bridge"],))
    assert story.title == text


def test_undated_and_out_of_window_articles_are_left_out(desk: Desk):
    """should never guess an undated article into the window, nor show one published before it."""
    shown = set().union(*_names(desk, desk.digest()))
    assert "undated_pam" not in shown and "old_pam" not in shown
    assert desk.digest().articles == 8


def test_quiet_window_says_so_in_one_line(desk: Desk):
    """should give no stories and one line for a window with nothing published."""
    window = make_window(NOW - timedelta(days=10), NOW - timedelta(days=9), now=NOW)
    digest = desk.digest(window)
    assert digest.quiet and digest.stories == () and digest.articles == 0
    assert digest.quiet_line() == "No new stories since 2025-03-10 12:00 UTC."
    assert digest.to_json() == {"since": window.since.isoformat(), "until": window.until.isoformat(), "stories": []}


def test_empty_index_is_quiet(make_engine: MakeEngine):
    """should be quiet, not fail, when nothing at all is indexed."""
    engine = make_engine()
    assert build_digest(engine.store, engine.encoder, DAY).quiet


def test_another_servers_articles_never_show(desk: Desk):
    """should not show, count or list as a source an article of another collection, even on the same event."""
    secret = desk.add("pam_secret", ITEMS["pam_bbc"], collection=OTHER_SERVER, source="SecretWire")
    only_there = desk.add("private", ITEMS["museum"], collection=OTHER_SERVER, source="SecretWire")
    digest = desk.digest(limit=None)
    ids = {aid for s in digest.stories for aid in s.article_ids}
    assert secret not in ids and only_there not in ids
    assert all("SecretWire" not in s.sources for s in digest.stories)
    assert digest.articles == 8
    theirs = desk.digest(collections=(OTHER_SERVER,))
    assert {aid for s in theirs.stories for aid in s.article_ids} == {secret, only_there}


def test_topic_keeps_the_stories_about_it(desk: Desk):
    """should show only the stories about the topic."""
    assert _names(desk, desk.digest(topic="Netanyahu")) == [{"vote_cnn", "vote_bbc"}]
    quiet = desk.digest(topic="volcano eruption in Iceland")
    assert (
        quiet.quiet
        and quiet.quiet_line() == "No new stories on 'volcano eruption in Iceland' since 2025-03-19 12:00 UTC."
    )


def test_source_keeps_that_outlets_stories_and_summarizes_its_article(desk: Desk):
    """should show the stories an outlet ran, summarized from that outlet's article, with every outlet listed."""
    digest = desk.digest(sources=["bbc"])
    assert _names(desk, digest) == [{"pam_reuters", "pam_bbc", "pam_ap"}, {"vote_cnn", "vote_bbc"}]
    assert [s.article_ids[0] for s in digest.stories] == [desk.ids["pam_bbc"], desk.ids["vote_bbc"]]
    assert sorted(digest.stories[0].sources) == ["AP", "BBC", "Reuters"]


def test_limit(desk: Desk):
    """should stop at ``limit`` stories, best first."""
    assert _names(desk, desk.digest(limit=2)) == _names(desk, desk.digest())[:2]


def test_posted_stories_come_back_only_with_new_articles(desk: Desk):
    """should leave out stories already posted, and bring one back, under its key, when it has a new article."""
    first = desk.digest()
    posted = {s.key: s.article_ids for s in first.stories}
    assert desk.digest(posted=posted).quiet
    text = (
        "Vanuatu began to rebuild on Monday after Cyclone Pam flattened homes across Port Vila. "
        "Schools in Port Vila will stay shut this week, the Vanuatu government said after Cyclone Pam."
    )
    new = desk.add("pam_guardian", Item("Vanuatu begins to rebuild after Cyclone Pam", text, "Guardian", 0.5))
    again = desk.digest(posted=posted)
    assert len(again.stories) == 1
    story = again.stories[0]
    assert story.key == first.stories[0].key and story.updated and story.new_article_ids == (new,)
    assert story.to_json()["updated"] is True


def test_story_json_shape(desk: Desk):
    """should give the ``digest --json`` fields, with citations in the ``ask --json`` shape."""
    story = desk.digest().stories[0].to_json()
    assert list(story) == ["key", "title", "sources", "article_ids", "published", "updated", "summary", "citations"]
    citation = story["citations"][0]  # type: ignore[index]
    assert list(citation) == ["n", "article_id", "title", "source", "url", "published", "quote", "start", "end"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", NOW - timedelta(hours=24)),
        ("36 hours", NOW - timedelta(hours=36)),
        ("3d", NOW - timedelta(days=3)),
        ("3 days", NOW - timedelta(days=3)),
        ("2w", NOW - timedelta(weeks=2)),
        ("yesterday", datetime(2025, 3, 19, tzinfo=UTC)),
        ("today", datetime(2025, 3, 20, tzinfo=UTC)),
        ("monday", datetime(2025, 3, 17, tzinfo=UTC)),
        ("Mon", datetime(2025, 3, 17, tzinfo=UTC)),
        ("since monday", datetime(2025, 3, 17, tzinfo=UTC)),
        ("since yesterday", datetime(2025, 3, 19, tzinfo=UTC)),
        ("since  24h", NOW - timedelta(hours=24)),
        ("3 months", datetime(2024, 12, 20, 12, tzinfo=UTC)),
        ("March 3", datetime(2025, 3, 3, tzinfo=UTC)),
        ("thursday", datetime(2025, 3, 20, tzinfo=UTC)),
        ("last week", datetime(2025, 3, 10, tzinfo=UTC)),
        ("2025-03-01", datetime(2025, 3, 1, tzinfo=UTC)),
        ("2025-03-01T08:30:00+01:00", datetime(2025, 3, 1, 7, 30, tzinfo=UTC)),
    ],
)
def test_parse_when(text: str, expected: datetime):
    """should read the forms the command offers."""
    assert parse_when(text, now=NOW) == expected


@pytest.mark.parametrize(
    "text",
    ["", "since", "banana", "tomorrow", "yesterday banana", "since the dawn of time", "24x", "2025-03-01 noonish"],
)
def test_unreadable_when_is_refused(text: str):
    """should refuse text that is not wholly a time, with the forms to use."""
    with pytest.raises(BadQuestionError, match=r"as a time: use e\.g\."):
        parse_when(text, now=NOW)


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("2025-04-01", None, "starts in the future"),
        ("2023-01-01", None, "longer than a year"),
        ("2024-01-01", "2025-02-01", "longer than a year"),
        ("yesterday", "2025-03-01", "ends before it starts"),
        ("24h", "24h", "ends before it starts"),
    ],
)
def test_bad_window_is_refused(since: str, until: str | None, message: str):
    """should refuse a window in the future, over a year long, or ending before it starts."""
    with pytest.raises(BadQuestionError, match=message):
        make_window(since, until, now=NOW)


def test_window_end_is_capped_at_now():
    """should end a window at the present when asked for a later end."""
    assert make_window("yesterday", "2025-06-01", now=NOW) == Window(datetime(2025, 3, 19, tzinfo=UTC), NOW)
