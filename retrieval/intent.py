"""Messages that ask for no particular news: a request for help, or for "the news" in general.

People mention a news bot with "help", "what can you do", "any news?" or "what happened today". None of
these names a person, place or event, so whatever the search finds is a guess: before this, "help" was
answered with a quote about a Windows virus and "give me a summary of today's news" with two Tony Blair
quotes. ``intent`` recognises such a message when every word of it is from a short list (requests,
news words, time words, fillers); a single other word ("any news on ukraine", "what happened to the
hostages") makes it a question as before. The engine answers these with a pointer to what does the
job (the digest, the summary, an example question) instead of quotes; the text is plain, as the
bot escapes an answer's Markdown. The bot goes one step further for the news in general outside a
conversation and posts the digest itself (``bot.digests.asked_window``).
"""

from __future__ import annotations

import re
from enum import Enum

from index.roles import word_set

HELP = (
    "I answer questions about the indexed news with the articles' own sentences, each cited, for example "
    '"What did Peskov say about the strikes?". Ask about a person, a place or an event. For the main stories '
    "of a day ask for a digest (/digest in Discord, newsdesk digest --since 24h on the command line), for one "
    "article or topic a summary (/summary, newsdesk summarize)."
)
GENERAL_NEWS = (
    "That asks for the news in general, which no quote answers: a digest lists the main stories of a window "
    "with their sources (/digest in Discord, newsdesk digest --since 24h on the command line). Or ask about a "
    "person, a place or an event."
)


class Intent(Enum):
    """What a message asks for."""

    QUESTION = "question"  # a question about the news: searched and answered with quotes
    HELP = "help"  # how to use the bot
    GENERAL_NEWS = "general news"  # the news at large: a digest, not a quote


_WORD = re.compile(r"[a-z]+")
_FILLER = word_set(
    "a an the of in on at for to from about me us i we you u can could would will do does did is are was were "
    "be been there here it this that these those what whats which how so just some any anything all please pls "
    "plz thanks tell give show get gimme got know anyone anybody guys everyone bot newsdesk hey hi hello ok okay "
    "s whos who and or my our your with going new happening happened happen has have had up its let lets see "
    "quick brief short"
)
_NEWS = word_set(
    "news headline headlines latest story stories update updates summary summarise summarize summarised "
    "summarized recap digest today todays tonight yesterday yesterdays week weeks weekend morning month recent "
    "recently lately currently now world everything events event top big main important interesting "
    "trending breaking"
)
_HELP_PHRASE = re.compile(
    r"^(?:help(?:\s+me)?|commands?|usage|how\s+(?:do\s+i|does\s+this|do\s+you)\s+(?:use|work)(?:\s+(?:you|it|this))?"
    r"|what\s+(?:can|do)\s+you\s+do|what\s+are\s+you|who\s+are\s+you|how\s+does\s+this\s+(?:bot\s+)?work)$"
)
_MAX_WORDS = 12  # a longer message is a question, however general its words


def intent(text: str) -> Intent:
    """What ``text`` (a question already stripped of chat wrapping: ``retrieval.chat.plain``) asks for."""
    words = _WORD.findall(text.casefold().replace("'", "").replace("’", ""))
    if not words or len(words) > _MAX_WORDS:
        return Intent.QUESTION
    if _HELP_PHRASE.match(" ".join(words)):
        return Intent.HELP
    if all(w in _FILLER or w in _NEWS for w in words) and any(w in _NEWS for w in words):
        return Intent.GENERAL_NEWS
    return Intent.QUESTION
