"""Follow-up questions rewritten from hand-written conversations (``retrieval.conversation``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from retrieval._phrases import parse_frame, quoted_speakers
from retrieval.answer import Answer, Citation
from retrieval.conversation import MAX_TURNS, Conversation, Rewrite, Turn, record_turn, rewrite
from retrieval.question import MAX_QUESTION_CHARS

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PESKOV = "What did Peskov say about the strikes?"
PESKOV_QUOTE = '"We are very concerned," Kremlin spokesman Dmitry Peskov said Friday.'
QUAKE = "How many people died in the Nepal earthquake?"


def answer(question: str, *quotes: str, article: str = "a1") -> Answer:
    citations = tuple(Citation(1, article, "Title", None, None, None, q, 0, len(q)) for q in quotes)
    return Answer(question, bool(quotes), "", citations)


def after(first: str, *quotes: str, article: str = "a1") -> Conversation:
    """A conversation whose one turn is ``first``, answered with ``quotes`` from ``article``."""
    opening = rewrite(first, Conversation(), now=NOW)
    return Conversation().add(record_turn(opening, answer(first, *quotes, article=article), now=NOW))


def read(question: str, conversation: Conversation) -> str:
    return rewrite(question, conversation, now=NOW).question


# -- the conversation record ----------------------------------------------------------------------


def test_conversation_keeps_only_the_last_turns():
    """should drop the oldest turns past max_turns."""
    conversation = Conversation()
    for i in range(MAX_TURNS + 2):
        conversation = conversation.add(Turn(question=f"q{i}", rewritten=f"q{i}", asked_at=NOW))
    assert [t.question for t in conversation.turns] == [f"q{i}" for i in range(2, MAX_TURNS + 2)]


def test_conversation_round_trips_through_json():
    """should serialise to JSON and back unchanged, so that a store can keep it."""
    conversation = after(PESKOV, PESKOV_QUOTE)
    assert Conversation.model_validate_json(conversation.model_dump_json()) == conversation


def test_conversation_expires_after_its_ttl():
    """should forget the previous turn once the conversation has expired."""
    conversation = after(PESKOV, PESKOV_QUOTE)
    assert conversation.expires_at == NOW + conversation.ttl
    assert conversation.last(NOW + conversation.ttl - timedelta(seconds=1)) is not None
    assert conversation.last(NOW + conversation.ttl) is None
    late = rewrite("What else did he say?", conversation, now=NOW + timedelta(hours=1))
    assert late == Rewrite("What else did he say?", "What else did he say?", False)


def test_turn_records_the_speaker_topic_and_cited_articles():
    """should keep the asked speaker, the topic phrase and the cited articles once each, in order."""
    reply = Answer(
        PESKOV,
        True,
        "",
        tuple(
            Citation(n, aid, "T", None, None, None, PESKOV_QUOTE, 0, len(PESKOV_QUOTE))
            for n, aid in ((1, "a2"), (2, "a1"), (1, "a2"))
        ),
    )
    turn = record_turn(rewrite(PESKOV, Conversation(), now=NOW), reply, now=NOW)
    assert (turn.speaker, turn.topic, turn.article_ids, turn.quoted) == (
        "Peskov",
        "the strikes",
        ("a2", "a1"),
        ("Dmitry Peskov",),
    )


@pytest.mark.parametrize(
    ("follow_up", "avoided"),
    [
        pytest.param("What else did he say?", True, id="else"),
        pytest.param("did he say anything more?", True, id="more"),
        pytest.param("And the Kremlin?", False, id="ellipsis"),
        pytest.param("Why?", False, id="event"),
    ],
)
def test_what_else_avoids_the_quotes_already_shown(follow_up: str, avoided: bool):
    """should record the quotes an answer showed, and pass them on to avoid only when more is asked for."""
    conversation = after(PESKOV, PESKOV_QUOTE)
    (turn,) = conversation.turns
    assert turn.shown == (("a1", 0, len(PESKOV_QUOTE)),)
    assert rewrite(follow_up, conversation, now=NOW).avoid == (turn.shown if avoided else ())
    assert Conversation.model_validate_json(conversation.model_dump_json()).turns[0].shown == turn.shown


def test_a_second_what_else_skips_what_both_answers_showed():
    """should carry the quotes skipped by one "what else" into the next, instead of showing the first again."""
    conversation = after(PESKOV, PESKOV_QUOTE)
    more = rewrite("What else did he say?", conversation, now=NOW)
    other = '"It is sad," Peskov said.'
    second = record_turn(more, answer(more.question, other, article="a2"), now=NOW)
    assert second.shown == (("a1", 0, len(PESKOV_QUOTE)), ("a2", 0, len(other)))
    assert rewrite("What else did he say?", conversation.add(second), now=NOW).avoid == second.shown
    fresh = record_turn(rewrite("And Lavrov?", conversation, now=NOW), answer("q", other), now=NOW)
    assert fresh.shown == (("a1", 0, len(other)),)  # not a "what else": only its own quotes


def test_turn_takes_the_quoted_person_when_nobody_was_asked_about():
    """should use the main person of the answer's quotes as the speaker of a question that named none."""
    turn = after(QUAKE, "More than 8,000 people died, Home Minister Bam Dev Gautam said.").turns[-1]
    assert (turn.speaker, turn.topic) == ("Bam Dev Gautam", "the Nepal earthquake")


