from __future__ import annotations

import json

import pytest

from index.attribution import Attribution, dumps, extract_attributions, loads, speakers_by_sentence
from index.quotes import quote_spans
from index.sentences import split_sentences
from index.speakers import institution_match, speaker_match


def _table(text: str) -> list[tuple[str, str, str]]:
    """(kind, speaker, quoted text) per attribution."""
    return [(a.kind, a.speaker, text[a.start : a.end]) for a in extract_attributions(text, split_sentences(text))]


def _speaker_of(text: str, quoted: str) -> str | None:
    """The speaker of the attribution whose span is exactly ``quoted``."""
    found = [a.speaker for a in extract_attributions(text, split_sentences(text)) if text[a.start : a.end] == quoted]
    assert len(found) <= 1
    return found[0] if found else None


def _attribution(speaker: str, *roles: str) -> Attribution:
    return Attribution(start=0, end=1, sentence=0, last_sentence=0, speaker=speaker, roles=roles)


# --- the hard cases of issue 11 -------------------------------------------------------------------


def test_the_president_resolves_to_the_person_given_that_title():
    """should give a quote ending ', the President said.' to the president named earlier."""
    text = (
        "U.S. President Barack Obama has hailed the cooperation. "
        '"The alternative would be for us to play whack-a-mole every time," the President said.'
    )
    assert _table(text) == [
        ("direct", "Barack Obama", '"The alternative would be for us to play whack-a-mole every time,"')
    ]


def test_he_said_resolves_to_the_speaker_named_sentences_earlier():
    """should resolve 'he said' to the person named two sentences before, skipping a body in between."""
    text = (
        "One of the victims was former NFL player Frank Garcia. "
        "When the Treasury Department called, it sounded authentic. "
        '"I thought I was going to jail," he recalled.'
    )
    attributions = extract_attributions(text, split_sentences(text))
    assert [(a.speaker, a.roles, a.cue) for a in attributions] == [("Frank Garcia", ("former NFL player",), "he")]


def test_she_skips_a_man_named_later():
    """should resolve 'she' to the woman, not to the man named after her."""
    text = (
        "Lisa Block, a spokeswoman for the Texas police, met Mr Roland Herwig on Sunday. "
        '"We received calls from residents," she said.'
    )
    assert _speaker_of(text, '"We received calls from residents,"') == "Lisa Block"


def test_appositive_role_is_recorded_and_matches_a_role_question():
    """should keep 'chief executive of the Alzheimer's Society' and match 'the head of the Alzheimer's Society'."""
    text = "Jeremy Hughes, chief executive of the Alzheimer's Society, said the figures were alarming."
    [attribution] = extract_attributions(text, split_sentences(text))
    assert (attribution.kind, attribution.speaker, text[attribution.start : attribution.end]) == (
        "reported",
        "Jeremy Hughes",
        "the figures were alarming",
    )
    assert attribution.roles == ("chief executive of the Alzheimer's Society",)
    assert speaker_match("the head of the Alzheimer's Society", attribution) == 0.9


@pytest.mark.parametrize(
    ("sentence", "speaker", "role"),
    [
        pytest.param('"We are concerned," Kremlin spokesman Dmitry Peskov said.', "Dmitry Peskov", "Kremlin spokesman"),
        pytest.param('"We were robbed," said Chelsea manager Jose Mourinho.', "Jose Mourinho", "Chelsea manager"),
        pytest.param('"I will not resign," Prime Minister Tony Blair said.', "Tony Blair", "Prime Minister"),
        pytest.param('"It is done," said Aden Gov. AbdulAziz Hobtour.', "AbdulAziz Hobtour", "Aden Gov."),
    ],
)
def test_pre_nominal_titles_are_split_from_the_name(sentence: str, speaker: str, role: str) -> None:
    """should name the person without the title and keep the title as a role."""
    [attribution] = extract_attributions(sentence, split_sentences(sentence))
    assert (attribution.speaker, attribution.roles) == (speaker, (role,))


def test_surname_resolves_to_the_full_name_and_the_spokesman_to_the_person():
    """should give 'Peskov added' and 'the spokesman told' to the full name introduced earlier."""
    text = (
        "Dmitry Peskov is the Kremlin spokesman. The talks failed on Friday. "
        '"We are very sorry," Peskov added. "We are concerned," the spokesman told reporters.'
    )
    assert _table(text) == [
        ("direct", "Dmitry Peskov", '"We are very sorry,"'),
        ("direct", "Dmitry Peskov", '"We are concerned,"'),
    ]


