"""The question-set rows, validated at the file boundary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Kind = Literal["speaker", "fact", "refuse"]
KINDS: tuple[Kind, ...] = ("speaker", "fact", "refuse")
#: An ``absent`` entry: a phrase no corpus article contains, or phrases no single article contains together.
Absence = str | list[str]


class _Row(BaseModel):
    """What every row shares: the expected article and the answer key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    qid: str = Field(min_length=1)
    kind: Kind
    article_id: str | None
    expected: list[str]
    absent: list[Absence] = Field(default_factory=list)
    #: Phrases of quotes that users judged wrong (``newsdesk feedback export``): a right answer does not lead with them.
    wrong: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _key_matches_kind(self) -> _Row:
        if self.kind == "refuse":
            if self.article_id is not None or self.expected:
                raise ValueError("a refusal names no article and expects no phrase")
            if not self.absent and not self.wrong:
                raise ValueError("a refusal lists what the corpus must not contain (absent) or what was judged wrong")
        elif not self.article_id or not [e for e in (*self.expected, *self.wrong) if e.strip()]:
            raise ValueError(f"a {self.kind} question needs article_id and expected (or judged wrong) phrases")
        return self


class UserQuestion(_Row):
    """One question of ``user.jsonl``."""

    question: str = Field(min_length=1)

    @property
    def asked(self) -> str:
        """The question itself."""
        return self.question


class Followup(_Row):
    """A two-turn conversation of ``followups.jsonl``, scored on its last turn.

    Until the engine keeps conversation context, the last turn is asked on its own: that is the
    baseline a conversation-aware version is compared with.
    """

    turns: list[str] = Field(min_length=2, max_length=2)

    @property
    def asked(self) -> str:
        """The follow-up turn, without the turn before it."""
        return self.turns[-1]


Row = UserQuestion | Followup


def is_question_set(records: list[dict[str, object]]) -> bool:
    """Whether raw JSON records are a question set of this package (rather than NewsQA questions)."""
    return bool(records) and all("kind" in r for r in records)


def parse_rows(records: list[dict[str, object]]) -> list[Row]:
    """Validate raw records: conversations carry ``turns``, single questions ``question``."""
    rows: list[Row] = [Followup.model_validate(r) if "turns" in r else UserQuestion.model_validate(r) for r in records]
    seen: set[str] = set()
    for row in rows:
        if row.qid in seen:
            raise ValueError(f"duplicate qid {row.qid!r}")
        seen.add(row.qid)
    return rows


def load_rows(path: Path) -> list[Row]:
    """Rows of a question-set file."""
    with path.open(encoding="utf-8") as fh:
        return parse_rows([json.loads(line) for line in fh if line.strip()])
