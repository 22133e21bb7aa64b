"""discord.py items for the buttons and forms of ``bot.controls``: persistent, routed by custom id.

Every button is a ``DynamicItem`` whose template is its custom-id pattern; ``NewsdeskBot``
registers them all at start (``DYNAMIC_ITEMS``), so a click on any message, however old and from
whatever process, reaches this one. A click only turns into a ``newsdesk_control`` event with the
parsed ``Action``: the talk cog handles it, through the same rate limit and error handler as the
slash commands. Views made here hold dynamic items only, so discord.py keeps no state per message.

Forms are routed the same way: the talk cog reads every submitted form whose custom id starts
with ``nd:m:`` in ``on_interaction`` (``form_values``), so a form opened before a restart is still
answered. The ``Modal`` classes only describe what the form shows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import discord

from bot.controls import (
    CONTEXT,
    FEEDBACK_PAGE,
    FOLLOW_UP,
    REPORT,
    VOTE,
    AnswerControls,
    PageControls,
    context_id,
    feedback_page_id,
    follow_up_form_id,
    follow_up_id,
    report_form_id,
    report_id,
    vote_id,
)
from index.feedbackstore import MAX_DETAILS_CHARS, REASONS
from retrieval.question import MAX_QUESTION_CHARS

__all__ = [
    "DYNAMIC_ITEMS",
    "Action",
    "FollowUpForm",
    "ReportForm",
    "controls_view",
    "form_values",
    "known_control",
]

ActionKind = Literal["follow_up", "vote", "report", "context", "page"]
CONTROL_EVENT = "newsdesk_control"


@dataclass(frozen=True, slots=True)
class Action:
    """What a click asks for: the kind, the answer it is about (if any) and its argument."""

    kind: ActionKind
    answer_id: str | None = None
    value: str | None = None


Button = discord.ui.Button[discord.ui.View]


class _Control(discord.ui.DynamicItem[Button], template=r"nd:(?!)"):
    """A button whose custom id says what it does; a click becomes a ``newsdesk_control`` event."""

    action: Action

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Hand the click to the talk cog (``on_newsdesk_control``)."""
        interaction.client.dispatch(CONTROL_EVENT, interaction, self.action)


class FollowUpButton(_Control, template=FOLLOW_UP):
    """Opens the follow-up form of an answer."""

    def __init__(self, answer_id: str) -> None:
        """The button of ``answer_id``."""
        super().__init__(Button(label="Follow-up", emoji="\N{SPEECH BALLOON}", custom_id=follow_up_id(answer_id)))
        self.action = Action("follow_up", answer_id)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FollowUpButton:
        """The button of a clicked custom id."""
        return cls(match["answer_id"])


class VoteButton(_Control, template=VOTE):
    """A thumbs up or down on an answer."""

    def __init__(self, answer_id: str, up: bool) -> None:
        """The up (or down) button of ``answer_id``."""
        emoji = "\N{THUMBS UP SIGN}" if up else "\N{THUMBS DOWN SIGN}"
        super().__init__(Button(emoji=emoji, custom_id=vote_id(answer_id, up)))
        self.action = Action("vote", answer_id, "up" if up else "down")

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> VoteButton:
        """The button of a clicked custom id."""
        return cls(match["answer_id"], match["direction"] == "up")


class ReportButton(_Control, template=REPORT):
    """Opens the report form of an answer."""

    def __init__(self, answer_id: str) -> None:
        """The button of ``answer_id``."""
        super().__init__(Button(label="Report", emoji="\N{TRIANGULAR FLAG ON POST}", custom_id=report_id(answer_id)))
        self.action = Action("report", answer_id)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ReportButton:
        """The button of a clicked custom id."""
        return cls(match["answer_id"])


class ContextButton(_Control, template=CONTEXT):
    """Shows one citation's quote inside its paragraph."""

    def __init__(self, answer_id: str, index: int, label: str = "Context") -> None:
        """The button of citation ``index`` (0-based) of ``answer_id``."""
        button = Button(label=label, emoji="\N{LEFT-POINTING MAGNIFYING GLASS}", custom_id=context_id(answer_id, index))
        super().__init__(button, row=1)
        self.action = Action("context", answer_id, str(index))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ContextButton:
        """The button of a clicked custom id."""
        return cls(match["answer_id"], int(match["index"]))