def test_the_42_year_old_resolves_through_an_age_appositive():
    """should resolve 'the 42-year-old' to the person the article gave that age."""
    text = "Dale Barlow, 42, was arrested. Police praised John Smith. " + '"I did nothing," the 42-year-old said.'
    assert _speaker_of(text, '"I did nothing,"') == "Dale Barlow"


# --- reported speech --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "speaker", "reported"),
    [
        pytest.param("Camus said that the scam is growing.", "Camus", "the scam is growing", id="said-that"),
        pytest.param("Camus said the scam is growing fast.", "Camus", "the scam is growing fast", id="said"),
        pytest.param(
            "The scam is growing, according to Timothy Camus.", "Timothy Camus", "The scam is growing", id="according"
        ),
        pytest.param(
            "According to court documents, Durst had $40,000 in cash.",
            "court documents",
            "Durst had $40,000 in cash",
            id="according-first",
        ),
        pytest.param(
            "Garcia told CNN the swindlers never hung up.", "Garcia", "the swindlers never hung up", id="told"
        ),
        pytest.param("The losses were huge, said Timothy Camus.", "Timothy Camus", "The losses were huge", id="said-x"),
        pytest.param(
            "The losses were huge, the U.S. State Department said.",
            "U.S. State Department",
            "The losses were huge",
            id="org",
        ),
        pytest.param(
            "Often, Camus says, immigrants are targeted.", "Camus", "immigrants are targeted", id="parenthetical"
        ),
        pytest.param(
            "The jail is full, a law enforcement official told CNN on Monday.",
            "law enforcement official",
            "The jail is full",
            id="description",
        ),
    ],
)
def test_reported_speech_forms(text: str, speaker: str, reported: str) -> None:
    """should find the speaker and the reported words of each common form."""
    assert _table(text) == [("reported", speaker, reported)]


def test_x_the_role_said_and_he_added():
    """should read 'X, the role, said' and carry the speaker to 'He added'."""
    text = (
        "Rod Eddington, BA's chief executive, said the results were respectable. "
        "He added that fuel costs had risen sharply."
    )
    attributions = extract_attributions(text, split_sentences(text))
    assert [(a.speaker, text[a.start : a.end]) for a in attributions] == [
        ("Rod Eddington", "the results were respectable"),
        ("Rod Eddington", "fuel costs had risen sharply"),
    ]
    assert attributions[0].roles == ("BA's chief executive",)


def test_noun_object_verbs_are_not_speech_without_a_clause():
    """should not read 'announced the decision in Delhi' as reported speech."""
    assert _table("Kamal Nath announced the decision in Delhi on Thursday.") == []


def test_quote_followed_by_forward_reported_speech_is_not_attributed_to_it():
    """should not give a quote to the speaker of the next sentence's 'X said many people ...' (regression)."""
    text = 'Al Cadenhead was a victim. "How do I know they are not serious?" Camus said many people are afraid.'
    assert _speaker_of(text, '"How do I know they are not serious?"') is None


@pytest.mark.parametrize(
    ("text", "speaker", "reported"),
    [
        pytest.param(
            "It was met with protests by the National Council for Adoption, which said it exploits emotions.",
            "National Council for Adoption",
            "it exploits emotions",
            id="which-said",
        ),
        pytest.param(
            "A Coast Guard spokeswoman could not say where they were, but said the search was focused south.",
            "Coast Guard spokeswoman",
            "the search was focused south",
            id="but-said",
        ),
        pytest.param(
            "Fox producers defended the show, saying it was a positive experience.",
            "Fox producers",
            "it was a positive experience",
            id="participle",
        ),
        pytest.param(
            "An attorney for the Mahmood family said the family was horrified.",
            "attorney for the Mahmood family",
            "the family was horrified",
            id="family-is-not-an-adverb",
        ),
    ],
)
def test_reported_speech_regressions(text: str, speaker: str, reported: str) -> None:
    """should find speakers that dev articles showed were missed or garbled."""
    assert [(a.speaker, a.kind) for a in extract_attributions(text, split_sentences(text))][-1:] == [
        (speaker, "reported")
    ]
    assert [text[a.start : a.end] for a in extract_attributions(text, split_sentences(text))][-1] == reported


def test_said_followed_by_a_possessive_is_not_an_inverted_speaker():
    """should read 'X, ROLE, said Hadi's speech ...' as X reporting, not as 'said Hadi' (regression)."""
    text = "Mohammed Al Bukhaiti, a top member of the Houthi council, said Hadi's speech will not help Yemen."
    assert _table(text) == [("reported", "Mohammed Al Bukhaiti", "Hadi's speech will not help Yemen")]


