"""The buttons under answers and lists, as data: what they do lives in their custom ids.

A custom id carries everything a click needs (``nd:vote:<answer id>:up``), so a button works in
any process that registered its pattern, including after a restart, and the bot keeps no
per-message state. Every id starts with ``nd:`` and stays far below Discord's 100 characters.
Forms (modals) are routed the same way, by ids starting with ``nd:m:``. This module is
Discord-free; ``bot/components.py`` turns these into discord.py items.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "CONTEXT",
    "FEEDBACK_PAGE",
    "FOLLOW_UP",
    "FORM_FOLLOW_UP",
    "FORM_REPORT",
    "MAX_CONTEXT_BUTTONS",
    "PREFIX",
    "REPORT",
    "VOTE",
    "AnswerControls",
    "PageControls",
    "context_id",
    "context_labels",
    "feedback_page_id",
    "follow_up_form_id",
    "follow_up_id",
    "report_form_id",
    "report_id",
    "vote_id",
]

PREFIX = "nd:"
_AID = r"(?P<answer_id>[0-9a-f]{12})"
FOLLOW_UP = rf"nd:fu:{_AID}"
VOTE = rf"nd:vote:{_AID}:(?P<direction>up|down)"
REPORT = rf"nd:report:{_AID}"
CONTEXT = rf"nd:ctx:{_AID}:(?P<index>[0-9]{{1,2}})"
FEEDBACK_PAGE = r"nd:fb:(?P<page>[0-9]{1,6})"
FORM_FOLLOW_UP = re.compile(rf"nd:m:fu:{_AID}")
FORM_REPORT = re.compile(rf"nd:m:report:{_AID}")
MAX_CONTEXT_BUTTONS = 5
"""One row of "Show context" buttons: the first five citations of an answer get one."""


def follow_up_id(answer_id: str) -> str:
    """The Follow-up button of an answer."""
    return f"nd:fu:{answer_id}"


def vote_id(answer_id: str, up: bool) -> str:
    """A vote button of an answer."""
    return f"nd:vote:{answer_id}:{'up' if up else 'down'}"


def report_id(answer_id: str) -> str:
    """The Report button of an answer."""
    return f"nd:report:{answer_id}"


def context_id(answer_id: str, index: int) -> str:
    """The Show context button of an answer's ``index``-th citation (0-based)."""
    return f"nd:ctx:{answer_id}:{index}"


def feedback_page_id(page: int) -> str:
    """A page of ``/feedback`` (0-based)."""
    return f"nd:fb:{page}"


def follow_up_form_id(answer_id: str) -> str:
    """The follow-up question form opened from an answer."""
    return f"nd:m:fu:{answer_id}"


def report_form_id(answer_id: str) -> str:
    """The report form opened from an answer."""
    return f"nd:m:report:{answer_id}"


@dataclass(frozen=True, slots=True)
class AnswerControls:
    """The buttons under an answer: follow-up, votes, report, and one Show context per citation.

    Attributes:
        answer_id: the stored answer they act on.
        contexts: labels of the Show context buttons, one per citation (at most ``MAX_CONTEXT_BUTTONS``).
    """

    answer_id: str
    contexts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PageControls:
    """Previous / next buttons of a paged list (``/feedback``), ``page`` 0-based of ``pages``."""

    page: int
    pages: int


def context_labels(numbers: Sequence[int]) -> tuple[str, ...]:
    """Labels of the Show context buttons for citations numbered ``numbers`` ("Context [1]", "Context [1] 2", ...).

    Two quotes from one article share its number, so the second gets a count.
    """
    totals = Counter(numbers)
    seen: Counter[int] = Counter()
    labels = []
    for n in numbers[:MAX_CONTEXT_BUTTONS]:
        seen[n] += 1
        labels.append(f"Context [{n}]" if totals[n] == 1 else f"Context [{n}] {seen[n]}")
    return tuple(labels)