class PageButton(_Control, template=FEEDBACK_PAGE):
    """Goes to a page of ``/feedback``."""

    def __init__(self, page: int, label: str = "Page", *, disabled: bool = False) -> None:
        """The button that shows ``page`` (0-based)."""
        super().__init__(Button(label=label, custom_id=feedback_page_id(page), disabled=disabled))
        self.action = Action("page", None, str(page))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PageButton:
        """The button of a clicked custom id."""
        return cls(int(match["page"]))


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    FollowUpButton,
    VoteButton,
    ReportButton,
    ContextButton,
    PageButton,
)
_TEMPLATES = tuple(re.compile(template) for template in (FOLLOW_UP, VOTE, REPORT, CONTEXT, FEEDBACK_PAGE))


def known_control(custom_id: str) -> bool:
    """Whether a component custom id is one this bot handles."""
    return any(t.fullmatch(custom_id) for t in _TEMPLATES)


def controls_view(controls: AnswerControls | PageControls) -> discord.ui.View:
    """The buttons of an answer, or the previous / next buttons of a page."""
    view = discord.ui.View(timeout=None)
    if isinstance(controls, PageControls):
        page, last = controls.page, controls.pages - 1
        if last > 0:  # one page has no buttons (and two of one page would share a custom id)
            view.add_item(PageButton(max(page - 1, 0), "Previous", disabled=page <= 0))
            view.add_item(PageButton(min(page + 1, last), f"Next ({page + 1}/{controls.pages})", disabled=page >= last))
        return view
    aid = controls.answer_id
    for item in (VoteButton(aid, True), VoteButton(aid, False), FollowUpButton(aid), ReportButton(aid)):
        view.add_item(item)
    for i, label in enumerate(controls.contexts):
        view.add_item(ContextButton(aid, i, label))
    return view


class FollowUpForm(discord.ui.Modal):
    """The follow-up question form of an answer (submissions are read by the talk cog)."""

    question: discord.ui.TextInput[FollowUpForm] = discord.ui.TextInput(
        label="Your follow-up question",
        custom_id="question",
        placeholder="e.g. What else did he say?",
        style=discord.TextStyle.paragraph,
        min_length=1,
        max_length=MAX_QUESTION_CHARS,
    )

    def __init__(self, answer_id: str) -> None:
        """The form of ``answer_id``; it closes after ten minutes in this process, and is still read after."""
        super().__init__(title="Ask a follow-up", custom_id=follow_up_form_id(answer_id), timeout=600)


class ReportForm(discord.ui.Modal):
    """The report form of an answer: a reason, and details (needed for Other)."""

    reason: discord.ui.Label[ReportForm] = discord.ui.Label(
        text="What is wrong with this answer?",
        component=discord.ui.Select(
            custom_id="reason",
            placeholder="Pick a reason",
            options=[discord.SelectOption(label=label, value=key) for key, label in REASONS.items()],
            required=True,
        ),
    )
    details: discord.ui.Label[ReportForm] = discord.ui.Label(
        text="Details",
        description="Needed for Other; optional otherwise",
        component=discord.ui.TextInput(
            custom_id="details", style=discord.TextStyle.paragraph, required=False, max_length=MAX_DETAILS_CHARS
        ),
    )

    def __init__(self, answer_id: str) -> None:
        """The form of ``answer_id``."""
        super().__init__(title="Report this answer", custom_id=report_form_id(answer_id), timeout=600)


def form_values(components: Sequence[Mapping[str, Any]]) -> dict[str, str | list[str]]:
    """The values of a submitted form by input custom id: text inputs' text, selects' chosen values."""
    out: dict[str, str | list[str]] = {}
    for component in components:
        if component.get("type") == 1:
            out |= form_values(component.get("components") or [])
        elif component.get("type") == 18 and component.get("component"):
            out |= form_values([component["component"]])
        elif "custom_id" in component:
            values = component.get("values")
            out[str(component["custom_id"])] = (
                [str(v) for v in values] if values is not None else str(component.get("value") or "")
            )
    return out