def test_that_after_a_preposition_is_a_determiner():
    """should keep 'His lawyer in that case' whole rather than stopping at 'that' (regression)."""
    text = "His lawyer in that case told the AP he had not spoken to Barlow in a year."
    assert _table(text) == [("reported", "lawyer in that case", "he had not spoken to Barlow in a year")]


def test_name_after_a_described_head_and_its_appositive():
    """should name the speaker in 'my friend's 7-year-old son, Nicolas, exclaimed' (regression)."""
    text = '"This guy was rich!" my friend\'s 7-year-old son, Nicolas, exclaimed.'
    assert _table(text) == [("direct", "Nicolas", '"This guy was rich!"')]


def test_rank_with_an_ordinal_is_split_from_the_name():
    """should name 'Mass Communication Specialist 3rd Class David Frederick' David Frederick (regression)."""
    text = 'Mass Communication Specialist 3rd Class David Frederick drew the logo. "I am honored," he said.'
    assert _table(text) == [("direct", "David Frederick", '"I am honored,"')]


def test_quote_closing_a_nested_quote_takes_the_attribution_after_it():
    """should read the attribution after ',' "' (a nested quote closed at the end) (regression)."""
    text = "Chris Bolt spoke. \"It is not because the Navy said, 'Do this for fun,' \" Spike Call said."
    assert _speaker_of(text, "\"It is not because the Navy said, 'Do this for fun,' \"") == "Spike Call"


def test_quote_inside_a_description_takes_its_describer():
    """should give 'X described them as doing "remarkably well."' to X (regression)."""
    text = 'Marleigh Meisner described them as doing "remarkably well."'
    assert _table(text) == [("direct", "Marleigh Meisner", '"remarkably well."')]


def test_denial_is_not_read_backwards():
    """should not give the clause before 'charges X has denied' to X."""
    text = "Critics have accused Ankara of supporting the group, charges the Turkish government has angrily denied."
    assert _table(text) == []


def test_the_27_year_old_austrian_is_a_description_not_a_name():
    """should resolve 'the 27-year-old Austrian' to the person the article is about, not to 'Austrian'."""
    text = 'Stefan Koubek says he has been banned. "I have acted correctly," the 27-year-old Austrian said.'
    assert _speaker_of(text, '"I have acted correctly,"') == "Stefan Koubek"


def test_possessive_before_a_name_is_a_role():
    """should name 'CNN's Jim Boulden' Jim Boulden."""
    text = "The ruling may have implications, says CNN's Jim Boulden."
    [attribution] = extract_attributions(text, split_sentences(text))
    assert (attribution.speaker, attribution.roles) == ("Jim Boulden", ("CNN's",))


# --- direct quotations ------------------------------------------------------------------------------


def test_quote_split_around_its_attribution_and_continued_next_sentence():
    """should give both halves and the continuation to the speaker."""
    text = (
        'Matt Birkbeck wrote a book. "When I first heard that, I was shocked," Birkbeck told CNN, '
        '"and a little disturbed." "It is sad."'
    )
    assert _table(text) == [
        ("direct", "Matt Birkbeck", '"When I first heard that, I was shocked,"'),
        ("direct", "Matt Birkbeck", '"and a little disturbed."'),
        ("direct", "Matt Birkbeck", '"It is sad."'),
    ]


def test_quote_continued_in_the_next_paragraph():
    """should give an unattributed quotation that opens the next paragraph to the previous speaker."""
    text = '"We know the risks," commission head Inez Tenenbaum said.\n\n"This is the time of year."'
    assert _table(text) == [
        ("direct", "Inez Tenenbaum", '"We know the risks,"'),
        ("direct", "Inez Tenenbaum", '"This is the time of year."'),
    ]


def test_quote_after_a_sentence_about_its_speaker():
    """should give a whole-sentence quotation with no attribution to the speaker of the sentence before."""
    text = (
        'Henman said the team was strong. "It is tough," he said. But Henman urged Bogdanovic to seize his chance. '
        '"Alex is a quality player and he has to keep pushing."'
    )
    assert _speaker_of(text, '"Alex is a quality player and he has to keep pushing."') == "Henman"


def test_unclosed_quotation_runs_into_the_next_one():
    """should give the quotation after an unclosed one the same speaker (paragraphs joined into one)."""
    text = 'An Ajax spokesman told BBC Sport: "The coach must fit our profile. "We need a solution soon."'
    assert _table(text) == [
        ("direct", "Ajax spokesman", '"The coach must fit our profile. '),
        ("direct", "Ajax spokesman", '"We need a solution soon."'),
    ]