def test_unanswered_turn_has_no_quoted_speaker_or_articles():
    """should leave speaker and articles empty when the answer abstained."""
    turn = after(QUAKE).turns[-1]
    assert (turn.speaker, turn.quoted, turn.article_ids) == (None, (), ())


# -- the patterns ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("follow_up", "expected", "rule"),
    [
        pytest.param("What else did he say?", "What else did Peskov say about the strikes?", "reference", id="he-else"),
        pytest.param(
            "did she say anything about the budget?",
            "Did Peskov say anything about the budget?",
            "reference",
            id="she-new-topic",
        ),
        pytest.param("What is his job?", "What is Peskov's job?", "reference", id="his"),
        pytest.param("What happened to her?", "What happened to Peskov?", "reference", id="her-object"),
        pytest.param("where does her office stand?", "Where does Peskov's office stand?", "reference", id="her-poss"),
        pytest.param("What did they say?", "What did Peskov say about the strikes?", "reference", id="they"),
        pytest.param("How much did it cost?", "How much did the strikes cost?", "reference", id="it-subject"),
        pytest.param(
            "What did Obama say about that?", "What did Obama say about the strikes?", "reference", id="that-object"
        ),
        pytest.param(
            "And the Kremlin?", "What did the Kremlin say about the strikes?", "ellipsis-speaker", id="and-org"
        ),
        pytest.param(
            "what about merkel?", "What did merkel say about the strikes?", "ellipsis-speaker", id="about-name"
        ),
        pytest.param(
            "and the foreign minister?",
            "What did the foreign minister say about the strikes?",
            "ellipsis-speaker",
            id="and-role",
        ),
        pytest.param(
            "what about the budget?", "What did Peskov say about the budget?", "ellipsis-topic", id="about-topic"
        ),
        pytest.param("Why?", "Why did Peskov say that about the strikes?", "event", id="why"),
        pytest.param("When was that?", "When did Peskov say that about the strikes?", "event", id="when-was-that"),
        pytest.param("where?", "Where did Peskov say that about the strikes?", "event", id="where"),
    ],
)
def test_follow_ups_of_a_speaker_question(follow_up: str, expected: str, rule: str):
    """should resolve pronouns, ellipses and event questions against "what did Peskov say about the strikes"."""
    result = rewrite(follow_up, after(PESKOV, PESKOV_QUOTE, article="a7"), now=NOW)
    assert (result.question, result.rewritten, result.rule, result.search_first) == (expected, True, rule, ("a7",))
    assert result.read_as == f"Read as: {expected}"


