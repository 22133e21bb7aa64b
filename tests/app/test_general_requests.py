""" "help" and "any news?" get a pointer, not quotes that happen to share a word with them."""

from __future__ import annotations

from retrieval.intent import GENERAL_NEWS, HELP
from retrieval.scope import Scope
from tests.conftest import PESKOV, SEEDS, MakeEngine


def test_help_and_general_news_are_pointed_elsewhere(make_engine: MakeEngine):
    """should answer "help" with how to ask and "any news?" with the digest, quoting nothing."""
    engine = make_engine()
    engine.ingest_paths([SEEDS])
    helped, news = engine.ask("help"), engine.ask("<@123456789012345678> any news?? lol")
    assert (helped.answered, helped.text, helped.citations) == (False, HELP, ())
    assert (news.answered, news.text, news.citations) == (False, GENERAL_NEWS, ())
    assert "digest" in news.text
    assert engine.ask(PESKOV).answered  # a question about the news is answered as before


def test_help_needs_no_index(make_engine: MakeEngine):
    """should explain itself even before anything is indexed (a question then says the index is empty)."""
    assert make_engine().ask("what can you do").text == HELP


def test_given_articles_make_it_a_question_about_them(make_engine: MakeEngine):
    """should read "any news?" within named articles (a follow-up searches its story first) as asking about them."""
    engine = make_engine()
    engine.ingest_paths([SEEDS])
    story = engine.ask(PESKOV).citations[0].article_id
    answer = engine.ask("any news?", Scope(article_ids=(story,)), abstain=False)
    assert answer.answered
    assert {c.article_id for c in answer.citations} == {story}