def test_titles_after_a_speech_sentence_are_not_attributed():
    """should not give a film title that opens a sentence to the previous sentence's speaker."""
    text = 'Critics said the film was weak. "Run All Night" opened in second place.'
    assert _speaker_of(text, '"Run All Night"') is None


def test_nested_single_quotes_stay_inside_one_quotation():
    """should treat 'How did a guy with a PhD fall victim?' as part of the outer quotation."""
    text = "\"People say 'How did a guy with a PhD fall victim?' I was the perfect victim,\" Al Cadenhead said."
    assert _table(text) == [
        ("direct", "Al Cadenhead", "\"People say 'How did a guy with a PhD fall victim?' I was the perfect victim,\"")
    ]


def test_titles_and_scare_quotes_are_not_attributed():
    """should not attribute film titles or scare quotes with no speech cue."""
    text = 'Liam Neeson\'s thriller "Run All Night" opened second. The "family" film did well.'
    assert _table(text) == []


def test_unbalanced_quote_ends_at_its_paragraph():
    """should close a quotation left open at the end of a paragraph and carry on after it."""
    text = 'Randy Mankin, editor of the paper, said: "This came totally out of\n\nThe ranch is large.'
    assert [text[s:e] for s, e in quote_spans(text)] == ['"This came totally out of']
    assert _table(text) == [("direct", "Randy Mankin", '"This came totally out of')]


def test_stray_quote_mark_does_not_swallow_the_article():
    """should resynchronise on the next opening mark after a closing-only stray mark."""
    text = 'He is 6\'2" tall. "We won," Smith said.'
    assert _table(text) == [("direct", "Smith", '"We won,"')]


# --- robustness -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        pytest.param("", [], id="empty"),
        pytest.param("Some text.", [], id="no-sentences"),
        pytest.param('"""', [(0, 3)], id="only-quotes"),
        pytest.param("said said said, said", [(0, 20)], id="only-verbs"),
        pytest.param('x" "said', [(0, 8)], id="quote-soup"),
        pytest.param("He said.", [(5, 500), (900, 1000)], id="spans-out-of-range"),
        pytest.param(", according to", [(0, 14)], id="according-to-nothing"),
    ],
)
def test_hostile_input_never_raises(text: str, sentences: list[tuple[int, int]]) -> None:
    """should return a (possibly empty) list for odd input."""
    assert isinstance(extract_attributions(text, sentences), list)


def test_very_long_text_without_sentence_breaks_is_handled():
    """should cope with a huge single 'sentence' of quotes and verbs."""
    text = ('"Yes," he said, according to ' * 20_000)[:300_000]
    attributions = extract_attributions(text, [(0, len(text))])
    assert all(0 <= a.start < a.end <= len(text) for a in attributions)


def test_every_span_is_inside_the_text_and_its_sentences():
    """should give offsets into the text that agree with the sentence indices."""
    text = 'Obama spoke. "It is hard," he said.\n\nAnalysts said the plan would fail, according to the AP.'
    sentences = split_sentences(text)
    for a in extract_attributions(text, sentences):
        assert sentences[a.sentence][0] <= a.start < a.end <= sentences[a.last_sentence][1]


# --- storage and views ------------------------------------------------------------------------------


def test_json_round_trip_is_compact():
    """should serialise without defaults and read back the same table."""
    text = '"We won," said Chelsea manager Jose Mourinho. Fans were happy.'
    attributions = extract_attributions(text, split_sentences(text))
    data = dumps(attributions)
    assert json.loads(data) == [
        {"start": 0, "end": 9, "sentence": 0, "last_sentence": 0, "speaker": "Jose Mourinho",
         "roles": ["Chelsea manager"], "cue": "Chelsea manager Jose Mourinho"}
    ]  # fmt: skip
    assert loads(data) == attributions


def test_speakers_by_sentence():
    """should list each sentence's quoted speakers once, in order."""
    text = '"A," Smith said. Jones said the plan failed. "B," Jones added, "and C."'
    assert speakers_by_sentence(extract_attributions(text, split_sentences(text))) == {
        0: ("Smith",),
        1: ("Jones",),
        2: ("Jones",),
    }


def test_he_said_prefers_the_story_subject_over_a_name_in_passing():
    """should give 'he said' to the player the story is about, not the opponent the last sentence names."""
    text = (
        "Top seed Roger Federer had to save two match points before squeezing past Juan Carlos Ferrero. "
        "Federer made a number of unforced errors early on. "
        "Federer was not unduly worried despite being taken to three sets. "
        "The world number one was forced to go the distance against Ivan Ljubicic in the Rotterdam final. "
        '"I definitely had a slow start again," he said.'
    )
    assert _speaker_of(text, '"I definitely had a slow start again,"') == "Roger Federer"


