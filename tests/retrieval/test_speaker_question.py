"""Finding who a question asks a quote of (``retrieval.speaker_question``), on the ways people ask."""

from __future__ import annotations

import pytest

from index.lexical import terms
from retrieval.question import analyse
from retrieval.speaker_question import SpeakerQuestion, question_speaker


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did Peskov say about the strikes?", SpeakerQuestion("Peskov", "the strikes")),
        ("What else did Peskov say about the strikes?", SpeakerQuestion("Peskov", "the strikes")),
        ("What exactly did Blair say?", SpeakerQuestion("Blair", "")),
        ("How did Obama respond to the attack?", SpeakerQuestion("Obama", "the attack")),
        ("What does Mourinho think of the referee?", SpeakerQuestion("Mourinho", "the referee")),
        ("What was Chelsea's manager's reaction to the defeat?", SpeakerQuestion("Chelsea's manager", "the defeat")),
        ("How does Tony Blair feel about the war?", SpeakerQuestion("Tony Blair", "the war")),
        ("What was said by the FAA about debris?", SpeakerQuestion("the FAA", "debris")),
        (
            "According to the head of the Alzheimer's Society, what is needed?",
            SpeakerQuestion("the head of the Alzheimer's Society", "needed"),
        ),
        ("What caused the crash, according to police?", SpeakerQuestion("police", "caused the crash")),
        (
            "What did the Kremlin spokesman tell reporters about Syria?",
            SpeakerQuestion("the Kremlin spokesman", "Syria"),
        ),
        ("Who won the match?", None),
        ("What did they say?", None),
        # the ways Discord users ask it (lower case, chatter, no auxiliary, possessives, stances)
        ("whats khatami's take on iran living off oil money", SpeakerQuestion("khatami", "iran living off oil money")),
        (
            "cowell's reaction to x factor getting a second series?",
            SpeakerQuestion("cowell", "x factor getting a second series"),
        ),
        ("gates' big message at ces", None),
        ("symantec guy's take on the spam warning", SpeakerQuestion("symantec guy", "the spam warning")),
        ("whats julie bishop saying about jake bilardi", SpeakerQuestion("julie bishop", "jake bilardi")),
        ("how are swedish unions taking the plant moves", SpeakerQuestion("swedish unions", "the plant moves")),
        ("why's mourinho moaning about the christmas fixtures", SpeakerQuestion("mourinho", "the christmas fixtures")),
        ("how did cage take losing the charity money", SpeakerQuestion("cage", "losing the charity money")),
        (
            "hows jon stewart feel about trevor noah taking over",
            SpeakerQuestion("jon stewart", "trevor noah taking over"),
        ),
        ("is li keqiang worried about the chinese economy", SpeakerQuestion("li keqiang", "the chinese economy")),
        ("how confident is davey about the lib dems chances", SpeakerQuestion("davey", "the lib dems chances")),
        ("did parker rice ever apologize for the chant", SpeakerQuestion("parker rice", "the chant")),
        ("is bmw doing hybrids? what did panke say", SpeakerQuestion("panke", "")),
        ("hey what did greenspan say about house prices", SpeakerQuestion("greenspan", "house prices")),
        ("tell me what peskov said about the strikes", SpeakerQuestion("peskov", "the strikes")),
        ("mauresmo on taking the murray coaching job", SpeakerQuestion("mauresmo", "taking the murray coaching job")),
        (
            "rosberg say anything about hamilton before melbourne",
            SpeakerQuestion("rosberg", "hamilton before melbourne"),
        ),
        # added after the fourth training: subject first, "where does X stand", "any word from X", possessives
        # typed without the apostrophe; and look-alikes that ask for a name, not a quote
        ("greenspan worried about the boomers retiring or what", SpeakerQuestion("greenspan", "the boomers retiring")),
        ("roddick happy with his form?", SpeakerQuestion("roddick", "his form")),
        ("where does abc stand on the lawsuit", SpeakerQuestion("abc", "the lawsuit")),
        ("any update from the wales physio on martyn williams", SpeakerQuestion("the wales physio", "martyn williams")),
        ("whats ronnie corbetts problem with tv nowadays", SpeakerQuestion("ronnie corbett", "tv nowadays")),
        ("how did the kremlin spokesman brush off the rumours", SpeakerQuestion("the kremlin spokesman", "")),
        (
            "how confident was the brentford boss before the replay",
            SpeakerQuestion("the brentford boss", "the replay"),
        ),
        # not asking what somebody said
        ("whats the news on the strikes", None),
        ("whats the walking dead spinoff called", None),
        ("What is Mexican currency called?", None),
        ("what is his defense", None),
        ("who was the first sec of state to use official email", None),
        ("how many people worried about the flu", None),
        ("news on the hurricane?", None),
        ("what did the fed put rates up to", None),
        ("when did wales last win a grand slam", None),
        ("whats the biggest issue for israeli voters", None),
        ("who would pay more income tax under kennedy's plan", None),
    ],
)
def test_question_speaker(question: str, expected: SpeakerQuestion | None) -> None:
    """should find the speaker phrase and the topic, however casually asked, or nothing when none is asked about."""
    assert question_speaker(question) == expected


@pytest.mark.parametrize(
    "question",
    [
        "What was Chelsea's manager's reaction to the defeat?",
        "How does Tony Blair feel about the war?",
        "What was said by the FAA about debris?",
        "whats julie bishop saying about jake bilardi",
        "What did Peskov say about the strikes?",
    ],
)
def test_analyse_takes_its_speaker_from_question_speaker(question: str) -> None:
    """should give the question's speaker terms from the one speaker parser."""
    asked = question_speaker(question)
    assert asked is not None
    assert analyse(question).speaker_terms == tuple(terms(asked.speaker))