@pytest.mark.parametrize(
    ("follow_up", "expected"),
    [
        pytest.param("when was that?", "When was the Nepal earthquake?", id="when"),
        pytest.param("Where?", "Where was the Nepal earthquake?", id="where"),
        pytest.param("and why?", "Why did the Nepal earthquake happen?", id="why"),
        pytest.param("and the 2010 Haiti earthquake?", "How many people died in the 2010 Haiti earthquake?", id="and"),
        pytest.param("what about in India?", "How many people died in India?", id="preposition"),
        pytest.param(
            "What did the government say about it?",
            "What did the government say about the Nepal earthquake?",
            id="it-object",
        ),
    ],
)
def test_follow_ups_of_a_fact_question(follow_up: str, expected: str):
    """should substitute the topic of a question that asked about nobody."""
    assert read(follow_up, after(QUAKE)) == expected


def test_event_of_a_do_question_repeats_its_clause():
    """should ask "when" of the previous question's own clause when it has an auxiliary."""
    assert read("When?", after("Why did the port strike end?")) == "When did the port strike end?"


def test_resolves_to_the_quoted_person_when_no_speaker_was_asked():
    """should read "he" as the main person quoted in the previous answer."""
    conversation = after(QUAKE, "More than 8,000 people died, Home Minister Bam Dev Gautam said.")
    assert read("What else did he say?", conversation) == "What else did Bam Dev Gautam say about the Nepal earthquake?"


def test_follow_on_speaker_question_takes_the_topic():
    """should give "what did X say back?" the previous topic, and rule it carried-topic."""
    result = rewrite("what did the houthis say back?", after(PESKOV, PESKOV_QUOTE), now=NOW)
    assert (result.question, result.rule) == ("What did the houthis say back about the strikes?", "carried-topic")


def test_unresolvable_pronoun_is_a_follow_up_left_as_typed():
    """should search the previous articles first but keep a pronoun it has nothing to replace with."""
    result = rewrite("what did he say?", after(QUAKE, "The toll rose overnight.", article="a3"), now=NOW)
    assert result == Rewrite("what did he say?", "what did he say?", False, "reference", ("a3",))


# -- standalone questions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        pytest.param("What did Obama say about Syria?", id="own-speaker"),
        pytest.param("what did obama say", id="own-speaker-no-topic"),
        pytest.param("What did Obama do after his speech?", id="own-antecedent"),
        pytest.param("what did the school district say when it apologised for the pledge", id="it-in-a-clause"),
        pytest.param("how old is the jawbone they found in ethiopia", id="they-in-a-clause"),
        pytest.param("how did netanyahu pull it off", id="it-object-of-a-verb"),
        pytest.param("is it true that the port reopened?", id="dummy-it"),
        pytest.param("who signed that deal?", id="that-determiner"),
        pytest.param("How many people died in the Haiti earthquake?", id="fact"),
        pytest.param("and what did the ministry announce about pensions?", id="full-question-after-and"),
        pytest.param("what are the latest news about the euro", id="recency"),
    ],
)
def test_standalone_questions_stay_unchanged(question: str):
    """should leave a question with its own subject exactly as typed, with no articles to search first."""
    assert rewrite(question, after(PESKOV, PESKOV_QUOTE), now=NOW) == Rewrite(question, question, False)


def test_no_previous_turn_leaves_every_question_alone():
    """should not rewrite even a pronoun question when the conversation is empty."""
    assert rewrite("What else did he say?", Conversation(), now=NOW) == Rewrite(
        "What else did he say?", "What else did he say?", False
    )


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_comes_back_unchanged(question: str):
    """should return an empty question as it is (validation is the engine's job)."""
    assert rewrite(question, after(PESKOV, PESKOV_QUOTE), now=NOW) == Rewrite(question, question, False)


def test_long_standalone_question_is_unchanged():
    """should leave a 1,000-character standalone question as it is."""
    question = ("What did Obama say about the strikes and the budget " * 30)[: MAX_QUESTION_CHARS - 1] + "?"
    assert len(question) == MAX_QUESTION_CHARS
    assert rewrite(question, after(PESKOV, PESKOV_QUOTE), now=NOW) == Rewrite(question, question, False)