def test_he_said_still_takes_a_newly_named_subject():
    """should give 'he said' to the person just introduced as a sentence's subject, not the story's subject."""
    text = (
        "Roger Federer beat Ivo Minar. Federer was pleased. Federer next plays in Dubai. "
        "Tournament director Colm McLoughlin expects a full house. "
        '"Tickets sold out in a day," he said.'
    )
    assert _speaker_of(text, '"Tickets sold out in a day,"') == "Colm McLoughlin"


def test_possessive_name_and_events_are_not_misread():
    """should register 'Andre Agassi's' as Andre Agassi and never give a quote to the Australian Open."""
    text = (
        "Andre Agassi's involvement in the Australian Open was put in doubt. "
        "Agassi, who has won the Australian Open four times, will have a scan. "
        '"It\'s a pretty scary feeling," he said.'
    )
    assert _speaker_of(text, '"It\'s a pretty scary feeling,"') == "Andre Agassi"


# --- questions and matching -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "speaker", "roles", "score"),
    [
        ("Jeremy Hughes", "Jeremy Hughes", (), 1.0),
        ("Hughes", "Jeremy Hughes", (), 0.95),
        ("President Obama", "Barack Obama", ("U.S. President",), 0.95),
        ("Obama's", "Barack Obama", (), 0.95),
        ("Jeremy", "Jeremy Hughes", (), 0.6),
        ("Michelle Obama", "Barack Obama", (), 0.3),
        ("the head of the Alzheimer's Society", "Jeremy Hughes", ("chief executive of the Alzheimer's Society",), 0.9),
        ("Chelsea's manager", "Jose Mourinho", ("Chelsea manager",), 0.9),
        ("the Chelsea boss", "Jose Mourinho", ("Chelsea manager",), 0.9),
        ("the Arsenal manager", "Jose Mourinho", ("Chelsea manager",), 0.2),
        ("the Kremlin spokesman", "Dmitry Peskov", ("Kremlin spokesman",), 0.9),
        ("the prime minister", "Tony Blair", ("Prime Minister",), 0.7),
        ("the Alzheimer's Society", "Jeremy Hughes", ("chief executive of the Alzheimer's Society",), 0.75),
        ("Five", "Five spokesman", (), 0.75),
        ("kraft", "Lance Friedmann", ("Kraft senior vice president",), 0.75),
        ("Obama", "Susan Rice", ("Obama aide",), 0.3),
        ("blair", "Tony Blair", ("Prime Minister",), 0.95),
        ("euan murray", "Murray", (), 0.9),
        ("martyn williams", "Martyn Williams", ("Wales flanker",), 1.0),
        ("michelle obama", "Barack Obama", (), 0.3),
        ("the prime minister", "Tony Blair", ("Prime Minister",), 0.7),
        ("the chelsea boss", "Jose Mourinho", ("Chelsea manager",), 0.9),
        ("Obama", "Jeremy Hughes", ("chief executive of the Alzheimer's Society",), 0.0),
        ("court documents", "court documents", (), 1.0),
        ("martyn williams", "M Williams", (), 0.9),
        ("mark williams", "M Williams", (), 0.9),
        ("rhys williams", "M Williams", (), 0.3),
        ("wang wenlan", "Wang", (), 0.6),
        ("anil ambani", "Anil", (), 0.6),
        ("rochus annoyed about the line", "Olivier Rochus", (), 0.8),
        ("analysts like kain", "Phil Kain", (), 0.9),
    ],
)
def test_speaker_match(asked: str, speaker: str, roles: tuple[str, ...], score: float) -> None:
    """should score names, surnames, first names, synonymous roles of the same organisation and its spokesmen."""
    assert speaker_match(asked, _attribution(speaker, *roles)) == pytest.approx(score)


@pytest.mark.parametrize(
    ("asked", "speaker", "words", "score"),
    [
        ("Lycos", "company", {"lycos", "said"}, 0.6),
        ("what Lycos", "company", {"said"}, 0.0),
        ("Lycos", "Jeremy Hughes", {"lycos"}, 0.0),
        ("the Lycos spokesman", "company", {"lycos", "spokesman"}, 0.0),
    ],
)
def test_institution_match(asked: str, speaker: str, words: set[str], score: float) -> None:
    """should give "the company said" to the organisation asked about only when the article names it."""
    assert institution_match(asked, _attribution(speaker), frozenset(words)) == score
