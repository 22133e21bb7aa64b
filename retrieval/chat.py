"""What a chat message wraps around a question: markup, links, emoji and laughter, taken off before it is read.

People ask in Discord the way they chat: "<@123> what did mourinho say about the ref??? lol <:kekw:8123…>",
"**what did blair say about the election**", a link pasted after the question. None of it is asked, yet
every part of it reached the search and the reader as words to match (the emoji's name and its 18-digit
id, "lol", the link's path), and measured on the development questions such noise cost up to a quarter
of the speaker questions their right answer. ``plain`` keeps the question's own words and drops the rest;
on a question typed without any of it, it changes nothing.

Only the syntax is read here (Discord's ``<...>`` tokens, Markdown markers, URLs, emoji code points):
this module knows nothing of discord.py, as ``retrieval`` never does.
"""

from __future__ import annotations

import re
import unicodedata

# Discord's tokens: custom emoji <:name:id> / <a:name:id>, mentions of users, roles and channels,
# slash-command mentions </name:id> and timestamps <t:1700000000:R>.
_DISCORD_TOKEN = re.compile(
    r"<a?:\w{1,32}:\d{5,21}>|<(?:@[!&]?|#)\d{5,21}>|</[\w -]{1,32}:\d{5,21}>|<t:-?\d{1,13}(?::\w)?>"
    r"|(?<!\w)@(?:everyone|here)\b"
)
# A greeting and somebody addressed by a typed handle before the question ("hey @newsdesk what did ...",
# "hi all, who won ..."); a handle inside the question ("what did @nasa tweet") is left to be read.
_GREETING = r"(?:hey|hi|hello|hiya|heya|yo|oi)(?:\s+(?:there|guys|all|folks|everyone|bot))?"
# ... when what follows shows it is one: punctuation, a line break, a handle or a question word ("hi-tech
# stocks", "Hi Tech's results" and "hello world cup" keep their first word).
_QUESTION_WORD = r"what|whats|what's|who|how|when|where|why|which|did|does|do|is|are|was|were|has|have|can|could|any"
_GREETED = rf"(?=\s*[,!.:\n]|\s+@|\s+(?:{_QUESTION_WORD}|anyone)\b)"
_ADDRESS = re.compile(rf"^(?:(?:{_GREETING}\b{_GREETED}|@[\w.-]{{2,32}})[\s,!.:-]*)+(?=\S)", re.IGNORECASE)
# Emoji typed by their short name (":thinking:"), as some clients and bridges send them.
_SHORTCODE = re.compile(r"(?<![\w:]):[a-z0-9_+-]{2,32}:(?![\w:])", re.IGNORECASE)
_URL = re.compile(r"<?(?:https?://|www\.)\S+>?", re.IGNORECASE)
# Markdown that Discord renders: bold, italics, underline, strike-through, spoilers, code; quote and heading markers.
# A backtick between letters is an apostrophe ("O`Donnell"), kept.
_MARKDOWN = re.compile(r"\*+|(?<!\w)_{1,2}|_{1,2}(?!\w)|~~|\|\||(?<!\w)`+|`+(?!\w)")
_LINE_MARKER = re.compile(r"^(?:>>>|>|#{1,3}|-#)\s+", re.MULTILINE)
# Emoticons standing alone: :) :( :D :P ;) xD :/ ^^ <3
_EMOTICON = re.compile(r"(?<!\S)(?:[:;]-?[()DPpOo3/\\|\]\[]+|[xX]D+|\^\^|<3+)(?!\S)")
# "???", "?!?!" and "!!!" say it once; a single "!?" may be part of a name ("E!?").
_REPEATED = re.compile(r"[?!]*\?[?!]*\?[?!]*|(!)!+")
# Laughter and the like, dropped at either end of a message (never inside it).
_LAUGH = r"lol+|lmao+|lmfao+|rofl|ha(?:ha)+h?|he(?:he)+|xd+|omg|smh|tbh|ngl|pls|plz|thx|tia|idk|hmm+|um+|uh+"
# Sign-offs that can also be the question's own last word ("did the fire hurt anyone"): dropped only after
# punctuation ("who won? anyone?", "what did she say, thanks").
_SIGN_OFF = r"anyone|anybody|any ideas?|please|thanks|ty|fr"
_TRAILING = re.compile(rf"(?:[\s,.!?-]*\b(?:{_LAUGH})\b|[,.!?-]+\s*\b(?:{_SIGN_OFF})\b)+[\s,.!?-]*$", re.IGNORECASE)
_LEADING = re.compile(rf"^(?:(?:{_LAUGH})\b[\s,.!-]*)+", re.IGNORECASE)


def _is_symbol(ch: str) -> bool:
    """Emoji, pictographs and the joiners and modifiers that build them (currency signs are kept)."""
    category = unicodedata.category(ch)
    return category == "So" or (category == "Sk" and ord(ch) > 0x2000) or ch in "\u200d\ufe0f\ufe0e\u20e3"


def plain(text: str) -> str:
    """The question in ``text`` without chat markup, links, emoji or laughter, on one line.

    The question mark of "...say??? lol" is kept (once); what is left of a message that held no words
    is the empty string, which ``retrieval.question.validate`` refuses with its own message.
    """
    text = _DISCORD_TOKEN.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _LINE_MARKER.sub("", text)
    text = _SHORTCODE.sub(" ", text)
    text = "".join(" " if _is_symbol(ch) else ch for ch in text)
    text = _MARKDOWN.sub("", text)
    text = _EMOTICON.sub(" ", text)
    text = re.sub(r"\s+", " ", _ADDRESS.sub("", text.strip())).strip()
    kept = _TRAILING.sub("", text)
    dropped_mark = "?" in text[len(kept) :]
    text = _REPEATED.sub(lambda m: m.group(1) or "?", _LEADING.sub("", kept)).strip(" ,-")
    if dropped_mark and text and not text.endswith(("?", "!", ".")):
        text += "?"
    return text