def test_rewrite_that_would_be_too_long_keeps_the_question():
    """should not lengthen a follow-up past the question limit, but still search the previous articles first."""
    question = "What is his view on " + "the budget and " * 60 + "taxes?"
    assert len(question) <= MAX_QUESTION_CHARS
    topic = "x" * 990
    conversation = Conversation().add(
        Turn(question="q", rewritten="q", speaker=topic, topic=None, article_ids=("a9",), asked_at=NOW)
    )
    result = rewrite(question, conversation, now=NOW)
    assert (result.question, result.rewritten, result.rule, result.search_first) == (
        question,
        False,
        "reference",
        ("a9",),
    )


# -- regressions ----------------------------------------------------------------------------------


def test_ampersand_names_are_one_word():
    """should read "the v&a" as one phrase, not "v" and the article "a" (topic was "a about")."""
    frame = parse_frame("what's the mcqueen exhibition at the v&a about")
    assert frame.topic is not None
    assert frame.phrase(frame.topic) == "the v&a"


def test_verb_ending_a_do_question_is_not_topic():
    """should not take "add" into the topic of "how many jobs did the US add" (it became "did unemployment")."""
    frame = parse_frame("how many jobs did the US add in October")
    assert frame.topic is not None
    assert frame.phrase(frame.topic) == "the US"


def test_subject_and_object_pronouns_are_not_one_person():
    """should resolve the subject of "how much did they sell him for" but not make "him" the same entity."""
    conversation = Conversation().add(
        Turn(question="q", rewritten="what did the club say", speaker="Liverpool", topic="the fee", asked_at=NOW)
    )
    assert read("and how much did they sell him for?", conversation) == "How much did Liverpool sell him for?"


def test_possessive_is_no_speaker():
    """should not take "McQueen's" for the speaker of a quotation."""
    assert quoted_speakers(["McQueen's sister said the show was a triumph."]) == ()


@pytest.mark.parametrize(
    ("quote", "speakers"),
    [
        pytest.param(PESKOV_QUOTE + ' "It is bad," Peskov added.', ("Dmitry Peskov",), id="surname-merged"),
        pytest.param("The talks failed, said Foreign Secretary Philip Hammond.", ("Philip Hammond",), id="after-verb"),
        pytest.param("An official told CNN the talks failed.", (), id="listener-is-no-speaker"),
        pytest.param("But Kerry, the US envoy, warned of delays.", ("Kerry",), id="apposition"),
        pytest.param("He said the talks failed.", (), id="pronoun"),
    ],
)
def test_quoted_speakers(quote: str, speakers: tuple[str, ...]):
    """should find who a quotation is attributed to."""
    assert quoted_speakers([quote]) == speakers


# -- ten more hand-made follow-up pairs (not eval data) ------------------------------------------

MY_PAIRS = [
    (
        "What did the mayor say about the flooding?",
        "and the fire brigade?",
        "What did the fire brigade say about the flooding?",
    ),
    (
        "What did the mayor say about the flooding?",
        "what about the clean-up costs?",
        "What did the mayor say about the clean-up costs?",
    ),
    (
        "What did the mayor say about the flooding?",
        "When did she say it?",
        "When did the mayor say that about the flooding?",
    ),
    ("Who won the election in Nigeria last week?", "and in Ghana?", "Who won the election in Ghana last week?"),
    ("Who won the election in Nigeria last week?", "when was that?", "When was the election in Nigeria?"),
    (
        "What did Merkel say about the refugee deal?",
        "Did she mention Turkey?",
        "Did Merkel mention Turkey?",
    ),
    (
        "What did Merkel say about the refugee deal?",
        "what about Cameron?",
        "What did Cameron say about the refugee deal?",
    ),
    ("How much did the new stadium cost?", "who paid for it?", "Who paid for the new stadium?"),
    ("What did the coach say about the injury?", "how long will he be out?", "How long will the coach be out?"),
    (
        "What did the airline say about the delays?",
        "what did the passengers say back?",
        "What did the passengers say back about the delays?",
    ),
]


@pytest.mark.parametrize(("first", "follow_up", "expected"), MY_PAIRS)
def test_hand_made_follow_ups(first: str, follow_up: str, expected: str):
    """should read each follow-up of a hand-made conversation as the standalone question written beside it."""
    assert read(follow_up, after(first)) == expected
